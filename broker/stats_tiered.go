package broker

import (
	"spool/controller/metadata"
)

// TieredStats are the remote tier's counters and, over the tiered
// partitions this broker leads, what is waiting to be copied and what is
// remote.
type TieredStats struct {
	BytesUploaded, BytesFetched        int64
	SegmentsCopied, SegmentsDeleted    int64
	CopyErrors, ReadErrors             int64
	CacheHits, CacheMisses, CacheBytes int64
	LocalSegmentsDeleted               int64
	UploadLagBytes, UploadLagSegments  int64
	RemoteBytes, RemoteSegments        int64
}

func (b *Broker) tieredStats(img *metadata.Image) *TieredStats {
	t := b.cfg.Tier
	if t == nil {
		return nil
	}
	c := t.Stats()
	s := &TieredStats{
		BytesUploaded: c.BytesUploaded.Load(), BytesFetched: c.BytesFetched.Load(),
		SegmentsCopied: c.SegmentsCopied.Load(), SegmentsDeleted: c.SegmentsDeleted.Load(),
		CopyErrors: c.CopyErrors.Load(), ReadErrors: c.ReadErrors.Load(),
		CacheHits: c.CacheHits.Load(), CacheMisses: c.CacheMisses.Load(), CacheBytes: t.Cache().Used(),
		LocalSegmentsDeleted: c.LocalSegsDeleted.Load(),
	}
	for _, p := range b.replicas.all() {
		if leading, _ := p.leadership(); !leading {
			continue
		}
		if _, ok := b.tierLimits(img, p.topic); !ok {
			continue
		}
		p.remote.mu.Lock()
		v := p.remote.view
		p.remote.mu.Unlock()
		end := int64(-1)
		if v != nil {
			var size int64
			var ok bool
			_, end, size, ok = v.Bounds()
			if ok {
				s.RemoteBytes += size
				s.RemoteSegments += int64(len(v.Segments()))
			} else {
				end = -1
			}
		}
		segs, err := p.log.ClosedSegments()
		if err != nil {
			continue
		}
		for _, cs := range segs {
			if cs.Next-1 > end {
				s.UploadLagBytes += cs.Size
				s.UploadLagSegments++
			}
		}
	}
	return s
}
