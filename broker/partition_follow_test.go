package broker

import (
	"testing"
	"time"

	"go.uber.org/zap"

	"spool/broker/leaderepoch"
	"spool/controller/metadata"
	"spool/storage"
)

// A replica that led epoch 1 without appending a batch of it, and follows
// a leader (epoch 2) that never had epoch 1, must get past the divergence:
// its lineage's epoch 1 starts at its log end, so nothing is cut from the
// log, and if the lineage kept it, every fetch would name epoch 1 again,
// be told to truncate again, and never record progress on the leader (the
// follower stays out of the ISR for good).
func TestDivergenceAtLogEndDropsAnEmptyEpoch(t *testing.T) {
	l, err := storage.Open(t.TempDir(), storage.DefaultConfig(), storage.Options{Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	p := newPartition("t", 0, [16]byte{1}, l)
	if err := p.appendAsFollower(testBatch(5, 10, 1000, 1)); err != nil { // epoch 0
		t.Fatal(err)
	}
	state := func(leader, epoch int32) *metadata.Partition {
		return &metadata.Partition{ID: 0, Replicas: []int32{1, 2}, ISR: []int32{1, 2}, Leader: leader, LeaderEpoch: epoch, PartitionEpoch: epoch}
	}
	p.setState(state(1, 1), 1)
	if err := p.becomeLeader(1, time.Now()); err != nil {
		t.Fatal(err)
	}
	p.setState(state(2, 2), 1)
	p.becomeFollower()

	leader := leaderepoch.New(t.TempDir()) // broker 2: epoch 0, then its own 2
	leader.Assign(0, 0)
	leader.Assign(2, 5)
	for round := 0; ; round++ {
		offset, last := l.LogEndOffset(), p.epochs.Latest()
		epoch, end := leader.EndOffsetFor(last, 5)
		if epoch == last && end >= offset {
			break // the leader serves this fetch
		}
		if round == 3 {
			t.Fatalf("fetch at %d naming epoch %d still diverges (leader says epoch %d ends at %d)", offset, last, epoch, end)
		}
		if err := p.truncateDiverged(epoch, end); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.LogEndOffset(); got != 5 {
		t.Fatalf("log end %d after the divergence, want 5: nothing of epoch 0 was to go", got)
	}
}
