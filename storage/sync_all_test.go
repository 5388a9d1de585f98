package storage

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// SyncAll answers each target only once an fsync that began after its
// append has finished, flushes different logs at the same time, and still
// shares one flush among concurrent callers of one log.
func TestSyncAllFlushesLogsTogether(t *testing.T) {
	const logs = 6
	var running, peak atomic.Int32
	recs := make([]*syncRecorder, logs)
	ls := make([]*Log, logs)
	root := t.TempDir()
	for i := range ls {
		rec := &syncRecorder{}
		recs[i] = rec
		fsync := func(f *os.File) error {
			n := running.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			defer running.Add(-1)
			return rec.fsync(f)
		}
		cfg := smallConfig()
		cfg.SegmentBytes = 64 << 20 // one segment: file sizes are log positions
		ls[i] = openTestLog(t, filepath.Join(root, string(rune('a'+i))), cfg, Options{Fsync: fsync})
		defer ls[i].Close()
	}
	const callers, rounds = 8, 10
	var wg sync.WaitGroup
	errs := make(chan string, callers*rounds*logs)
	for c := 0; c < callers; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				ts := make([]SyncTarget, logs)
				ends := make([]int64, logs)
				for i, l := range ls {
					b := makeBatch(t, batchSpec{records: 2, valueSize: 100})
					res, err := l.Append(b, 1, -1)
					if err != nil {
						errs <- err.Error()
						return
					}
					ts[i] = SyncTarget{Log: l, UpTo: res.LastOffset + 1}
					ends[i] = res.StartPosition + int64(len(b))
				}
				SyncAll(t.Context(), ts)
				for i := range ts {
					if ts[i].Err != nil {
						errs <- ts[i].Err.Error()
					}
					if durable, _ := recs[i].state(); durable < ends[i] {
						errs <- "SyncAll returned before an fsync covered an append"
					}
					if ls[i].FlushedOffset() < ts[i].UpTo {
						errs <- "flushed offset below a synced append"
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	for i, rec := range recs {
		if rec.overlap.Load() {
			t.Fatalf("log %d: two flushes of one log ran at once", i)
		}
		if _, n := rec.state(); n >= callers*rounds {
			t.Fatalf("log %d: %d fsyncs for %d syncs: commits are not shared", i, n, callers*rounds)
		}
	}
	if peak.Load() < 2 {
		t.Fatal("the logs' fsyncs never ran at the same time")
	}
}

// A log whose fsync fails fails only its own targets.
func TestSyncAllReportsEachLogsError(t *testing.T) {
	broken := errors.New("disk on fire")
	good := openTestLog(t, t.TempDir(), smallConfig(), Options{Fsync: func(*os.File) error { return nil }})
	defer good.Close()
	bad := openTestLog(t, t.TempDir(), smallConfig(), Options{Fsync: func(*os.File) error {
		time.Sleep(time.Millisecond)
		return broken
	}})
	defer bad.Close()
	appendN(t, good, 2, 1, 10, tsIdentity)
	appendN(t, bad, 2, 1, 10, tsIdentity)
	ts := []SyncTarget{{Log: bad, UpTo: 2}, {Log: good, UpTo: 2}, {Log: bad, UpTo: 1}}
	SyncAll(t.Context(), ts)
	if !errors.Is(ts[0].Err, broken) || !errors.Is(ts[2].Err, broken) {
		t.Fatalf("failing log: %v, %v", ts[0].Err, ts[2].Err)
	}
	if ts[1].Err != nil || good.FlushedOffset() != 2 {
		t.Fatalf("healthy log: %v, flushed %d", ts[1].Err, good.FlushedOffset())
	}
	if bad.FlushedOffset() != 0 {
		t.Fatalf("failed flush credited: %d", bad.FlushedOffset())
	}
}
