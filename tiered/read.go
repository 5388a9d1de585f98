package tiered

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"spool/record"
)

// ErrNotRemote: no remote segment holds the offset.
var ErrNotRemote = errors.New("offset not in remote storage")

// reader reads one remote segment's bytes through the chunk cache.
type reader struct {
	t   *Tier
	key string
	seg *Segment
}

// at returns n bytes at pos, from cached chunks, fetching missing ones.
func (r *reader) at(ctx context.Context, pos, n int64) ([]byte, error) {
	cs := r.t.settings.ChunkSize
	out := make([]byte, 0, n)
	for n > 0 {
		c := pos / cs
		chunk, err := r.chunk(ctx, c)
		if err != nil {
			return nil, err
		}
		off := pos - c*cs
		if off >= int64(len(chunk)) {
			return nil, fmt.Errorf("%s: read at %d past its end", r.key, pos)
		}
		take := min(n, int64(len(chunk))-off)
		out = append(out, chunk[off:off+take]...)
		pos, n = pos+take, n-take
	}
	return out, nil
}

func (r *reader) chunk(ctx context.Context, c int64) ([]byte, error) {
	k := cacheKey{r.key, c}
	if b, ok := r.t.cache.get(k); ok {
		return b, nil
	}
	cs := r.t.settings.ChunkSize
	b, err := r.t.store.GetRange(ctx, r.key, c*cs, min(cs, r.seg.SizeBytes-c*cs))
	if err != nil {
		return nil, err
	}
	r.t.cache.put(k, b)
	return b, nil
}

// prefetch loads the chunk after pos in the background for a sequential
// consumer, when a reader slot is free.
func (r *reader) prefetch(pos int64) {
	cs := r.t.settings.ChunkSize
	c := pos/cs + 1
	if c*cs >= r.seg.SizeBytes || r.t.cache.has(cacheKey{r.key, c}) {
		return
	}
	select {
	case r.t.readers <- struct{}{}:
	default:
		return
	}
	go func() {
		defer func() { <-r.t.readers }()
		ctx, cancel := context.WithTimeout(context.Background(), r.t.settings.CallTimeout)
		defer cancel()
		_, _ = r.chunk(ctx, c)
	}()
}

// Read returns whole batches from offset's remote segment: at most
// maxBytes, but at least the first batch when minOne (KIP-74). A read
// never crosses into the next segment; the consumer's next fetch does.
func (t *Tier) Read(ctx context.Context, p *Partition, offset int64, maxBytes int, minOne bool) ([]byte, error) {
	seg := p.segmentFor(offset)
	if seg == nil {
		return nil, ErrNotRemote
	}
	select {
	case t.readers <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-t.readers }()
	b, err := t.read(ctx, p, seg, offset, maxBytes, minOne)
	if err != nil {
		t.stats.ReadErrors.Add(1)
	}
	return b, err
}

func (t *Tier) read(ctx context.Context, p *Partition, seg *Segment, offset int64, maxBytes int, minOne bool) ([]byte, error) {
	pos, err := t.indexLookup(ctx, p, seg, offset)
	if err != nil {
		return nil, err
	}
	r := &reader{t: t, key: p.key.object(seg, sufLog), seg: seg}
	start, total := int64(-1), int64(0)
	for pos < seg.SizeBytes {
		hdr, err := r.at(ctx, pos, min(record.OffsetsLen, seg.SizeBytes-pos))
		if err != nil {
			return nil, err
		}
		if len(hdr) < record.OffsetsLen {
			return nil, fmt.Errorf("%s: torn batch header at %d", r.key, pos)
		}
		size := record.SizeOf(hdr)
		if size < record.HeaderLen || pos+size > seg.SizeBytes {
			return nil, fmt.Errorf("%s: bad batch length %d at %d", r.key, size, pos)
		}
		if start < 0 && record.LastOffsetOf(hdr) < offset {
			pos += size
			continue
		}
		if start < 0 {
			start = pos
		}
		if total+size > int64(maxBytes) && !(total == 0 && minOne) {
			break
		}
		total += size
		pos += size
	}
	if total == 0 {
		return nil, nil
	}
	out, err := r.at(ctx, start, total)
	if err == nil {
		r.prefetch(start + total)
	}
	return out, err
}

// indexLookup is the byte position of the last offset-index entry at or
// below offset (0 without one): where the scan for offset's batch starts.
func (t *Tier) indexLookup(ctx context.Context, p *Partition, seg *Segment, offset int64) (int64, error) {
	key := p.key.object(seg, sufIndex)
	k := cacheKey{key, -1}
	idx, ok := t.cache.get(k)
	if !ok {
		var err error
		if idx, err = t.store.Get(ctx, key); err != nil {
			return 0, err
		}
		t.cache.put(k, idx)
	}
	n := len(idx) / 8
	rel := offset - seg.StartOffset
	i := sort.Search(n, func(i int) bool { return int64(binary.BigEndian.Uint32(idx[i*8:])) > rel }) - 1
	if i < 0 {
		return 0, nil
	}
	return int64(binary.BigEndian.Uint32(idx[i*8+4:])), nil
}
