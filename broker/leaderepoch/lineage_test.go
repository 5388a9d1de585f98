package leaderepoch

import "testing"

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
