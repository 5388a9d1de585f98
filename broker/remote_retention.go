package broker

import (
	"context"
	"time"

	"go.uber.org/zap"

	"spool/storage"
	"spool/tiered"
)

// expireRemote applies retention.ms and retention.bytes to the remote
// segments, oldest first, counting the whole log: the remote bytes plus
// the local bytes not yet copied (Kafka's rule).
func (b *Broker) expireRemote(ctx context.Context, p *partition, v *tiered.Partition, lim tierLimits) error {
	for _, s := range v.BelowStart() { // DeleteRecords moved the start past them
		if err := v.DeleteSegment(ctx, s); err != nil {
			return err
		}
		p.noteRemote(v)
	}
	rsegs := v.Segments()
	if len(rsegs) == 0 {
		return nil
	}
	_, end, remoteSize, _ := v.Bounds()
	segs, err := p.log.ClosedSegments()
	if err != nil {
		return err
	}
	total := p.log.Size() + remoteSize
	for _, cs := range segs {
		if cs.Next-1 <= end {
			total -= cs.Size // counted remotely
		}
	}
	now := time.Now().UnixMilli()
	for _, s := range rsegs {
		byTime := lim.totalMs >= 0 && s.MaxTimestamp >= 0 && now-s.MaxTimestamp > lim.totalMs
		bySize := lim.totalBytes >= 0 && total-s.SizeBytes >= lim.totalBytes
		if !byTime && !bySize {
			break
		}
		if err := v.DeleteSegment(ctx, s); err != nil {
			return err
		}
		total -= s.SizeBytes
		p.noteRemote(v)
		b.log.Info("remote storage: retention deleted a remote segment", zap.Stringer("partition", tp{p.topic, p.id}),
			zap.Int64("start_offset", s.StartOffset), zap.Int64("end_offset", s.EndOffset))
	}
	return nil
}

// localExpired counts the leading closed segments past local retention,
// whatever has been copied.
func localExpired(segs []storage.ClosedSegment, size int64, lim tierLimits, now int64) int {
	bySize := 0
	if lim.localBytes >= 0 {
		excess := size - lim.localBytes
		for _, s := range segs {
			if excess < s.Size {
				break
			}
			excess -= s.Size
			bySize++
		}
	}
	byTime := 0
	if lim.localMs >= 0 {
		for _, s := range segs {
			if s.MaxTimestamp < 0 || now-s.MaxTimestamp <= lim.localMs {
				break
			}
			byTime++
		}
	}
	return max(bySize, byTime)
}

// copiedPrefix is how many of n leading segments are wholly in the remote
// tier (end is the last remote offset).
func copiedPrefix(segs []storage.ClosedSegment, n int, end int64) int {
	for n > 0 && segs[n-1].Next-1 > end {
		n--
	}
	return n
}

// expireLocal deletes the local segments past local retention that the
// remote tier holds; a segment not yet copied stays, however old, so an
// object-store outage fills the disk rather than losing data.
func (b *Broker) expireLocal(p *partition, v *tiered.Partition, lim tierLimits) error {
	segs, err := p.log.ClosedSegments()
	if err != nil {
		return err
	}
	_, end, _, ok := v.Bounds()
	if !ok {
		return nil
	}
	n := copiedPrefix(segs, localExpired(segs, p.log.Size(), lim, time.Now().UnixMilli()), end)
	if n == 0 {
		return nil
	}
	start, err := p.log.DeleteRecordsBefore(segs[n-1].Next)
	if err != nil {
		return err
	}
	b.cfg.Tier.Stats().LocalSegsDeleted.Add(int64(n))
	b.log.Info("remote storage: local retention deleted copied segments", zap.Stringer("partition", tp{p.topic, p.id}),
		zap.Int("segments", n), zap.Int64("local_log_start_offset", start))
	return nil
}

// followerBehindRemote reports whether local retention waits on segments
// this follower does not know to be copied.
func (b *Broker) followerBehindRemote(p *partition, v *tiered.Partition, lim tierLimits) bool {
	segs, err := p.log.ClosedSegments()
	if err != nil {
		return false
	}
	n := localExpired(segs, p.log.Size(), lim, time.Now().UnixMilli())
	_, end, _, ok := v.Bounds()
	if !ok {
		end = -1
	}
	return copiedPrefix(segs, n, end) < n
}
