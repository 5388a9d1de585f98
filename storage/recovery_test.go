package storage

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"spool/record"
)

// crash abandons a log without Close, as a killed process would.
func crash(l *Log) {
	l.mu.Lock()
	l.closed = true
	l.releaseFiles()
	l.mu.Unlock()
}

func appendToFile(t testing.TB, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func TestRecoveryTruncatesTornTail(t *testing.T) {
	partial := makeBatch(t, batchSpec{records: 3, valueSize: 50})
	tails := map[string][]byte{
		"garbage":       bytes.Repeat([]byte{0xab}, 100),
		"partial batch": partial[:len(partial)-7],
		"short header":  partial[:30],
		"bad crc":       append(append([]byte(nil), partial[:len(partial)-1]...), partial[len(partial)-1]^1),
	}
	for name, tail := range tails {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			l := openTestLog(t, dir, smallConfig(), Options{})
			written := appendN(t, l, 100, 2, 100, tsIdentity)
			last := l.activeSeg()
			size, path := last.size, last.logPath
			crash(l)
			if name == "bad crc" {
				record.SetBaseOffset(tail, 200)
			}
			appendToFile(t, path, tail)
			l = openTestLog(t, dir, smallConfig(), Options{})
			defer l.Close()
			if l.LogEndOffset() != 200 {
				t.Fatalf("end %d after recovery", l.LogEndOffset())
			}
			if st, _ := os.Stat(path); st.Size() != size {
				t.Fatalf("tail not cut: %d bytes, want %d", st.Size(), size)
			}
			if got := readAllBatches(t, l); len(got) != len(written) {
				t.Fatalf("%d batches after recovery", len(got))
			}
			res, err := l.Append(makeBatch(t, batchSpec{records: 1, valueSize: 1}), 0, -1)
			if err != nil || res.FirstOffset != 200 {
				t.Fatalf("append after recovery %+v %v", res, err)
			}
		})
	}
}

func TestRecoveryRebuildsMissingIndexes(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, smallConfig(), Options{})
	written := appendN(t, l, 200, 2, 100, tsIdentity)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	idx, _ := filepath.Glob(filepath.Join(dir, "*.index"))
	tidx, _ := filepath.Glob(filepath.Join(dir, "*.timeindex"))
	if len(idx) < 3 {
		t.Fatalf("%d index files", len(idx))
	}
	for _, p := range append(idx, tidx...) {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	l = openTestLog(t, dir, smallConfig(), Options{})
	defer l.Close()
	for _, p := range idx[:len(idx)-1] {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Fatalf("index %s not rebuilt: %v", p, err)
		}
	}
	got := readAllBatches(t, l)
	if len(got) != len(written) {
		t.Fatalf("%d batches", len(got))
	}
	if off, _, ok, err := l.OffsetForTimestamp(tsIdentity(150)); err != nil || !ok || off != 300 {
		t.Fatalf("timestamp lookup after rebuild: %d %v %v", off, ok, err)
	}
}

func TestRecoveryRebuildsCorruptIndexes(t *testing.T) {
	for _, clean := range []bool{true, false} {
		dir := t.TempDir()
		l := openTestLog(t, dir, smallConfig(), Options{})
		written := appendN(t, l, 200, 2, 100, tsIdentity)
		first := l.segs[0]
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if clean {
			// Garbage in the last entry: positions beyond the log.
			st, _ := os.Stat(first.idxPath)
			f, _ := os.OpenFile(first.idxPath, os.O_RDWR, 0)
			_, _ = f.WriteAt(bytes.Repeat([]byte{0xee}, 8), st.Size()-8)
			f.Close()
			// Wrong size for the time index.
			appendToFile(t, first.timePath, []byte{1, 2, 3})
		} else {
			// Swap two middle entries: only a full check sees it.
			b, _ := os.ReadFile(first.idxPath)
			var tmp [8]byte
			copy(tmp[:], b[8:16])
			copy(b[8:16], b[16:24])
			copy(b[16:24], tmp[:])
			_ = os.WriteFile(first.idxPath, b, 0o644)
			_ = os.Remove(filepath.Join(dir, cleanShutdownFile))
			_ = os.Remove(filepath.Join(dir, recoveryPointFile))
		}
		l = openTestLog(t, dir, smallConfig(), Options{})
		if _, err := checkIndex(first.idxPath, offsetEntrySize, first.size, true); err != nil {
			t.Fatalf("clean=%v: index still bad: %v", clean, err)
		}
		if _, err := checkIndex(first.timePath, timeEntrySize, first.size, true); err != nil {
			t.Fatalf("clean=%v: time index still bad: %v", clean, err)
		}
		if got := readAllBatches(t, l); len(got) != len(written) {
			t.Fatalf("clean=%v: %d batches", clean, len(got))
		}
		l.Close()
	}
}

// Damage below the recovery point hit data that was fsynced: recovery
// refuses the log rather than cut acknowledged records away.
func TestRecoveryMidSegmentCorruption(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, smallConfig(), Options{})
	appendN(t, l, 200, 2, 100, tsIdentity)
	// The recovery point inside the second segment: recovery re-validates
	// that segment, and its batches below the point were fsynced.
	first := l.segs[1]
	pos := first.size / 4
	rp := first.base + (l.segs[2].base-first.base)*3/4
	crash(l)
	if err := writeOffsetFile(dir, recoveryPointFile, rp); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(first.logPath, os.O_RDWR, 0)
	_, _ = f.WriteAt([]byte{0xde, 0xad}, pos)
	f.Close()
	_, err := Open(dir, smallConfig(), Options{})
	if !errors.Is(err, ErrLogCorrupt) {
		t.Fatalf("got %v, want ErrLogCorrupt", err)
	}
	if !strings.Contains(err.Error(), first.logPath) || !strings.Contains(err.Error(), "at byte") {
		t.Fatalf("error does not locate the damage: %v", err)
	}
}

// Damage past the recovery point, even in a segment that is not the last,
// is what a crash before the fsync leaves: recovery truncates the log at
// the first invalid batch and drops the segments after it, as Kafka does.
func TestRecoveryTruncatesAtFirstInvalidBatchPastRecoveryPoint(t *testing.T) {
	for _, withRP := range []bool{true, false} {
		dir := t.TempDir()
		l := openTestLog(t, dir, smallConfig(), Options{})
		written := appendN(t, l, 200, 2, 100, tsIdentity)
		if len(l.segs) < 4 {
			t.Fatalf("want at least 4 segments, have %d", len(l.segs))
		}
		rp := l.segs[1].base
		victim := l.segs[2]
		crash(l)
		os.Remove(filepath.Join(dir, recoveryPointFile))
		if withRP {
			if err := writeOffsetFile(dir, recoveryPointFile, rp); err != nil {
				t.Fatal(err)
			}
		}
		// Damage the third batch of the third segment, past the recovery point.
		raw, err := os.ReadFile(victim.logPath)
		if err != nil {
			t.Fatal(err)
		}
		at := int64(0)
		for i := 0; i < 2; i++ {
			at += int64(record.SizeOf(raw[at:]))
		}
		raw[at+record.HeaderLen+3] ^= 0xff
		if err := os.WriteFile(victim.logPath, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		l, err = Open(dir, smallConfig(), Options{})
		if err != nil {
			t.Fatalf("rp=%v: recovery refused the log: %v", withRP, err)
		}
		want := victim.base + 4 // two batches of two records survive
		if l.LogEndOffset() != want {
			t.Fatalf("rp=%v: end offset %d, want %d", withRP, l.LogEndOffset(), want)
		}
		got := readAllBatches(t, l)
		if len(got) != int(want)/2 {
			t.Fatalf("rp=%v: %d batches readable, want %d", withRP, len(got), want/2)
		}
		for i := range got {
			if string(got[i][record.HeaderLen:]) != string(written[i][record.HeaderLen:]) {
				t.Fatalf("rp=%v: batch %d differs after recovery", withRP, i)
			}
		}
		if n := len(segmentFilesIn(t, dir)); n != 3 {
			t.Fatalf("rp=%v: %d segments on disk after the cut, want 3", withRP, n)
		}
		// The log takes appends at the cut.
		appendN(t, l, 1, 1, 10, tsIdentity)
		if l.LogEndOffset() != want+1 {
			t.Fatalf("rp=%v: append after recovery ends at %d", withRP, l.LogEndOffset())
		}
		l.Close()
	}
}

func segmentFilesIn(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCleanShutdownSkipsRecovery(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, smallConfig(), Options{})
	appendN(t, l, 200, 2, 100, tsIdentity)
	first := l.segs[0]
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, cleanShutdownFile)
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("no clean-shutdown marker: %v", err)
	}
	// Damage a record payload (not a header) in a closed segment: a clean
	// open trusts the files and must not notice.
	f, _ := os.OpenFile(first.logPath, os.O_RDWR, 0)
	_, _ = f.WriteAt([]byte{0}, record.HeaderLen+20)
	f.Close()
	l = openTestLog(t, dir, smallConfig(), Options{})
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("marker survived open: %v", err)
	}
	if l.FlushedOffset() != 400 || l.LogEndOffset() != 400 {
		t.Fatalf("flushed %d end %d", l.FlushedOffset(), l.LogEndOffset())
	}
	crash(l)
	// Without the marker and the recovery point the same damage is found,
	// and the log is truncated there.
	_ = os.Remove(filepath.Join(dir, recoveryPointFile))
	l, err := Open(dir, smallConfig(), Options{})
	if err != nil {
		t.Fatalf("unclean open without a recovery point: %v", err)
	}
	defer l.Close()
	if end := l.LogEndOffset(); end != 0 {
		t.Fatalf("end offset %d after damage in the first batch, want 0", end)
	}
}

func TestRecoveryCleansLeftovers(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, smallConfig(), Options{})
	appendN(t, l, 10, 1, 10, tsIdentity)
	l.Close()
	for _, name := range []string{"00000000000000000005.log.deleted", "00000000000000000005.log.cleaned",
		"00000000000000000005.log.swap", "00000000000000000099.index", "recovery-point.tmp"} {
		_ = os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644)
	}
	l = openTestLog(t, dir, smallConfig(), Options{})
	defer l.Close()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if n := e.Name(); strings.Contains(n, "0005") || strings.Contains(n, "0099") || strings.HasSuffix(n, ".tmp") {
			t.Fatalf("leftover %s not removed", n)
		}
	}
}

func FuzzRecoveryTail(f *testing.F) {
	f.Add([]byte{1, 2, 3})
	f.Add(makeBatch(f, batchSpec{records: 1, valueSize: 4})[:70])
	f.Fuzz(func(t *testing.T, tail []byte) {
		dir := t.TempDir()
		l := openTestLog(t, dir, smallConfig(), Options{})
		appendN(t, l, 5, 1, 10, tsIdentity)
		path := l.activeSeg().logPath
		crash(l)
		appendToFile(t, path, tail)
		l, err := Open(dir, smallConfig(), Options{})
		if err != nil {
			t.Fatalf("recovery failed: %v", err)
		}
		defer l.Close()
		if end := l.LogEndOffset(); end < 5 {
			t.Fatalf("end offset %d below what was written", end)
		}
	})
}
