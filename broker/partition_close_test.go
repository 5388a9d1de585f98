package broker

import (
	"os"
	"testing"

	"spool/storage"
)

// TestSnapshotOnCloseOnlyWhenNeeded checks a clean close writes a producer
// snapshot when records arrived since the last one, and skips idle
// partitions, whose next open has nothing to replay either way.
func TestSnapshotOnCloseOnlyWhenNeeded(t *testing.T) {
	tb := newTestBroker(t, nil, storage.Options{})
	p := tb.p
	dir := p.log.Dir()
	snaps := func() []int64 {
		offs, err := listSnapshots(dir)
		if err != nil {
			t.Fatal(err)
		}
		return offs
	}
	if err := p.snapshotProducers(); err != nil || len(snaps()) != 0 {
		t.Fatalf("empty partition: %v, snapshots %v; want none", err, snaps())
	}
	tb.mustProduce(t, buildBatch(t, idem(5, 0, 0, 2)))
	if err := p.snapshotProducers(); err != nil {
		t.Fatal(err)
	}
	if got := snaps(); len(got) != 1 || got[0] != 2 {
		t.Fatalf("after an append: snapshots %v, want [2]", got)
	}
	// Reopened at the snapshot, an idle partition writes nothing more.
	again := &partition{log: p.log}
	if err := again.loadProducerState(); err != nil {
		t.Fatal(err)
	}
	if again.snapshotAt != 2 {
		t.Fatalf("reopened with snapshotAt %d, want 2", again.snapshotAt)
	}
	// Remove the file behind its back: a close that wrote one would show.
	if err := os.Remove(snapshotPath(dir, 2)); err != nil {
		t.Fatal(err)
	}
	if err := again.snapshotProducers(); err != nil || len(snaps()) != 0 {
		t.Fatalf("idle reopened partition: %v, snapshots %v; want none written", err, snaps())
	}
	if e := again.producers.m[5]; e == nil || e.lastSeq != 1 {
		t.Fatalf("producer 5 after reopen: %+v", e)
	}
}
