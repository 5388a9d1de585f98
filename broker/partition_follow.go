package broker

import (
	"fmt"

	"spool/record"
)

// appendAsFollower appends batches fetched from the leader with their
// offsets, skipping any the log already has, and keeps the epoch lineage
// and producer state in step.
func (p *partition) appendAsFollower(batches []byte) error {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	leo := p.log.LogEndOffset()
	start, end := -1, 0
	// Find the first batch the log lacks; everything after it is appended.
	off := 0
	for off < len(batches) {
		h, err := record.ParseHeader(batches[off:])
		if err != nil || off+h.TotalSize() > len(batches) {
			break // a trailing partial batch: the next fetch brings it whole
		}
		if start < 0 && h.NextOffset() > leo {
			start = off
		}
		end = off + h.TotalSize()
		off = end
	}
	if start < 0 {
		return nil
	}
	chunk := batches[start:end]
	if _, err := p.log.AppendAsFollower(chunk); err != nil {
		return fmt.Errorf("append as follower: %w", err)
	}
	err := record.Split(chunk, func(batch []byte, h record.Header) error {
		p.epochs.Assign(h.PartitionLeaderEpoch, h.BaseOffset)
		switch {
		case h.ProducerID < 0:
		case h.IsControl():
			return p.completeTxn(h, batch)
		default:
			p.noteDataBatch(h)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return p.epochs.Persist()
}

// followerHighWatermark takes the leader's high watermark, bounded by what
// this replica has.
func (p *partition) followerHighWatermark(leaderHW int64) {
	hw := min(leaderHW, p.log.LogEndOffset())
	if hw >= 0 {
		p.advanceHighWatermark(hw)
	}
}

// truncateDiverged cuts the log where it diverges from the leader's: at the
// end of the diverging epoch as the leader has it, or earlier if this
// replica's own copy of that epoch ends sooner.
func (p *partition) truncateDiverged(epoch int32, leaderEnd int64) error {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	leo := p.log.LogEndOffset()
	to := min(leaderEnd, leo)
	if e, localEnd := p.epochs.EndOffsetFor(epoch, leo); e == epoch && localEnd >= 0 {
		to = min(to, localEnd)
	}
	return p.truncateLocked(to)
}

// resetOutOfRange handles OFFSET_OUT_OF_RANGE from the leader: behind its
// log start the log restarts there; ahead of its end, it is cut back to
// the leader's high watermark.
func (p *partition) resetOutOfRange(leaderStart, leaderHW int64) error {
	p.appendMu.Lock()
	defer p.appendMu.Unlock()
	leo := p.log.LogEndOffset()
	if leo < leaderStart {
		if err := p.log.Reset(leaderStart); err != nil {
			return err
		}
		p.highWatermark.Store(leaderStart)
		p.producers = newProducerStates()
		return p.epochs.TruncateFromEnd(0)
	}
	return p.truncateLocked(min(leaderHW, leo))
}

// truncateLocked truncates the log, lineage, watermark and producer state
// to offset; appendMu held.
func (p *partition) truncateLocked(offset int64) error {
	if offset >= p.log.LogEndOffset() {
		// Nothing to cut from the log, but the lineage may end in an epoch
		// this replica assigned when it led and lost before appending a
		// batch of it. Kept, it stays the last fetched epoch, so a leader
		// that never had that epoch answers every fetch with the same
		// divergence and the follower never gets past it (nor back into
		// the ISR). Kafka's truncateTo drops it the same way.
		return p.epochs.TruncateFromEnd(p.log.LogEndOffset())
	}
	if err := p.log.TruncateTo(offset); err != nil {
		return err
	}
	if err := p.epochs.TruncateFromEnd(p.log.LogEndOffset()); err != nil {
		return err
	}
	if hw := p.log.LogEndOffset(); p.HighWatermark() > hw {
		p.highWatermark.Store(hw)
	}
	// The newest producer snapshot at or below the new end, then replay.
	return p.loadProducerState()
}
