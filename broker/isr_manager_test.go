package broker

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/controller/metadata"
	"spool/storage"
)

// isrTestLeader is broker 1 leading a partition of five records whose
// ISR is [1]; follower 2 is out of it.
func isrTestLeader(t *testing.T) (*Broker, *partition) {
	t.Helper()
	l, err := storage.Open(t.TempDir(), storage.DefaultConfig(), storage.Options{Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if _, err := l.Append(testBatch(5, 10, 1000, 1), 0, -1); err != nil {
		t.Fatal(err)
	}
	p := newPartition("t", 0, [16]byte{1}, l)
	p.setState(&metadata.Partition{ID: 0, Replicas: []int32{1, 2}, ISR: []int32{1}, Leader: 1, LeaderEpoch: 3, PartitionEpoch: 7}, 1)
	if err := p.becomeLeader(1, time.Now()); err != nil {
		t.Fatal(err)
	}
	b := &Broker{log: zap.NewNop()}
	b.isr = &isrManager{b: b, maxLag: time.Minute, queue: make(chan *partition, 1), eligible: func(int32) bool { return true }}
	return b, p
}

// leaderAppend appends n records as the leader does: the log, then the
// watermark.
func leaderAppend(t *testing.T, p *partition, n int) {
	t.Helper()
	if _, err := p.log.Append(testBatch(n, 10, 2000, 1), 3, -1); err != nil {
		t.Fatal(err)
	}
	p.refreshHighWatermark()
}

// A follower that had caught up, then stopped (fenced, or shutting down),
// is asked back into the ISR and refused. Records appended while that
// request was in flight are held back from the watermark (the pending ISR
// counts); once the refusal is in, the watermark must move on to them, or
// the stale watermark makes the stopped follower look caught up and the
// next check asks for it again, which the controller accepts as soon as
// the follower is unfenced: a replica in the ISR without those records.
func TestRefusedISRChangeReleasesTheWatermark(t *testing.T) {
	b, p := isrTestLeader(t)
	now := time.Now()
	b.followerFetched(p, 2, 5, now) // the follower had everything, then stopped
	select {
	case <-b.isr.queue:
	default:
		t.Fatal("a caught-up follower out of the ISR was not asked back")
	}
	p.mu.RLock()
	repl, want := p.repl, p.repl.pending
	p.mu.RUnlock()
	leaderAppend(t, p, 5) // acks=1 records while the request is in flight
	if hw := p.HighWatermark(); hw != 5 {
		t.Fatalf("watermark %d while [1 2] is pending, want 5 (the joining follower's end)", hw)
	}
	b.isr.settle(p, repl, want, kerr.IneligibleReplica.Code, kmsg.AlterPartitionResponseTopicPartition{})
	if hw := p.HighWatermark(); hw != 10 {
		t.Fatalf("watermark %d after the refusal, want the log end 10", hw)
	}
	b.isr.maybeChange(p, now.Add(time.Second))
	select {
	case <-b.isr.queue:
		t.Fatal("the refused follower, 5 records behind, was asked into the ISR again")
	default:
	}
	// Timing out is the same: nothing is known to have changed.
	b.followerFetched(p, 2, 10, now.Add(2*time.Second))
	<-b.isr.queue
	leaderAppend(t, p, 5)
	b.isr.settle(p, repl, want, kerr.RequestTimedOut.Code, kmsg.AlterPartitionResponseTopicPartition{})
	if hw := p.HighWatermark(); hw != 15 {
		t.Fatalf("watermark %d after a timed-out change, want the log end 15", hw)
	}
}

// The controller dropping a follower from the ISR (it was fenced) lets
// the watermark move on at once, and the dropped follower is not asked
// back before it has the records.
func TestImageISRShrinkReleasesTheWatermark(t *testing.T) {
	b, p := isrTestLeader(t)
	now := time.Now()
	b.followerFetched(p, 2, 5, now)
	<-b.isr.queue
	p.mu.RLock()
	repl := p.repl
	p.mu.RUnlock()
	b.isr.settle(p, repl, []int32{1, 2}, 0, kmsg.AlterPartitionResponseTopicPartition{ISR: []int32{1, 2}, PartitionEpoch: 8})
	leaderAppend(t, p, 5) // the follower stopped: acks=1 records wait for it
	if hw := p.HighWatermark(); hw != 5 {
		t.Fatalf("watermark %d with the follower in the ISR at 5", hw)
	}
	rm := &replicaManager{b: b, log: zap.NewNop(), parts: map[tp]*partition{{"t", 0}: p}, refused: map[tp]bool{}}
	mt := &metadata.Topic{Name: "t"}
	rm.ensure(nil, mt, &metadata.Partition{ID: 0, Replicas: []int32{1, 2}, ISR: []int32{1}, Leader: 1, LeaderEpoch: 3, PartitionEpoch: 9}, 1, nil)
	if hw := p.HighWatermark(); hw != 10 {
		t.Fatalf("watermark %d once the image dropped the follower, want the log end 10", hw)
	}
	b.isr.maybeChange(p, now.Add(time.Second))
	select {
	case <-b.isr.queue:
		t.Fatal("the dropped follower, 5 records behind, was asked into the ISR again")
	default:
	}
}

// The answer to an ISR change can come after the image has moved past
// it: the controller took [1 2] (partition epoch 8), then fenced 2 and
// dropped it (epoch 9), and the leader applied both before the answer.
// The older answer must not replace the newer ISR, or the leader believes
// 2 is in sync, asks for nothing, and 2 stays out for good.
func TestLateISRAnswerDoesNotUndoTheImage(t *testing.T) {
	b, p := isrTestLeader(t)
	now := time.Now()
	b.followerFetched(p, 2, 5, now)
	<-b.isr.queue
	p.mu.RLock()
	repl, want := p.repl, p.repl.pending
	p.mu.RUnlock()
	state := func(isr []int32, epoch int32) *metadata.Partition {
		return &metadata.Partition{ID: 0, Replicas: []int32{1, 2}, ISR: isr, Leader: 1, LeaderEpoch: 3, PartitionEpoch: epoch}
	}
	p.setState(state([]int32{1, 2}, 8), 1)
	p.setState(state([]int32{1}, 9), 1)
	b.isr.settle(p, repl, want, 0, kmsg.AlterPartitionResponseTopicPartition{ISR: []int32{1, 2}, PartitionEpoch: 8, LeaderEpoch: 3, LeaderID: 1})
	p.mu.RLock()
	isr, epoch := repl.isr, repl.partitionEpoch
	p.mu.RUnlock()
	if epoch != 9 || len(isr) != 1 {
		t.Fatalf("leader's ISR %v at partition epoch %d, want the image's [1] at 9", isr, epoch)
	}
	b.followerFetched(p, 2, 5, now.Add(time.Second)) // unfenced, caught up
	select {
	case <-b.isr.queue:
	default:
		t.Fatal("the caught-up follower the controller dropped was never asked back")
	}
}

// A caught-up follower the image shows fenced, or in controlled shutdown,
// is not asked into the ISR (KIP-841): the controller would refuse it with
// INELIGIBLE_REPLICA, and the request in flight would hold the watermark
// at the follower's end meanwhile. Once the image shows it eligible, its
// next fetch asks for it.
func TestIneligibleFollowerIsNotAskedIntoTheISR(t *testing.T) {
	for _, br := range []metadata.Broker{{ID: 2, Fenced: true}, {ID: 2, InControlledShutdown: true}, {ID: 2, Fenced: true, InControlledShutdown: true}} {
		b, p := isrTestLeader(t)
		img := &metadata.Image{Brokers: map[int32]*metadata.Broker{1: {ID: 1}, 2: &br}}
		b.isr.eligible = func(id int32) bool { return isrEligible(img, id) }
		now := time.Now()
		b.followerFetched(p, 2, 5, now)
		select {
		case <-b.isr.queue:
			t.Fatalf("follower %+v was asked into the ISR", br)
		default:
		}
		p.mu.RLock()
		pending := p.repl.pending
		p.mu.RUnlock()
		if pending != nil {
			t.Fatalf("follower %+v: pending ISR %v", br, pending)
		}
		leaderAppend(t, p, 5)
		if hw := p.HighWatermark(); hw != 10 {
			t.Fatalf("follower %+v held the watermark at %d, want the log end 10", br, hw)
		}
		img = &metadata.Image{Brokers: map[int32]*metadata.Broker{1: {ID: 1}, 2: {ID: 2}}}
		b.followerFetched(p, 2, 10, now.Add(time.Second))
		select {
		case <-b.isr.queue:
		default:
			t.Fatalf("follower %+v, eligible again and caught up, was not asked into the ISR", br)
		}
	}
}
