package broker

import (
	"context"
	"time"

	"spool/storage"
)

// replicaSet returns the partition's replicas as the image says.
func (p *partition) replicaSet() []int32 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.replicas
}

// becomeLeader starts a leader epoch: the epoch begins at the log end (it
// is checkpointed with its first batch), and with followers the leader
// tracks them from scratch.
func (p *partition) becomeLeader(self int32, now time.Time) error {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	p.mu.Lock()
	p.repl = nil
	if len(p.replicas) > 1 {
		p.repl = newReplication(self, p.replicas, p.isr, p.partitionEpoch, p.log.LogEndOffset(), now)
	}
	epoch := p.leaderEpoch
	p.mu.Unlock()
	p.epochs.Assign(epoch, p.log.LogEndOffset())
	p.refreshHighWatermark()
	return nil
}

// becomeFollower drops leader state.
func (p *partition) becomeFollower() {
	p.mu.Lock()
	p.repl = nil
	p.mu.Unlock()
}

// refreshHighWatermark moves the leader's high watermark to what every ISR
// member has (waking fetches if it moved) and reports whether it moved. It
// must not wake fetches otherwise: a follower's own fetch calls it, and
// waking that fetch would make it re-read and call it again, forever.
func (p *partition) refreshHighWatermark() bool {
	leo := p.log.LogEndOffset()
	p.mu.RLock()
	hw := leo
	if p.repl != nil {
		hw = p.repl.highWatermark(leo)
	}
	p.mu.RUnlock()
	if hw > p.HighWatermark() {
		p.advanceHighWatermark(hw)
		return true
	}
	return false
}

// followerFetched records a follower's fetch at offset and asks for an ISR
// change when one is due.
func (b *Broker) followerFetched(p *partition, id int32, offset int64, now time.Time) {
	leo := p.log.LogEndOffset()
	p.mu.Lock()
	if p.repl == nil || !p.repl.fetched(id, offset, leo, now) {
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	p.refreshHighWatermark()
	b.isr.maybeChange(p, now)
}

// awaitCommitted waits until the high watermark covers upTo, which for a
// replicated partition means every ISR member has the records.
func (p *partition) awaitCommitted(ctx context.Context, upTo int64) error {
	if p.HighWatermark() >= upTo {
		return nil
	}
	wake := make(chan struct{}, 1)
	p.addWaiter(wake)
	defer p.removeWaiter(wake)
	for p.HighWatermark() < upTo {
		if p.log.LogEndOffset() < upTo {
			// Truncated: this broker lost leadership and the records with it.
			return storage.ErrClosed
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
