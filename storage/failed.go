package storage

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"go.uber.org/zap"
)

// ErrSyncFailed reports a log whose fsync once failed. On Linux a failed
// fsync may drop the dirty pages it could not write and clear the error,
// so a later fsync can succeed without the data: retrying would turn lost
// records into acknowledged ones. The log therefore refuses every later
// append and sync until the process restarts and recovery re-validates
// what actually reached the disk.
var ErrSyncFailed = errors.New("an earlier fsync failed; the log refuses writes until restart")

// ErrLogDirFailed reports a log whose directory failed: an I/O error while
// writing, its files unlinked under it (a removed partition directory), or
// its log directory taken offline. Like ErrSyncFailed it lasts until
// restart: writing on into unlinked files would acknowledge records no
// restart can find.
var ErrLogDirFailed = errors.New("log directory failed; the log refuses reads and writes until restart")

// ErrDirVanished is the cause given when a log's directory or active
// segment is no longer on disk.
var ErrDirVanished = errors.New("partition directory or its active segment was removed")

// syncFile fsyncs f through the log's fsync, failing the log on error.
func (l *Log) syncFile(f *os.File) error {
	if err := l.fsync(f); err != nil {
		return l.fail(ErrSyncFailed, err)
	}
	return nil
}

// syncLogDir fsyncs the log's directory, failing the log on error.
func (l *Log) syncLogDir() error {
	if err := syncDir(l.dir); err != nil {
		return l.fail(ErrSyncFailed, err)
	}
	return nil
}

// fail records the first failure for good, tells the owner once, and
// returns err wrapped in kind so callers can tell it apart.
func (l *Log) fail(kind, err error) error {
	wrapped := fmt.Errorf("%w: %w", kind, err)
	if l.failed.CompareAndSwap(nil, &wrapped) {
		l.lg.Error("log failed; it refuses reads and writes until restart", zap.Error(wrapped))
		if l.onFail != nil {
			go l.onFail(l, wrapped)
		}
		return wrapped
	}
	return *l.failed.Load()
}

// Fail fails the log from outside, as when another log of its directory
// hit an I/O error and the whole directory goes offline.
func (l *Log) Fail(err error) {
	l.fail(ErrLogDirFailed, err)
}

// Failure returns the error that failed the log, or nil.
func (l *Log) Failure() error { return l.failure() }

// failure returns the error that failed the log, or nil.
func (l *Log) failure() error {
	if p := l.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// writeFailed fails the log for an I/O error while writing. Running out of
// space is not a failure of the directory: the write was cut back, nothing
// acknowledged is at risk, and appends work again once space is freed.
func (l *Log) writeFailed(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return err
	}
	return l.fail(ErrLogDirFailed, err)
}

// CheckDir fails the log when its directory or its active segment file is
// gone, or when the active segment's name leads to another file than the
// one the log writes (the directory moved aside and a copy put in its
// place): a partition directory removed under a running broker leaves the
// open files writable, so appends alone would never notice, and records
// acknowledged from then on would be where no restart looks. The broker
// calls it periodically; flushes check the descriptor before crediting an
// fsync.
func (l *Log) CheckDir() error {
	if err := l.failure(); err != nil {
		return err
	}
	l.mu.RLock()
	closed, seg := l.closed, l.activeSeg()
	path, want := seg.logPath, seg.file
	l.mu.RUnlock()
	if closed {
		return nil
	}
	// The common case in one syscall and without a descriptor: the name
	// still leads to the segment's file, so nothing was removed or
	// replaced. A broker with 100,000 partitions checks them all in a few
	// seconds this way; opening each file for an fstat cost a core.
	var st syscall.Stat_t
	if want.known() && syscall.Stat(path, &st) == nil {
		if fileIDOfStat(&st) == want {
			return nil
		}
		return l.fail(ErrLogDirFailed, fmt.Errorf("%w: %s is no longer the file the log writes", ErrDirVanished, path))
	}
	if _, err := os.Stat(l.dir); err != nil {
		return l.fail(ErrLogDirFailed, fmt.Errorf("%w: %w", ErrDirVanished, err))
	}
	ref, err := l.files.Pin(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("%w: %w", ErrDirVanished, err)
		}
		return l.fail(ErrLogDirFailed, err)
	}
	defer l.files.Unpin(ref)
	got, err := l.linkedID(ref.f)
	if err != nil {
		return err
	}
	if !want.known() {
		// A segment loaded at open: the descriptor the log writes through
		// tells which file it is, from now on.
		l.mu.Lock()
		if !seg.file.known() {
			seg.file = got
		}
		want = seg.file
		l.mu.Unlock()
	}
	if got != want || syscall.Stat(path, &st) != nil || fileIDOfStat(&st) != got {
		return l.fail(ErrLogDirFailed, fmt.Errorf("%w: %s is no longer the file the log writes", ErrDirVanished, path))
	}
	return nil
}

// checkLinked fails the log when f has no name left on disk.
func (l *Log) checkLinked(f *os.File) error {
	_, err := l.linkedID(f)
	return err
}

// linkedID returns f's identity, failing the log when f has no name left
// on disk.
func (l *Log) linkedID(f *os.File) (fileID, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return fileID{}, l.fail(ErrLogDirFailed, err)
	}
	if st.Nlink == 0 {
		return fileID{}, l.fail(ErrLogDirFailed, fmt.Errorf("%w: %s is unlinked", ErrDirVanished, f.Name()))
	}
	return fileIDOfStat(&st), nil
}

// fileID tells files apart whatever their names: device and inode.
type fileID struct{ dev, ino uint64 }

// known reports whether the identity was taken (no file has inode 0).
func (id fileID) known() bool { return id.ino != 0 }

func fileIDOfStat(st *syscall.Stat_t) fileID {
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)} // Dev is int32 on darwin
}

// fileIDOf returns f's identity, or zero (unknown) if fstat fails.
func fileIDOf(f *os.File) fileID {
	var st syscall.Stat_t
	if syscall.Fstat(int(f.Fd()), &st) != nil {
		return fileID{}
	}
	return fileIDOfStat(&st)
}
