package tiered

import (
	"context"
	"encoding/binary"
	"sort"

	"spool/record"
	"spool/storage"
)

// timeEntrySize is a .timeindex entry: timestamp int64, relative offset
// int32.
const timeEntrySize = 12

// OffsetForTimestamp finds, in the remote segments, the first record at or
// above minOffset whose timestamp is at least ts (ListOffsets by time),
// reading the first segment whose max timestamp reaches ts from its time
// index on. ok is false when no remote record is that new: the local log
// is then searched.
func (t *Tier) OffsetForTimestamp(ctx context.Context, p *Partition, minOffset, ts int64) (int64, int64, bool, error) {
	for _, s := range p.Segments() {
		if s.MaxTimestamp < ts || s.EndOffset < minOffset {
			continue
		}
		off, got, ok, err := t.timestampIn(ctx, p, s, minOffset, ts)
		if err != nil || ok {
			return off, got, ok, err
		}
	}
	return -1, -1, false, nil
}

func (t *Tier) timestampIn(ctx context.Context, p *Partition, s *Segment, minOffset, ts int64) (int64, int64, bool, error) {
	pos, err := t.timeLookup(ctx, p, s, max(ts, 0))
	if err != nil {
		return 0, 0, false, err
	}
	r := &reader{t: t, key: p.key.object(s, sufLog), seg: s}
	for pos < s.SizeBytes {
		hdr, err := r.at(ctx, pos, min(int64(record.HeaderLen), s.SizeBytes-pos))
		if err != nil {
			return 0, 0, false, err
		}
		if len(hdr) < record.HeaderLen {
			return 0, 0, false, nil
		}
		size := record.SizeOf(hdr)
		if size < record.HeaderLen || pos+size > s.SizeBytes {
			return 0, 0, false, nil
		}
		if record.LastOffsetOf(hdr) >= minOffset && record.MaxTimestampOf(hdr) >= ts {
			batch, err := r.at(ctx, pos, size)
			if err != nil {
				return 0, 0, false, err
			}
			off, got, ok, err := storage.FindRecordAtTime(batch, minOffset, ts)
			if err != nil || ok {
				return off, got, ok, err
			}
		}
		pos += size
	}
	return 0, 0, false, nil
}

// timeLookup is the position of the batch behind the segment's last
// time-index entry below ts (0 without one).
func (t *Tier) timeLookup(ctx context.Context, p *Partition, s *Segment, ts int64) (int64, error) {
	key := p.key.object(s, sufTime)
	k := cacheKey{key, -1}
	idx, ok := t.cache.get(k)
	if !ok {
		var err error
		if idx, err = t.store.Get(ctx, key); err != nil {
			return 0, err
		}
		t.cache.put(k, idx)
	}
	n := sort.Search(len(idx)/timeEntrySize, func(i int) bool {
		return int64(binary.BigEndian.Uint64(idx[i*timeEntrySize:])) >= ts
	})
	if n == 0 {
		return 0, nil
	}
	rel := int64(binary.BigEndian.Uint32(idx[(n-1)*timeEntrySize+8:]))
	return t.indexLookup(ctx, p, s, s.StartOffset+rel)
}
