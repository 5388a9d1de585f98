package broker

import (
	"context"
	"math"

	"go.uber.org/zap"
)

// loadTiered makes sure a tiered partition's remote start is known before
// it is reported (the first request after a restart may come before the
// remote log manager's first run). A failure is logged and the local
// start answers.
func (b *Broker) loadTiered(p *partition) {
	if _, ok := b.tierLimits(b.Image(), p.topic); !ok {
		return
	}
	if _, err := b.remoteView(context.Background(), p); err != nil {
		b.log.Warn("remote storage: cannot read the partition's remote segments", zap.Stringer("partition", tp{p.topic, p.id}), zap.Error(err))
	}
}

// remoteEpochAt is the leader epoch of a remote offset, from the epochs
// its segment's metadata carries; -1 when unknown.
func (b *Broker) remoteEpochAt(p *partition, offset int64) int32 {
	p.remote.mu.Lock()
	v := p.remote.view
	p.remote.mu.Unlock()
	if v == nil {
		return -1
	}
	epoch := int32(-1)
	for _, s := range v.Segments() {
		if s.StartOffset > offset || s.EndOffset < offset {
			continue
		}
		for _, e := range s.LeaderEpochs {
			if e.Start <= offset {
				epoch = e.Epoch
			}
		}
		return epoch
	}
	return epoch
}

// latestTiered answers ListOffsets -5: the last offset in the remote
// tier and its epoch, -1 when nothing is there.
func (b *Broker) latestTiered(p *partition) (int64, int32) {
	b.loadTiered(p)
	p.remote.mu.Lock()
	v := p.remote.view
	p.remote.mu.Unlock()
	if v == nil {
		return -1, -1
	}
	_, end, _, ok := v.Bounds()
	if !ok {
		return -1, -1
	}
	return end, b.remoteEpochAt(p, end)
}

// earliestPendingUpload answers ListOffsets -6 (KIP-1023), Kafka's rule:
// the offset after the last one in the remote tier (never below the log
// start); with nothing uploaded yet, the log start when no local segment
// was deleted, else -1 (this leader does not know what was uploaded);
// -1 on a topic that is not tiered.
func (b *Broker) earliestPendingUpload(p *partition) (int64, int32) {
	if _, ok := b.tierLimits(b.Image(), p.topic); !ok {
		return -1, -1
	}
	end, _ := b.latestTiered(p)
	if end < 0 {
		start := p.logStartOffset()
		if start != p.log.LogStartOffset() {
			return -1, -1
		}
		return start, p.epochAt(start, math.MaxInt64)
	}
	off := max(end+1, p.logStartOffset())
	epoch := p.epochAt(off, math.MaxInt64)
	if epoch == noLeaderEpoch && off >= p.log.LogEndOffset() {
		epoch = p.epochs.Latest()
	}
	return off, epoch
}

// remoteOffsetForTimestamp searches the remote segments below the local
// log start for a timestamp lookup (Kafka searches remote then local); ok
// is false when the local log must answer.
func (b *Broker) remoteOffsetForTimestamp(p *partition, ts int64) (int64, int64, bool, error) {
	if _, ok := b.tierLimits(b.Image(), p.topic); !ok {
		return 0, 0, false, nil
	}
	ctx := context.Background()
	v, err := b.remoteView(ctx, p)
	if err != nil {
		return 0, 0, false, err
	}
	start, _, _, ok := v.Bounds()
	if !ok || start >= p.log.LogStartOffset() {
		return 0, 0, false, nil
	}
	return b.cfg.Tier.OffsetForTimestamp(ctx, v, start, ts)
}
