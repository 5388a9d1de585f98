package storage

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// SyncFilesystem makes everything written to the filesystem holding dir
// durable with one syncfs(2): one journal commit and one device flush for
// any number of files. Linux reports writeback errors of the whole
// filesystem since the file was opened (5.8 and later), so the log dir is
// opened before anything it covers is closed (see OpenFilesystemSync).
func (s *FilesystemSync) Sync() error {
	if err := unix.Syncfs(int(s.dir.Fd())); err != nil {
		return fmt.Errorf("syncfs %s: %w", s.dir.Name(), err)
	}
	return nil
}
