package leaderepoch

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLeaderEpochsLineage(t *testing.T) {
	dir := t.TempDir()
	le, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if e, o := le.EndOffsetFor(0, 10); e != UndefinedEpoch || o != UndefinedOffset {
		t.Fatalf("empty: %d %d", e, o)
	}
	for _, a := range []epochStart{{1, 0}, {1, 5}, {3, 10}, {4, 20}} {
		le.Assign(a.epoch, a.start)
	}
	if err := le.Persist(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		epoch     int32
		wantEpoch int32
		wantEnd   int64
	}{
		{4, 4, 30},   // latest epoch ends at the log end
		{3, 3, 20},   // ends where 4 starts
		{2, 1, 10},   // unknown epoch: the largest earlier one, ending at 3's start
		{0, 0, 0},    // older than any: the first start
		{9, -1, -1},  // newer than any
		{-1, -1, -1}, // undefined
	}
	for _, c := range cases {
		if e, o := le.EndOffsetFor(c.epoch, 30); e != c.wantEpoch || o != c.wantEnd {
			t.Errorf("epoch %d: got (%d, %d), want (%d, %d)", c.epoch, e, o, c.wantEpoch, c.wantEnd)
		}
	}
	// The checkpoint survives a reload.
	again, err := Load(dir)
	if err != nil || len(again.entries) != 3 || again.entries[2] != (epochStart{4, 20}) {
		t.Fatalf("reload: %v %+v", err, again.entries)
	}
	if err := again.TruncateFromEnd(20); err != nil || again.Latest() != 3 {
		t.Fatalf("truncate from end: %v latest %d", err, again.Latest())
	}
	if err := again.TruncateFromStart(12); err != nil || len(again.entries) != 1 || again.entries[0] != (epochStart{3, 12}) {
		t.Fatalf("truncate from start: %v %+v", err, again.entries)
	}
}

// A checkpoint write that fails leaves the lineage dirty, so the next
// persist writes it instead of reporting success with a stale file.
func TestPersistRetriesFailedWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p-0")
	le := New(dir) // the directory does not exist yet: writes fail
	le.Assign(2, 0)
	if err := le.Persist(); err == nil {
		t.Fatal("persist into a missing directory succeeded")
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := le.Persist(); err != nil {
		t.Fatalf("retried persist: %v", err)
	}
	again, err := Load(dir)
	if err != nil || len(again.entries) != 1 || again.entries[0] != (epochStart{2, 0}) {
		t.Fatalf("checkpoint after the retry: %v %+v, want epoch 2 at 0", err, again.entries)
	}

	// A failed truncation write is retried the same way.
	le.Assign(3, 10)
	if err := le.Persist(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := le.TruncateFromEnd(10); err == nil {
		t.Fatal("truncation checkpoint into a missing directory succeeded")
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := le.Persist(); err != nil {
		t.Fatalf("persist after a failed truncation write: %v", err)
	}
	again, err = Load(dir)
	if err != nil || len(again.entries) != 1 || again.entries[0] != (epochStart{2, 0}) {
		t.Fatalf("checkpoint after the truncation retry: %v %+v, want only epoch 2", err, again.entries)
	}
}
