package tiered

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Partition is this broker's view of one partition's remote segments. The
// bucket is the record: Load rebuilds the view from the manifests, so a
// restarted broker or a new leader knows what is remote.
type Partition struct {
	key   PartitionKey
	store *Store

	mu      sync.RWMutex
	loaded  bool
	segs    []*Segment // COPY_SEGMENT_FINISHED, by start offset
	pending []*Segment // COPY_SEGMENT_STARTED or DELETE_SEGMENT_STARTED
	// start is the log start DeleteRecords set (0: none): offsets below
	// it are gone even where a remote segment still holds them.
	start int64
}

// Key is the partition's place in the bucket.
func (p *Partition) Key() PartitionKey { return p.key }

// manifestReads bounds the manifests fetched at once by Load.
const manifestReads = 16

// Load lists the partition's manifests and reads them.
func (p *Partition) Load(ctx context.Context) error {
	objs, err := p.store.List(ctx, p.key.Dir())
	if err != nil {
		return err
	}
	var keys []string
	for _, o := range objs {
		if isManifest(o.Key) {
			keys = append(keys, o.Key)
		}
	}
	ms := make([]*Segment, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(manifestReads)
	for i, k := range keys {
		g.Go(func() error {
			b, err := p.store.Get(gctx, k)
			if err != nil {
				return err
			}
			if ms[i], err = decodeManifest(b); err != nil {
				return fmt.Errorf("manifest %s: %w", k, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	var segs, pending []*Segment
	for _, m := range ms {
		if m.State == CopyFinished {
			segs = append(segs, m)
		} else {
			pending = append(pending, m)
		}
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].StartOffset < segs[j].StartOffset })
	start, err := p.loadStart(ctx)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.segs, p.pending, p.loaded, p.start = segs, pending, true, start
	p.mu.Unlock()
	return nil
}

// Loaded reports whether Load has succeeded once.
func (p *Partition) Loaded() bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.loaded
}

// Segments returns the readable remote segments, oldest first.
func (p *Partition) Segments() []*Segment {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return slices.Clone(p.segs)
}

// Bounds are the first offset and the last offset held remotely and their
// bytes; ok is false when nothing is.
func (p *Partition) Bounds() (start, end, size int64, ok bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if len(p.segs) == 0 {
		return -1, -1, 0, false
	}
	for _, s := range p.segs {
		size += s.SizeBytes
		end = max(end, s.EndOffset)
	}
	if end < p.start {
		return -1, -1, 0, false
	}
	return max(p.segs[0].StartOffset, p.start), end, size, true
}

// segmentFor is the remote segment holding offset, nil if none does.
func (p *Partition) segmentFor(offset int64) *Segment {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if offset < p.start {
		return nil
	}
	i := sort.Search(len(p.segs), func(i int) bool { return p.segs[i].StartOffset > offset }) - 1
	for ; i >= 0; i-- {
		if p.segs[i].EndOffset >= offset {
			return p.segs[i]
		}
	}
	return nil
}

func (p *Partition) putManifest(ctx context.Context, s *Segment, state State) error {
	s.State, s.EventTimestamp = state, time.Now().UnixMilli()
	b, err := encodeManifest(s)
	if err != nil {
		return err
	}
	return p.store.PutBytes(ctx, p.key.object(s, sufManifest), b)
}

// DeleteSegment removes a remote segment: the manifest first says
// DELETE_SEGMENT_STARTED (readers stop using it), then the data goes, then
// the manifest. A crash in between leaves a manifest that the next
// CleanPending finishes.
func (p *Partition) DeleteSegment(ctx context.Context, s *Segment) error {
	p.mu.Lock()
	n := len(p.segs)
	p.segs = slices.DeleteFunc(p.segs, func(x *Segment) bool { return x.ID == s.ID })
	readable := len(p.segs) < n
	p.mu.Unlock()
	d := *s
	if d.State != DeleteStarted {
		if err := p.putManifest(ctx, &d, DeleteStarted); err != nil {
			// Nothing changed: a readable segment stays readable, an
			// unfinished copy stays pending (never readable).
			if readable {
				p.restore(s)
			} else {
				p.notePending(s)
			}
			return err
		}
	}
	keys := make([]string, 0, len(dataSuffixes))
	for _, suf := range dataSuffixes {
		keys = append(keys, p.key.object(&d, suf))
	}
	if err := p.store.Delete(ctx, keys); err != nil {
		p.notePending(&d)
		return err
	}
	if err := p.store.Delete(ctx, []string{p.key.object(&d, sufManifest)}); err != nil {
		p.notePending(&d)
		return err
	}
	p.store.stats.SegmentsDeleted.Add(1)
	return nil
}

// restore puts back a segment whose delete never started.
func (p *Partition) restore(s *Segment) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.segs = append(p.segs, s)
	sort.Slice(p.segs, func(i, j int) bool { return p.segs[i].StartOffset < p.segs[j].StartOffset })
}

func (p *Partition) notePending(s *Segment) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !slices.ContainsFunc(p.pending, func(x *Segment) bool { return x.ID == s.ID }) {
		p.pending = append(p.pending, s)
	}
}

// CleanPending finishes what a crash interrupted: deletes that started,
// and copies that never finished, which were this broker's own (it copies
// one segment at a time, so none is in flight now) or are older than
// staleAfter (another broker's, which lost leadership or died).
func (p *Partition) CleanPending(ctx context.Context, self int32, staleAfter time.Duration) error {
	p.mu.Lock()
	pending := p.pending
	p.pending = nil
	p.mu.Unlock()
	now := time.Now().UnixMilli()
	var firstErr error
	for _, s := range pending {
		if s.State == CopyStarted && s.BrokerID != self && now-s.EventTimestamp < staleAfter.Milliseconds() {
			p.notePending(s)
			continue
		}
		if err := p.DeleteSegment(ctx, s); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// DeleteAll removes every object of the partition (its topic was deleted).
func (p *Partition) DeleteAll(ctx context.Context) error {
	objs, err := p.store.List(ctx, p.key.Dir())
	if err != nil {
		return err
	}
	// Data before manifests: a crash midway leaves manifests a later
	// listing still finds.
	var data, manifests []string
	for _, o := range objs {
		if isManifest(o.Key) {
			manifests = append(manifests, o.Key)
		} else {
			data = append(data, o.Key)
		}
	}
	if err := p.store.Delete(ctx, data); err != nil {
		return err
	}
	return p.store.Delete(ctx, manifests)
}
