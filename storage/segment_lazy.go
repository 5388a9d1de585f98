package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// A new segment's .index and .timeindex are created with their first entry,
// not with the segment: creating files (inode allocation) is most of what
// opening a new partition costs, and a partition that never writes an
// index entry, or has not yet, then costs one file instead of three. A
// closed segment with data always has both files, so recovery finds what
// it always found; only an empty segment may lack them.

// resizeIndex sizes an index file, sparse, when it exists; a missing file
// (a loaded segment that never wrote an entry) is noted as absent.
func resizeIndex(fc *FileCache, path string, absent *bool, size int64) error {
	if *absent {
		return nil
	}
	err := truncateFile(fc, path, size)
	if errors.Is(err, fs.ErrNotExist) {
		*absent = true
		return nil
	}
	return err
}

// createIndex creates an absent index file at size, sparse, before its
// first entry is written. A stale file of the same name is replaced.
func createIndex(path string, absent *bool, size int64) error {
	if !*absent {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("create index: %w", err)
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	*absent = false
	return nil
}

// closeIndexes trims both index files to their entries, as a closed
// segment keeps them. A segment with data gets its missing files created
// (empty), so a closed segment's indexes are always on disk; an empty one
// may go without.
func (s *segment) closeIndexes(fc *FileCache) error {
	for _, ix := range [2]struct {
		path   string
		absent *bool
		size   int64
	}{
		{s.idxPath, &s.noIdx, int64(s.idxN) * offsetEntrySize},
		{s.timePath, &s.noTime, int64(s.timeN) * timeEntrySize},
	} {
		var err error
		switch {
		case !*ix.absent:
			err = truncateFile(fc, ix.path, ix.size)
		case s.size > 0:
			err = createIndex(ix.path, ix.absent, 0)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// syncPaths lists the files a sync of s covers: its .log and, with
// indexes, the index files that exist.
func (s *segment) syncPaths(indexes bool) ([3]string, int) {
	ps, n := [3]string{s.logPath}, 1
	if indexes && !s.noIdx {
		ps[n] = s.idxPath
		n++
	}
	if indexes && !s.noTime {
		ps[n] = s.timePath
		n++
	}
	return ps, n
}
