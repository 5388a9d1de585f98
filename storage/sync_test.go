package storage

import (
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// syncRecorder stands in for fdatasync and records, for each .log sync, how
// many bytes the file held when it began: exactly the bytes that sync makes
// durable.
type syncRecorder struct {
	mu       sync.Mutex
	durable  int64 // bytes covered by completed syncs
	syncs    int
	inFlight atomic.Int32
	overlap  atomic.Bool
}

func (r *syncRecorder) fsync(f *os.File) error {
	if r.inFlight.Add(1) > 1 {
		r.overlap.Store(true)
	}
	defer r.inFlight.Add(-1)
	st, err := f.Stat()
	if err != nil {
		return err
	}
	time.Sleep(2 * time.Millisecond) // a disk that is slow enough to batch behind
	r.mu.Lock()
	r.syncs++
	r.durable = max(r.durable, st.Size())
	r.mu.Unlock()
	return nil
}

func (r *syncRecorder) state() (int64, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.durable, r.syncs
}

func TestGroupCommit(t *testing.T) {
	rec := &syncRecorder{}
	cfg := smallConfig()
	cfg.SegmentBytes = 64 << 20 // one segment: file sizes are log positions
	cfg.MaxIndexBytes = 1 << 20
	l := openTestLog(t, t.TempDir(), cfg, Options{Fsync: rec.fsync})
	defer l.Close()
	const writers, rounds = 32, 20
	var wg sync.WaitGroup
	errs := make(chan string, writers*rounds)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				b := makeBatch(t, batchSpec{records: 2, valueSize: 100})
				res, err := l.Append(b, 1, -1)
				if err != nil {
					errs <- err.Error()
					return
				}
				if err := l.Sync(t.Context(), res.LastOffset+1); err != nil {
					errs <- err.Error()
					return
				}
				end := res.StartPosition + int64(len(b))
				if durable, _ := rec.state(); durable < end {
					errs <- "Sync returned before an fsync covered its append"
				}
				if l.FlushedOffset() <= res.LastOffset {
					errs <- "flushed offset below a synced append"
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	_, syncs := rec.state()
	if syncs >= writers*rounds/2 {
		t.Fatalf("%d fsyncs for %d Sync calls: commits are not shared", syncs, writers*rounds)
	}
	if rec.overlap.Load() {
		t.Fatal("two flushes ran at once")
	}
	t.Logf("%d Sync calls served by %d fsyncs", writers*rounds, syncs)
}

func TestSyncAlreadyDurableDoesNotFsync(t *testing.T) {
	rec := &syncRecorder{}
	l := openTestLog(t, t.TempDir(), smallConfig(), Options{Fsync: rec.fsync})
	defer l.Close()
	appendN(t, l, 3, 1, 10, tsIdentity)
	if err := l.Sync(t.Context(), 3); err != nil {
		t.Fatal(err)
	}
	_, n := rec.state()
	if err := l.Sync(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	if _, m := rec.state(); m != n || n == 0 {
		t.Fatalf("syncs %d then %d", n, m)
	}
}

func TestSyncCoversRolledSegments(t *testing.T) {
	rec := &syncRecorder{}
	l := openTestLog(t, t.TempDir(), smallConfig(), Options{Fsync: rec.fsync})
	defer l.Close()
	appendN(t, l, 200, 1, 300, tsIdentity)
	if err := l.Sync(t.Context(), l.LogEndOffset()); err != nil {
		t.Fatal(err)
	}
	for _, s := range l.segs[:len(l.segs)-1] {
		if !s.closedSynced || s.synced != s.size {
			t.Fatalf("segment %d not synced", s.base)
		}
	}
	if rp, ok, _ := readOffsetFile(l.dir, recoveryPointFile); !ok || rp != 200 {
		t.Fatalf("recovery point checkpoint %d %v", rp, ok)
	}
}

func TestFlushIntervalMessages(t *testing.T) {
	rec := &syncRecorder{}
	cfg := smallConfig()
	cfg.FlushIntervalMessages = 10
	l := openTestLog(t, t.TempDir(), cfg, Options{Fsync: rec.fsync})
	defer l.Close()
	appendN(t, l, 9, 1, 10, tsIdentity)
	if _, n := rec.state(); n != 0 || l.FlushedOffset() != 0 {
		t.Fatalf("flushed early: %d syncs", n)
	}
	appendN(t, l, 1, 1, 10, tsIdentity)
	if l.FlushedOffset() != 10 {
		t.Fatalf("flushed offset %d after 10 messages", l.FlushedOffset())
	}
}

func TestFlushIntervalMs(t *testing.T) {
	rec := &syncRecorder{}
	clock := newFakeClock()
	cfg := smallConfig()
	cfg.FlushIntervalMs = 1000
	l := openTestLog(t, t.TempDir(), cfg, Options{Fsync: rec.fsync, Now: clock.Now})
	defer l.Close()
	appendN(t, l, 3, 1, 10, tsIdentity)
	if err := l.MaybeFlush(t.Context()); err != nil || l.FlushedOffset() != 0 {
		t.Fatalf("flushed before the interval: %d %v", l.FlushedOffset(), err)
	}
	clock.Advance(1500 * time.Millisecond)
	if err := l.MaybeFlush(t.Context()); err != nil || l.FlushedOffset() != 3 {
		t.Fatalf("not flushed after the interval: %d %v", l.FlushedOffset(), err)
	}
}
