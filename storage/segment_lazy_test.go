package storage

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// segmentFiles lists the segment and index files in dir, sorted.
func segmentFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		switch filepath.Ext(e.Name()) {
		case logSuffix, indexSuffix, timeIndexSuffix:
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}

func TestNewLogCreatesIndexesWithTheirFirstEntry(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, smallConfig(), Options{})
	defer l.Close()
	if got := segmentFiles(t, dir); !slices.Equal(got, []string{"00000000000000000000.log"}) {
		t.Fatalf("a new log has %v", got)
	}
	appendN(t, l, 1, 1, 10, tsIdentity) // below index.interval.bytes
	if got := segmentFiles(t, dir); len(got) != 1 {
		t.Fatalf("indexes created before their first entry: %v", got)
	}
	appendN(t, l, 20, 2, 100, tsIdentity)
	if l.activeSeg().idxN == 0 {
		t.Fatal("no index entry written")
	}
	want := []string{"00000000000000000000.index", "00000000000000000000.log", "00000000000000000000.timeindex"}
	if got := segmentFiles(t, dir); !slices.Equal(got, want) {
		t.Fatalf("after index entries: %v", got)
	}
	if got := readAllBatches(t, l); len(got) != 21 {
		t.Fatalf("read %d batches", len(got))
	}
}

// A closed segment always has both index files, and a clean restart trusts
// them without rebuilding; an empty log restarts without creating any.
func TestLazyIndexesSurviveRollsAndRestarts(t *testing.T) {
	for _, batches := range []int{0, 1, 300} {
		dir := t.TempDir()
		core, logs := observer.New(zapcore.WarnLevel)
		opts := Options{Logger: zap.New(core)}
		l := openTestLog(t, dir, smallConfig(), opts)
		appendN(t, l, batches, 2, 100, tsIdentity)
		for _, s := range l.segs[:len(l.segs)-1] {
			if s.noIdx || s.noTime {
				t.Fatalf("closed segment %d lacks an index file", s.base)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		files := segmentFiles(t, dir)
		if batches == 0 && len(files) != 1 {
			t.Fatalf("closing an empty log created %v", files)
		}
		if batches > 0 && len(files)%3 != 0 {
			t.Fatalf("a closed segment lacks an index file: %v", files)
		}
		l = openTestLog(t, dir, smallConfig(), opts)
		if n := logs.Len(); n != 0 {
			t.Fatalf("%d batches: clean restart warned: %v", batches, logs.All()[0].Message)
		}
		if got := readAllBatches(t, l); len(got) != batches {
			t.Fatalf("read %d of %d batches", len(got), batches)
		}
		appendN(t, l, 30, 2, 100, tsIdentity)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// A crash leaves the active segment without its indexes when it had not
// written an entry yet; recovery rebuilds from the .log alone.
func TestCrashBeforeFirstIndexEntry(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, smallConfig(), Options{})
	appendN(t, l, 1, 1, 10, tsIdentity)
	if err := l.Sync(t.Context(), l.LogEndOffset()); err != nil {
		t.Fatal(err)
	}
	crash(l)
	l = openTestLog(t, dir, smallConfig(), Options{})
	defer l.Close()
	if l.LogEndOffset() != 1 {
		t.Fatalf("log end %d after recovery", l.LogEndOffset())
	}
	appendN(t, l, 40, 2, 100, tsIdentity)
	if got := readAllBatches(t, l); len(got) != 41 {
		t.Fatalf("read %d batches", len(got))
	}
	if err := l.TruncateTo(3); err != nil {
		t.Fatal(err)
	}
	if got := readAllBatches(t, l); len(got) != 2 {
		t.Fatalf("read %d batches after truncation", len(got))
	}
}
