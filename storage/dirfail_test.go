package storage

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A partition directory removed under an open log: the files stay
// writable through their descriptors, but the flush that would acknowledge
// the records notices the active segment has no name left and fails the
// log for good, telling the owner once.
func TestRemovedDirFailsTheFlushThatWouldAcknowledge(t *testing.T) {
	dir := t.TempDir()
	failed := make(chan error, 4)
	l := openTestLog(t, dir, smallConfig(), Options{OnFail: func(_ *Log, err error) { failed <- err }})
	appendN(t, l, 3, 1, 10, tsIdentity)
	if err := l.Sync(t.Context(), 3); err != nil {
		t.Fatalf("sync before removal: %v", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	b := makeBatch(t, batchSpec{records: 1, valueSize: 10})
	// The write itself succeeds into the unlinked file; only the sync can tell.
	if _, err := l.Append(b, 3, -1); err != nil {
		t.Fatalf("append into the unlinked segment: %v", err)
	}
	err := l.Sync(t.Context(), 4)
	if !errors.Is(err, ErrLogDirFailed) || !errors.Is(err, ErrDirVanished) {
		t.Fatalf("sync after removal: %v, want ErrLogDirFailed (vanished)", err)
	}
	if f := l.FlushedOffset(); f != 3 {
		t.Fatalf("flushed %d after the failed sync, want 3: the unlinked record must not count as durable", f)
	}
	if _, err := l.Append(b, 3, -1); !errors.Is(err, ErrLogDirFailed) {
		t.Fatalf("append after failure: %v, want ErrLogDirFailed", err)
	}
	if err := l.CheckDir(); !errors.Is(err, ErrLogDirFailed) {
		t.Fatalf("CheckDir after failure: %v", err)
	}
	select {
	case err := <-failed:
		if !errors.Is(err, ErrDirVanished) {
			t.Fatalf("OnFail got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnFail never called")
	}
	select {
	case err := <-failed:
		t.Fatalf("OnFail called twice: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
}

// The periodic check finds a removed directory even when nothing is
// written, and leaves a healthy log alone.
func TestCheckDirFindsRemovedDirectory(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, smallConfig(), Options{})
	appendN(t, l, 2, 1, 10, tsIdentity)
	if err := l.CheckDir(); err != nil {
		t.Fatalf("healthy log: %v", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := l.CheckDir(); !errors.Is(err, ErrLogDirFailed) || !errors.Is(err, ErrDirVanished) {
		t.Fatalf("CheckDir after removal: %v, want ErrLogDirFailed (vanished)", err)
	}
	if err := l.Sync(t.Context(), 2); !errors.Is(err, ErrLogDirFailed) {
		t.Fatalf("sync after the check failed the log: %v", err)
	}
}

// A failed write (other than a full disk) fails the log: Fail from the
// outside does the same, as when a sibling log took the directory offline.
func TestFailFromOutsideRefusesAppends(t *testing.T) {
	l := openTestLog(t, t.TempDir(), smallConfig(), Options{})
	appendN(t, l, 1, 1, 10, tsIdentity)
	l.Fail(errors.New("log dir offline"))
	b := makeBatch(t, batchSpec{records: 1, valueSize: 10})
	if _, err := l.Append(b, 1, -1); !errors.Is(err, ErrLogDirFailed) {
		t.Fatalf("append: %v", err)
	}
	if l.Failure() == nil {
		t.Fatal("Failure() is nil")
	}
}

// A partition directory moved away and replaced by a copy (a restore from
// a backup under a running broker): the active segment's name now holds
// another file, while the log still writes through its descriptor into the
// moved one, where no restart would look. The periodic check must fail the
// log even though a file of that name exists and has a link.
func TestCheckDirFindsActiveSegmentReplaced(t *testing.T) {
	for _, reopened := range []bool{false, true} {
		t.Run(map[bool]string{false: "created", true: "reopened"}[reopened], func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "p-0")
			l := openTestLog(t, dir, smallConfig(), Options{})
			appendN(t, l, 2, 1, 10, tsIdentity)
			if reopened {
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				l = openTestLog(t, dir, smallConfig(), Options{})
				appendN(t, l, 1, 1, 10, tsIdentity) // pins the active segment's descriptor
			}
			if err := l.CheckDir(); err != nil {
				t.Fatalf("healthy log: %v", err)
			}
			replaceDirWithCopy(t, dir)
			if err := l.CheckDir(); !errors.Is(err, ErrLogDirFailed) || !errors.Is(err, ErrDirVanished) {
				t.Fatalf("CheckDir after the directory was replaced: %v, want ErrLogDirFailed (vanished)", err)
			}
			b := makeBatch(t, batchSpec{records: 1, valueSize: 10})
			if _, err := l.Append(b, 1, -1); !errors.Is(err, ErrLogDirFailed) {
				t.Fatalf("append after the check failed the log: %v", err)
			}
		})
	}
}

// replaceDirWithCopy moves dir aside and puts a copy of its files in its
// place.
func replaceDirWithCopy(t *testing.T, dir string) {
	t.Helper()
	moved := dir + ".moved"
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(dir, os.DirFS(moved)); err != nil {
		t.Fatal(err)
	}
}
