package storage

import (
	"errors"
	"fmt"
	"os"
)

// ErrSyncFailed reports a log whose fsync once failed. On Linux a failed
// fsync may drop the dirty pages it could not write and clear the error,
// so a later fsync can succeed without the data: retrying would turn lost
// records into acknowledged ones. The log therefore refuses every later
// append and sync until the process restarts and recovery re-validates
// what actually reached the disk.
var ErrSyncFailed = errors.New("an earlier fsync failed; the log refuses writes until restart")

// syncFile fsyncs f through the log's fsync, failing the log on error.
func (l *Log) syncFile(f *os.File) error {
	if err := l.fsync(f); err != nil {
		return l.fail(err)
	}
	return nil
}

// syncLogDir fsyncs the log's directory, failing the log on error.
func (l *Log) syncLogDir() error {
	if err := syncDir(l.dir); err != nil {
		return l.fail(err)
	}
	return nil
}

// fail records the first fsync error for good and returns err wrapped so
// callers can tell it apart.
func (l *Log) fail(err error) error {
	wrapped := fmt.Errorf("%w: %w", ErrSyncFailed, err)
	l.failed.CompareAndSwap(nil, &wrapped)
	return wrapped
}

// failure returns the error that failed the log, or nil.
func (l *Log) failure() error {
	if p := l.failed.Load(); p != nil {
		return *p
	}
	return nil
}
