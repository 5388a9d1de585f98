package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// File suffixes inside a partition directory.
const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"
	deletedSuffix   = ".deleted"
	cleanedSuffix   = ".cleaned"
	swapSuffix      = ".swap"
	tmpSuffix       = ".tmp"
)

// segment is one .log file and its two indexes. The indexes of the active
// (last) segment are sparse files sized for idxMax/timeMax entries; closed
// segments have them trimmed to the entries written. Everything here is
// guarded by the owning Log's mutex.
type segment struct {
	base                       int64
	logPath, idxPath, timePath string

	size         int64 // bytes of whole batches in the .log
	idxN, timeN  int   // entries written to the indexes
	idxMax       int   // capacity while active; 0 once closed
	timeMax      int
	sinceIndex   int64 // bytes appended since the last offset-index entry
	lastTimeTs   int64 // timestamp of the last time-index entry, -1 if none
	maxTsLoaded  bool  // maxTs/maxTsOff are known (closed segments load lazily)
	maxTs        int64 // largest batch max timestamp, -1 if none
	maxTsOff     int64 // last offset of the batch holding maxTs (Kafka's time-index offset)
	rollTs       int64 // max timestamp of the first batch, -1 until there is one
	createdMs    int64 // when this process created or loaded the segment
	synced       int64 // bytes of the .log known durable
	closedSynced bool  // closed, trimmed and every file fsynced since
	// noIdx and noTime: that index file does not exist yet. A new segment
	// creates it with its first entry (segment_lazy.go).
	noIdx, noTime bool
	// file is the .log's identity on disk, zero until known: taken when
	// the segment is created, or by the first CheckDir of a loaded one.
	file fileID

	txn txnIndex // aborted transactions (.txnindex), loaded lazily
}

func newSegment(dir string, base int64, nowMs int64) *segment {
	name := filepath.Join(dir, fmt.Sprintf("%020d", base))
	return &segment{
		base:       base,
		logPath:    name + logSuffix,
		idxPath:    name + indexSuffix,
		timePath:   name + timeIndexSuffix,
		lastTimeTs: -1,
		maxTs:      -1,
		maxTsOff:   -1,
		rollTs:     -1,
		createdMs:  nowMs,
	}
}

// parseSegmentName returns the base offset encoded in a segment file name.
func parseSegmentName(name, suffix string) (int64, bool) {
	stem, ok := strings.CutSuffix(name, suffix)
	if !ok || len(stem) != 20 {
		return 0, false
	}
	base, err := strconv.ParseInt(stem, 10, 64)
	return base, err == nil && base >= 0
}

func (s *segment) paths() [3]string { return [3]string{s.logPath, s.idxPath, s.timePath} }

// create makes the empty .log of a new segment; its indexes come with
// their first entry. A stale file of the same name (left by a truncation
// racing a crash) is replaced.
func (s *segment) create() error {
	f, err := os.OpenFile(s.logPath, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("create segment file: %w", err)
	}
	s.file = fileIDOf(f)
	if err := f.Close(); err != nil {
		return fmt.Errorf("create %s: %w", s.logPath, err)
	}
	s.noIdx, s.noTime = true, true
	// A stale transaction index would mark the new segment's records aborted.
	return removeIfExists(s.txnPath())
}

// capacities returns how many index entries a segment may hold.
func capacities(maxIndexBytes int) (idx, tim int) {
	return maxIndexBytes / offsetEntrySize, maxIndexBytes / timeEntrySize
}

// activate makes s the segment appends go to: its index files grow, sparse,
// to their full capacity so later entries never extend them.
func (s *segment) activate(fc *FileCache, maxIndexBytes int) error {
	s.idxMax, s.timeMax = capacities(maxIndexBytes)
	s.closedSynced = false
	// A smaller configured size than what is already written just means
	// the segment is full and rolls on the next append.
	s.idxMax = max(s.idxMax, s.idxN)
	s.timeMax = max(s.timeMax, s.timeN)
	if err := resizeIndex(fc, s.idxPath, &s.noIdx, int64(s.idxMax)*offsetEntrySize); err != nil {
		return err
	}
	return resizeIndex(fc, s.timePath, &s.noTime, int64(s.timeMax)*timeEntrySize)
}

// deactivate records the final time-index entry and trims both indexes to
// their entries, as a closed segment keeps them.
func (s *segment) deactivate(fc *FileCache, scratch []byte) error {
	if s.maxTs > s.lastTimeTs {
		if err := s.writeTimeEntry(fc, scratch); err != nil {
			return err
		}
	}
	s.idxMax, s.timeMax = 0, 0
	s.closedSynced = false
	return s.closeIndexes(fc)
}

func (s *segment) active() bool { return s.idxMax > 0 }

// idxFull reports whether need more offset-index entries may not fit.
func (s *segment) idxFull(need int) bool {
	return s.idxN+need > s.idxMax || s.timeN+need > s.timeMax
}

// writeIndexEntry indexes the batch at pos by its last offset, as Kafka's
// offset index does (so Kafka's tools and brokers read Spool's indexes);
// lookups scan forward from the entry, so either end of the batch would
// serve Spool itself. The caller has checked capacity.
func (s *segment) writeIndexEntry(fc *FileCache, last, pos int64, scratch []byte) error {
	if err := createIndex(s.idxPath, &s.noIdx, int64(s.idxMax)*offsetEntrySize); err != nil {
		return err
	}
	ref, err := fc.Pin(s.idxPath)
	if err != nil {
		return err
	}
	defer fc.Unpin(ref)
	e := scratch[:offsetEntrySize]
	putOffsetEntry(e, last-s.base, pos)
	if _, err := ref.f.WriteAt(e, int64(s.idxN)*offsetEntrySize); err != nil {
		return fmt.Errorf("write %s: %w", s.idxPath, err)
	}
	s.idxN++
	return nil
}

// writeTimeEntry records the segment's current maximum timestamp. A closing
// segment may write one entry past its capacity; the file just grows.
func (s *segment) writeTimeEntry(fc *FileCache, scratch []byte) error {
	if err := createIndex(s.timePath, &s.noTime, int64(s.timeMax)*timeEntrySize); err != nil {
		return err
	}
	ref, err := fc.Pin(s.timePath)
	if err != nil {
		return err
	}
	defer fc.Unpin(ref)
	e := scratch[:timeEntrySize]
	putTimeEntry(e, s.maxTs, s.maxTsOff-s.base)
	if _, err := ref.f.WriteAt(e, int64(s.timeN)*timeEntrySize); err != nil {
		return fmt.Errorf("write %s: %w", s.timePath, err)
	}
	s.timeN++
	s.lastTimeTs = s.maxTs
	return nil
}

// noteBatch folds a batch (its last offset and max timestamp) into the
// segment's timestamp bookkeeping; first marks the segment's first batch,
// whose timestamp drives time-based rolls.
func (s *segment) noteBatch(last, maxTs int64, first bool) {
	if first {
		s.rollTs = max(maxTs, -1)
	}
	if maxTs > s.maxTs {
		s.maxTs, s.maxTsOff = maxTs, last
	}
	s.maxTsLoaded = true
}

func truncateFile(fc *FileCache, path string, size int64) error {
	ref, err := fc.Pin(path)
	if err != nil {
		return err
	}
	defer fc.Unpin(ref)
	if err := ref.f.Truncate(size); err != nil {
		return fmt.Errorf("truncate %s to %d: %w", path, size, err)
	}
	return nil
}

// removeSegmentFiles renames the segment's files to .deleted and unlinks each
// once no reader has it pinned, so an in-flight Slice still reads its bytes.
func removeSegmentFiles(fc *FileCache, s *segment) error {
	var firstErr error
	for _, p := range s.paths() {
		dead := p + deletedSuffix
		if err := os.Rename(p, dead); err != nil {
			if !errors.Is(err, fs.ErrNotExist) && firstErr == nil {
				firstErr = fmt.Errorf("delete segment: %w", err)
			}
			fc.Forget(p, nil)
			continue
		}
		fc.Forget(p, func() { _ = os.Remove(dead) })
	}
	// No reader keeps a .txnindex open, so it goes at once.
	if err := removeIfExists(s.txnPath()); err != nil && firstErr == nil {
		firstErr = fmt.Errorf("delete segment: %w", err)
	}
	return firstErr
}
