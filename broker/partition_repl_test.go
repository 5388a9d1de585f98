package broker

import (
	"testing"
	"time"

	"go.uber.org/zap"

	"spool/controller/metadata"
	"spool/storage"
)

// A follower's fetch that does not move the high watermark must not wake
// waiting fetches: the follower's own long poll would re-read, record the
// same fetch, and wake itself again, spinning a core. A fetch that moves
// the watermark does wake them.
func TestFollowerFetchWakesOnlyWhenWatermarkMoves(t *testing.T) {
	l, err := storage.Open(t.TempDir(), storage.DefaultConfig(), storage.Options{Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Append(testBatch(5, 10, 1000, 1), 0, -1); err != nil {
		t.Fatal(err)
	}
	p := newPartition("t", 0, [16]byte{1}, l)
	p.highWatermark.Store(0)
	p.setState(&metadata.Partition{ID: 0, Replicas: []int32{1, 2}, ISR: []int32{1, 2}, Leader: 1, LeaderEpoch: 3}, 1)
	if err := p.becomeLeader(1, time.Now()); err != nil {
		t.Fatal(err)
	}
	b := &Broker{log: zap.NewNop()}
	b.isr = &isrManager{b: b, maxLag: time.Minute, queue: make(chan *partition, 1)}

	wake := make(chan struct{}, 1)
	p.addWaiter(wake)
	b.followerFetched(p, 2, 0, time.Now()) // follower has nothing: watermark stays 0
	select {
	case <-wake:
		t.Fatal("a fetch that did not move the high watermark woke the waiters")
	default:
	}
	b.followerFetched(p, 2, 5, time.Now()) // follower has everything: watermark 5
	select {
	case <-wake:
	default:
		t.Fatal("a fetch that moved the high watermark did not wake the waiters")
	}
	if hw := p.HighWatermark(); hw != 5 {
		t.Fatalf("high watermark %d, want 5", hw)
	}
}
