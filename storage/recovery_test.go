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

func TestRecoveryMidSegmentCorruption(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, smallConfig(), Options{})
	appendN(t, l, 200, 2, 100, tsIdentity)
	first := l.segs[0]
	pos := first.size / 2
	crash(l)
	_ = os.Remove(filepath.Join(dir, recoveryPointFile))
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
	// Without the marker the same damage is found.
	_ = os.Remove(filepath.Join(dir, recoveryPointFile))
	if _, err := Open(dir, smallConfig(), Options{}); !errors.Is(err, ErrLogCorrupt) {
		t.Fatalf("unclean open: %v", err)
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
