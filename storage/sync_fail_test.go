package storage

import (
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// A failed fsync fails the log for good: Linux may drop the pages it could
// not write, so a later fsync that succeeds proves nothing about them.
func TestFailedFsyncIsNeverRetriedIntoSuccess(t *testing.T) {
	broken := errors.New("EIO")
	var calls, fails atomic.Int32
	fails.Store(1) // the first fsync fails, every later one succeeds
	fsync := func(*os.File) error {
		calls.Add(1)
		if fails.Add(-1) >= 0 {
			return broken
		}
		return nil
	}
	dir := t.TempDir()
	l := openTestLog(t, dir, smallConfig(), Options{Fsync: fsync})
	appendN(t, l, 3, 1, 10, tsIdentity)
	if err := l.Sync(t.Context(), 3); !errors.Is(err, broken) || !errors.Is(err, ErrSyncFailed) {
		t.Fatalf("first sync: %v, want the fsync error", err)
	}
	if err := l.Sync(t.Context(), 3); !errors.Is(err, ErrSyncFailed) {
		t.Fatalf("second sync of the same data: %v, want ErrSyncFailed", err)
	}
	if err := l.Sync(t.Context(), 1); !errors.Is(err, ErrSyncFailed) {
		t.Fatalf("sync below the failed range: %v, want ErrSyncFailed", err)
	}
	ts := []SyncTarget{{Log: l, UpTo: 3}}
	if SyncAll(t.Context(), ts); !errors.Is(ts[0].Err, ErrSyncFailed) {
		t.Fatalf("SyncAll: %v, want ErrSyncFailed", ts[0].Err)
	}
	b := makeBatch(t, batchSpec{records: 1, valueSize: 10})
	if _, err := l.Append(b, 3, -1); !errors.Is(err, ErrSyncFailed) {
		t.Fatalf("append after a failed fsync: %v, want ErrSyncFailed", err)
	}
	if _, err := l.AppendAsFollower(b); !errors.Is(err, ErrSyncFailed) {
		t.Fatalf("follower append after a failed fsync: %v, want ErrSyncFailed", err)
	}
	if leo, f := l.LogEndOffset(), l.FlushedOffset(); leo != 3 || f != 0 {
		t.Fatalf("log end %d, flushed %d; want 3 and 0", leo, f)
	}
	if err := l.MaybeFlush(t.Context()); err != nil {
		t.Fatalf("scheduled flush of a failed log: %v, want it skipped", err)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d fsyncs, want only the one that failed", n)
	}
	if err := l.Close(); !errors.Is(err, ErrSyncFailed) {
		t.Fatalf("close: %v, want ErrSyncFailed", err)
	}
	if _, err := os.Stat(filepath.Join(dir, cleanShutdownFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("clean-shutdown marker after a failed fsync: %v; the next open would skip recovery", err)
	}
	// A restart recovers what reached the disk and writes again.
	again := openTestLog(t, dir, smallConfig(), Options{Fsync: fsync})
	defer again.Close()
	appendN(t, again, 1, 1, 10, tsIdentity)
	if err := again.Sync(t.Context(), again.LogEndOffset()); err != nil {
		t.Fatalf("sync after restart: %v", err)
	}
}
