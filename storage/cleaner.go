package storage

import (
	"context"
	"fmt"
	"time"

	"spool/record"
)

// DefaultDedupeBufferSize is log.cleaner.dedupe.buffer.size's default.
const DefaultDedupeBufferSize = 128 << 20

// CleanerOptions configures one cleaner (one per cleaner thread).
type CleanerOptions struct {
	// DedupeBufferSize bounds the offset map in bytes (24 per key). A dirty
	// section with more keys is cleaned in several passes.
	DedupeBufferSize int64
	// Hook, for tests, runs at each Step*; an error stops the clean there
	// with the files as a crash at that point would leave them.
	Hook func(step string) error
	// Inflate lends the memory a compressed batch is inflated into while
	// it is mapped or filtered, shared with produce validation (the
	// broker's queued.max.inflated.bytes); the cleaner waits for room
	// rather than failing, and gives it back after each batch, so a thread
	// never holds more than one batch's inflated records. Nil bounds only
	// each batch, at record.MaxInflated.
	Inflate *record.Budget
}

// Cleaner compacts logs: it maps each key of a log's dirty section to its
// latest offset, then rewrites the log from its start through that section
// keeping only those latest records. A Cleaner cleans one log at a time;
// run several for several threads.
type Cleaner struct {
	hook    func(string) error
	m       *offsetMap
	scan    *batchScanner
	coder   record.Coder
	inflate *record.Budget
}

// NewCleaner returns a cleaner; its offset map grows on demand up to the
// dedupe buffer size.
func NewCleaner(opts CleanerOptions) *Cleaner {
	if opts.DedupeBufferSize <= 0 {
		opts.DedupeBufferSize = DefaultDedupeBufferSize
	}
	if opts.Hook == nil {
		opts.Hook = func(string) error { return nil }
	}
	return &Cleaner{hook: opts.Hook, inflate: opts.Inflate, m: newOffsetMap(opts.DedupeBufferSize), scan: newBatchScanner()}
}

// Clean compacts l's closed segments below upTo. A log without
// cleanup.policy=compact is left alone. It returns what it did; Segments is
// 0 when there was nothing to clean.
//
// upTo must be the partition's last stable offset (its first unstable
// offset, never above the high watermark): records of a transaction still
// open cannot be told from committed ones, so no segment holding any is
// cleaned.
func (c *Cleaner) Clean(ctx context.Context, l *Log, upTo int64) (CleanResult, error) {
	l.cleanMu.Lock()
	defer l.cleanMu.Unlock()
	started := time.Now()
	if !l.Config().Compact {
		return CleanResult{}, nil
	}
	p, err := l.planClean(upTo)
	if err != nil || p == nil {
		return CleanResult{}, err
	}
	defer p.release(l.files)
	res := CleanResult{FirstDirty: p.firstDirty}
	lastOf, err := c.buildMap(ctx, p, &res)
	if err == nil {
		err = c.hook(StepMapped)
	}
	if err != nil {
		return res, fmt.Errorf("clean %s: %w", l.dir, err)
	}
	cfg := l.Config()
	f := &filter{room: record.Room{Budget: c.inflate, Ctx: ctx},
		m: c.m, end: res.EndOffset, nowMs: l.nowMs(), retainMs: cfg.DeleteRetentionMs,
		lastOfProducer: lastOf, coder: &c.coder, horizon: -1, txn: newTxnFilter(&p.txns),
	}
	k := 0
	for k < len(p.segs) && p.segs[k].base < res.EndOffset {
		k++
	}
	for _, g := range p.groups(k, cfg.SegmentBytes) {
		if err := c.cleanGroup(ctx, l, p, g, f, cfg.IndexIntervalBytes, &res); err != nil {
			return res, fmt.Errorf("clean %s: %w", l.dir, err)
		}
	}
	res.RecordsRead, res.RecordsDropped = f.read, f.dropped
	res.Duration = time.Since(started)
	if err := l.finishClean(res, f.horizon); err != nil {
		return res, err
	}
	return res, c.hook(StepFinished)
}

// buildMap maps the keys of the dirty section to their latest offsets until
// the map is full, and notes each producer's last batch below the point
// mapping reached. It sets res.EndOffset: the first offset not mapped.
func (c *Cleaner) buildMap(ctx context.Context, p *cleanPlan, res *CleanResult) (map[int64]int64, error) {
	c.m.reset()
	lastOf := map[int64]int64{}
	res.EndOffset = p.limit
	full := false
	aborts := newAbortTracker(p.txns.byFirst)
	onHeader := func(h record.Header) (scanAction, error) {
		switch {
		case h.LastOffset() < p.firstDirty || h.IsControl():
		case h.IsTransactional() && aborts.aborted(h):
			// An aborted record must never shadow a committed one.
		case !c.m.room(int(h.NumRecords)) && c.m.n == 0:
			return scanStop, fmt.Errorf("dedupe buffer holds %d keys, batch at %d has %d records",
				c.m.capacity(), h.BaseOffset, h.NumRecords)
		case !c.m.room(int(h.NumRecords)):
			full, res.EndOffset = true, h.BaseOffset
			return scanStop, nil
		default:
			return scanBody, nil
		}
		if h.ProducerID >= 0 {
			lastOf[h.ProducerID] = h.BaseOffset
		}
		return scanSkip, nil
	}
	onBody := func(h record.Header, b []byte) error {
		if h.ProducerID >= 0 {
			lastOf[h.ProducerID] = h.BaseOffset
		}
		res.DirtyBytes += int64(len(b))
		return c.mapBatch(ctx, h, b)
	}
	for i := 0; i < len(p.segs) && !full; i++ {
		if err := c.scan.scan(ctx, p.refs[i], p.sizes[i], onHeader, onBody); err != nil {
			return nil, err
		}
	}
	return lastOf, nil
}

// mapBatch records the offset of every keyed record of a batch.
func (c *Cleaner) mapBatch(ctx context.Context, h record.Header, b []byte) error {
	recs := b[record.HeaderLen:]
	if h.Compression() != record.CompressionNone {
		var (
			loan record.Loan
			err  error
		)
		recs, loan, err = c.coder.Inflate(record.Room{Budget: c.inflate, Ctx: ctx}, h.Compression(), recs)
		defer loan.Return()
		if err != nil {
			return fmt.Errorf("batch at %d: %w", h.BaseOffset, err)
		}
	}
	it := record.NewIter(recs, h.NumRecords)
	for r, ok := it.Next(); ok; r, ok = it.Next() {
		if r.Key != nil {
			c.m.put(r.Key, h.BaseOffset+int64(r.OffsetDelta))
		}
	}
	return it.Err()
}

// cleanGroup rewrites segments g[0]..g[1]-1 of the plan into one and swaps
// it in.
func (c *Cleaner) cleanGroup(ctx context.Context, l *Log, p *cleanPlan, g [2]int, f *filter, interval int, res *CleanResult) error {
	old := p.segs[g[0]:g[1]]
	w, err := newSegWriter(l.dir, old[0].base, l.nowMs(), interval)
	if err != nil {
		return err
	}
	var mtime int64
	onHeader := func(record.Header) (scanAction, error) { return scanBody, nil }
	onBody := func(h record.Header, b []byte) error {
		out, err := f.batch(b, h)
		if err != nil || out == nil {
			return err
		}
		return w.write(out)
	}
	for i := g[0]; i < g[1]; i++ {
		res.BytesBefore += p.sizes[i]
		mtime = max(mtime, p.mtime[i])
		if err := c.scan.scan(ctx, p.refs[i], p.sizes[i], onHeader, onBody); err != nil {
			w.abort()
			return err
		}
	}
	w.txns = f.txn.takeKept()
	ns, err := w.finish(l.fsync, time.UnixMilli(mtime))
	if err != nil {
		w.abort()
		return err
	}
	if err := c.hook(StepCleaned); err != nil {
		return err
	}
	if err := l.swapIn(old, p.txns.counts[g[0]:g[1]], ns, c.hook); err != nil {
		return err
	}
	res.Segments += len(old)
	res.Groups++
	res.BytesAfter += ns.size
	return nil
}

// finishClean records the clean so the next one maps from where this one
// stopped. The checkpoint is written after the swaps: a crash before it
// only makes the next clean map some records twice.
func (l *Log) finishClean(res CleanResult, horizon int64) error {
	l.mu.Lock()
	st := cleanerState{firstDirty: res.EndOffset, lastCleanMs: l.nowMs(), horizon: horizon, last: res}
	l.clean = st
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return l.writeCleanerCheckpoint(st)
}
