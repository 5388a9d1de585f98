package storage

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// dirState lists a directory's files with their sizes and change times,
// to show that an open wrote nothing.
func dirState(t *testing.T, dir string) map[string][2]int64 {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][2]int64{}
	for _, e := range ents {
		st, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = [2]int64{st.Size(), st.ModTime().UnixNano()}
	}
	return out
}

// appendState is what appends to a segment go by.
func appendState(s *segment) [8]int64 {
	return [8]int64{int64(s.idxN), int64(s.timeN), s.lastTimeTs, s.maxTs, s.maxTsOff, s.sinceIndex, s.rollTs, s.size}
}

// A crashed log whose tail is intact and shorter than the index interval
// (a partition holding a few records) recovers without creating or
// changing a file, and ends in the state appends left it in: the time
// index entry still pending, written when the log closes.
func TestRecoveryOfIntactShortTailWritesNothing(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig() // 4 KiB index interval
	l := openTestLog(t, dir, cfg, Options{})
	appendN(t, l, 3, 2, 20, func(i int) int64 { return 1000 + 10*int64(i) })
	if err := l.Sync(context.Background(), l.LogEndOffset()); err != nil {
		t.Fatal(err)
	}
	live := appendState(l.activeSeg())
	timePath := l.activeSeg().timePath
	crash(l)
	before := dirState(t, dir)
	if _, ok := before[filepath.Base(timePath)]; ok {
		t.Fatalf("appends wrote a time index before the interval: %v", before)
	}
	time.Sleep(20 * time.Millisecond) // a rewrite would change the mtime

	l = openTestLog(t, dir, cfg, Options{})
	if after := dirState(t, dir); len(after) != len(before) {
		t.Fatalf("recovery changed the directory: before %v, after %v", before, after)
	} else {
		for name, st := range before {
			if after[name] != st {
				t.Fatalf("recovery rewrote %s: %v -> %v", name, st, after[name])
			}
		}
	}
	if got := appendState(l.activeSeg()); l.LogEndOffset() != 6 || got != live {
		t.Fatalf("recovered state %+v, live state was %+v (end %d)", got, live, l.LogEndOffset())
	}
	if off, ts, ok, err := l.OffsetForTimestamp(1015); err != nil || !ok || off != 4 || ts != 1020 {
		t.Fatalf("offset for time 1015 after recovery: %d %d %v %v", off, ts, ok, err)
	}
	if res, err := l.Append(makeBatch(t, batchSpec{records: 1, valueSize: 1, firstTs: 2000}), 0, -1); err != nil || res.FirstOffset != 6 {
		t.Fatalf("append after recovery %+v %v", res, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// The pending entry reached the disk at the close.
	if n, err := checkIndex(timePath, timeEntrySize, 1, true); err != nil || n != 1 {
		t.Fatalf("time index after close: %d entries, %v", n, err)
	}
}

// An active segment's stale offset index (entries for batches a crash cut
// off) is emptied, not left for lookups to find, when no entry survives.
func TestRecoveryEmptiesStaleActiveIndex(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	l := openTestLog(t, dir, cfg, Options{})
	appendN(t, l, 1, 1, 10, tsIdentity)
	if err := l.Sync(context.Background(), l.LogEndOffset()); err != nil {
		t.Fatal(err)
	}
	keep := l.activeSeg().size
	appendN(t, l, 8, 2, 100, tsIdentity) // past the 512-byte interval: entries
	s := l.activeSeg()
	crash(l)
	if b, _ := os.ReadFile(s.idxPath); !slices.ContainsFunc(b, func(c byte) bool { return c != 0 }) {
		t.Fatalf("expected offset index entries before the crash (%d bytes)", len(b))
	}
	if err := os.Truncate(s.logPath, keep+10); err != nil { // torn after the first batch
		t.Fatal(err)
	}
	l = openTestLog(t, dir, cfg, Options{})
	defer l.Close()
	if l.LogEndOffset() != 1 {
		t.Fatalf("end %d after recovery, want 1", l.LogEndOffset())
	}
	if b, err := os.ReadFile(s.idxPath); err == nil && slices.ContainsFunc(b, func(c byte) bool { return c != 0 }) {
		t.Fatalf("%s keeps stale entries after recovery (%d bytes)", s.idxPath, len(b))
	}
	if got := readAllBatches(t, l); len(got) != 1 {
		t.Fatalf("%d batches after recovery", len(got))
	}
}
