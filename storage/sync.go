package storage

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"
)

// Sync returns once every offset below upTo (capped at the log end offset)
// is durable. Concurrent callers share fsyncs: one caller runs the flush
// while the others wait for it, and callers arriving during a flush wait for
// the next one, which covers everything appended by then.
func (l *Log) Sync(ctx context.Context, upTo int64) error {
	for {
		l.mu.Lock()
		if err := l.failure(); err != nil {
			l.mu.Unlock()
			return fmt.Errorf("sync %s: %w", l.dir, err)
		}
		upTo = min(upTo, l.leo)
		if upTo <= l.flushed {
			l.mu.Unlock()
			return nil
		}
		if l.closed {
			l.mu.Unlock()
			return ErrClosed
		}
		if l.flushing {
			ch := l.flushDone
			l.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		w, err := l.startFlushLocked()
		l.mu.Unlock()
		if err != nil {
			return fmt.Errorf("sync %s: %w", l.dir, err)
		}
		err = l.runFlush(w)
		l.mu.Lock()
		l.finishFlushLocked(w, err)
		l.mu.Unlock()
		if err != nil {
			return fmt.Errorf("sync %s: %w", l.dir, err)
		}
	}
}

// SyncTarget asks SyncAll to make Log durable below UpTo; Err is that
// target's outcome.
type SyncTarget struct {
	Log  *Log
	UpTo int64
	Err  error
}

// SyncAll does what Sync does for every target, but flushes the logs that
// need it in one pass with their fsyncs running concurrently: the file
// system then commits several logs' data in one journal commit instead of
// one after another. Group commit per log is unchanged: a log already
// flushing is waited for, and covered by the next flush if that one
// started too early.
func SyncAll(ctx context.Context, ts []SyncTarget) {
	pending := make([]int, 0, len(ts))
	for i := range ts {
		pending = append(pending, i)
	}
	var (
		started []startedFlush
		waits   []chan struct{}
		errs    []error
	)
	for len(pending) > 0 {
		started, waits = started[:0], waits[:0]
		next := pending[:0]
		for _, i := range pending {
			t := &ts[i]
			flush, wait, done := t.Log.joinFlush(t)
			switch {
			case done:
				continue
			case flush != nil:
				started = append(started, startedFlush{log: t.Log, work: flush})
			case wait != nil:
				waits = append(waits, wait)
			}
			next = append(next, i)
		}
		pending = next
		errs = runFlushes(started, errs[:0])
		for k, sf := range started {
			if errs[k] == nil {
				continue
			}
			for _, i := range pending {
				if ts[i].Log == sf.log {
					ts[i].Err = fmt.Errorf("sync %s: %w", sf.log.dir, errs[k])
				}
			}
		}
		for _, ch := range waits {
			select {
			case <-ch:
			case <-ctx.Done():
			}
		}
		next = pending[:0]
		for _, i := range pending {
			switch {
			case ts[i].Err != nil:
			case ctx.Err() != nil:
				ts[i].Err = ctx.Err()
			default:
				next = append(next, i)
			}
		}
		pending = next
	}
}

// startedFlush is one log's flush begun by SyncAll.
type startedFlush struct {
	log  *Log
	work *flushWork
}

// joinFlush looks at t under the log's lock: done when t is already
// durable (or failed: t.Err is set), a channel to wait on when another
// flush is running, or a flush this caller must run.
func (l *Log) joinFlush(t *SyncTarget) (*flushWork, chan struct{}, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.failure(); err != nil {
		t.Err = fmt.Errorf("sync %s: %w", l.dir, err)
		return nil, nil, true
	}
	if min(t.UpTo, l.leo) <= l.flushed {
		return nil, nil, true
	}
	if l.closed {
		t.Err = ErrClosed
		return nil, nil, true
	}
	if l.flushing {
		return nil, l.flushDone, false
	}
	w, err := l.startFlushLocked()
	if err != nil {
		t.Err = fmt.Errorf("sync %s: %w", l.dir, err)
		return nil, nil, true
	}
	return w, nil, false
}

// runFlushes runs the flushes concurrently, the first on the calling
// goroutine, credits each to its log and returns their errors in order.
func runFlushes(fs []startedFlush, errs []error) []error {
	errs = append(errs, make([]error, len(fs))...)
	if len(fs) == 0 {
		return errs
	}
	var wg sync.WaitGroup
	for k := 1; k < len(fs); k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[k] = fs[k].log.runFlush(fs[k].work)
		}()
	}
	errs[0] = fs[0].log.runFlush(fs[0].work)
	wg.Wait()
	for k, sf := range fs {
		sf.log.mu.Lock()
		sf.log.finishFlushLocked(sf.work, errs[k])
		sf.log.mu.Unlock()
	}
	return errs
}

// MaybeFlush flushes when flush.ms has passed since the last flush and data
// is waiting. A broker calls it for every log from one periodic task, so idle
// partitions cost no goroutine or timer of their own.
func (l *Log) MaybeFlush(ctx context.Context) error {
	l.mu.RLock()
	due := l.flushDueLocked()
	end := l.leo
	l.mu.RUnlock()
	if !due {
		return nil
	}
	return l.Sync(ctx, end)
}

// flushDueLocked applies flush.messages and flush.ms.
func (l *Log) flushDueLocked() bool {
	if l.closed || l.leo <= l.flushed || l.failure() != nil {
		return false
	}
	if l.leo-l.flushed >= l.cfg.FlushIntervalMessages {
		return true
	}
	return l.cfg.FlushIntervalMs >= 0 && l.nowMs()-l.lastFlushMs >= l.cfg.FlushIntervalMs
}

// flushWork is what one flush makes durable, captured under the lock.
type flushWork struct {
	target  int64 // log end offset when the flush started
	gen     uint64
	done    chan struct{}
	dir     bool // fsync the directory for new segment files
	items   []flushItem
	rolled  bool // a closed segment becomes fully durable: checkpoint
	refs    []*FileRef
	started int64
	// active is the active segment's log file when it has unsynced data:
	// a flush checks it is still linked before crediting the fsync.
	active *FileRef
}

type flushItem struct {
	seg    *segment
	size   int64
	closed bool
}

// startFlushLocked marks a flush as running and pins the files of every
// segment with unsynced data, newest last.
func (l *Log) startFlushLocked() (*flushWork, error) {
	w := &flushWork{target: l.leo, gen: l.gen, done: make(chan struct{}), dir: l.dirDirty, started: l.nowMs()}
	i := len(l.segs) - 1
	for i > 0 && !l.segs[i-1].closedSynced {
		i--
	}
	for _, s := range l.segs[i:] {
		closed := !s.active()
		if !closed && s.synced >= s.size {
			continue
		}
		it := flushItem{seg: s, size: s.size, closed: closed}
		ps, n := s.syncPaths(closed)
		w.rolled = w.rolled || closed
		for _, p := range ps[:n] {
			ref, err := l.files.Pin(p)
			if err != nil {
				w.release(l.files)
				return nil, err
			}
			w.refs = append(w.refs, ref)
			if !closed && p == s.logPath {
				w.active = ref
			}
		}
		w.items = append(w.items, it)
	}
	l.dirDirty = false
	l.flushing = true
	l.flushDone = w.done
	return w, nil
}

// runFlush does the fsyncs without holding the log's lock, so appends and
// reads continue meanwhile.
func (l *Log) runFlush(w *flushWork) error {
	defer w.release(l.files)
	defer l.flushes.observe(time.Now())
	for _, ref := range w.refs {
		if err := l.syncFile(ref.f); err != nil {
			return err
		}
	}
	if w.dir {
		if err := l.syncLogDir(); err != nil {
			return err
		}
	}
	if err := l.checkFlushLinked(w); err != nil {
		return err
	}
	if w.rolled {
		// Recovery re-validates from this point, so advancing it once per
		// rolled segment keeps crash recovery to about one segment.
		return writeOffsetFile(l.dir, recoveryPointFile, w.target)
	}
	return nil
}

// checkFlushLinked fails the log when the active segment it just synced has
// been unlinked (its partition directory removed): the fsync succeeded, but
// into a file no restart will find. A truncation or close that removed the
// segment itself makes the flush stale instead.
func (l *Log) checkFlushLinked(w *flushWork) error {
	if w.active == nil {
		return nil
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(w.active.f.Fd()), &st); err == nil && st.Nlink > 0 {
		return nil
	}
	l.mu.RLock()
	stale := l.gen != w.gen || l.closed
	l.mu.RUnlock()
	if stale {
		return nil
	}
	return l.checkLinked(w.active.f)
}

func (w *flushWork) release(fc *FileCache) {
	for _, ref := range w.refs {
		fc.Unpin(ref)
	}
	w.refs = nil
	w.active = nil
}

// finishFlushLocked credits the flush unless a truncation made its view
// stale, and wakes the waiters.
func (l *Log) finishFlushLocked(w *flushWork, err error) {
	if err == nil && w.gen == l.gen {
		for _, it := range w.items {
			it.seg.synced = max(it.seg.synced, it.size)
			if it.closed {
				it.seg.closedSynced = true
			}
		}
		l.flushed = max(l.flushed, w.target)
		l.lastFlushMs = w.started
	}
	if err != nil {
		l.dirDirty = l.dirDirty || w.dir
	}
	l.flushing = false
	close(w.done)
}
