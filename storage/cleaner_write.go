package storage

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"time"

	"spool/record"
)

// segWriter writes a cleaned segment to <base>.log.cleaned and its indexes
// to .index.cleaned, .timeindex.cleaned and .txnindex.cleaned. Nothing under
// those names is ever read by the log: until the files are renamed to .swap
// they are scratch that recovery deletes.
type segWriter struct {
	seg      *segment // the replacement, named as it will be once swapped in
	f        *os.File
	w        *bufio.Writer
	interval int64
	idx, tim []byte
	txns     []AbortedTxn // index entries of the abort markers kept
}

func newSegWriter(dir string, base, nowMs int64, interval int) (*segWriter, error) {
	s := newSegment(dir, base, nowMs)
	f, err := os.OpenFile(s.logPath+cleanedSuffix, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create cleaned segment: %w", err)
	}
	return &segWriter{seg: s, f: f, w: bufio.NewWriterSize(f, 1<<20), interval: int64(interval)}, nil
}

// write appends one batch and indexes it as rebuildSegment would.
func (w *segWriter) write(b []byte) error {
	s := w.seg
	total := int64(len(b))
	if s.size+total > math.MaxInt32 {
		return fmt.Errorf("cleaned segment %s would exceed 2 GiB", s.logPath)
	}
	last, maxTs := record.LastOffsetOf(b), record.MaxTimestampOf(b)
	s.noteBatch(last, maxTs, s.size == 0)
	if s.sinceIndex >= w.interval {
		w.idx = appendOffsetEntry(w.idx, last-s.base, s.size)
		if s.maxTs > s.lastTimeTs {
			w.tim = appendTimeEntry(w.tim, s.maxTs, s.maxTsOff-s.base)
			s.lastTimeTs = s.maxTs
		}
		s.sinceIndex = 0
	}
	if _, err := w.w.Write(b); err != nil {
		return fmt.Errorf("write %s: %w", w.f.Name(), err)
	}
	s.sinceIndex += total
	s.size += total
	return nil
}

// finish makes the three .cleaned files durable and describes the segment
// as a closed, synced one. mtime becomes the log file's modification time,
// so an emptied segment ages for retention like the ones it replaces.
func (w *segWriter) finish(fsync func(*os.File) error, mtime time.Time) (*segment, error) {
	s := w.seg
	if s.maxTs > s.lastTimeTs {
		w.tim = appendTimeEntry(w.tim, s.maxTs, s.maxTsOff-s.base)
		s.lastTimeTs = s.maxTs
	}
	s.maxTsLoaded = true
	s.idxN, s.timeN = len(w.idx)/offsetEntrySize, len(w.tim)/timeEntrySize
	err := w.w.Flush()
	if err == nil {
		err = fsync(w.f)
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	if err != nil {
		return nil, fmt.Errorf("finish cleaned segment %s: %w", s.logPath, err)
	}
	if err := writeSynced(s.idxPath+cleanedSuffix, w.idx, fsync); err != nil {
		return nil, err
	}
	if err := writeSynced(s.timePath+cleanedSuffix, w.tim, fsync); err != nil {
		return nil, err
	}
	// Written even when empty: see completeSwaps.
	if err := writeSynced(s.txnPath()+cleanedSuffix, encodeTxnEntries(w.txns), fsync); err != nil {
		return nil, err
	}
	s.txn.entries, s.txn.unsorted = w.txns, !txnSorted(w.txns)
	s.txn.loaded.Store(true)
	if !mtime.IsZero() {
		_ = os.Chtimes(s.logPath+cleanedSuffix, mtime, mtime)
	}
	s.synced, s.closedSynced = s.size, true
	return s, nil
}

// abort removes whatever was written.
func (w *segWriter) abort() {
	if w.f != nil {
		_ = w.f.Close()
	}
	removeSuffixed(w.seg, cleanedSuffix)
}

// removeSuffixed deletes the segment's files carrying suffix. Failures are
// left to recovery, which deletes such leftovers by their suffix.
func removeSuffixed(s *segment, suffix string) {
	for _, p := range s.paths() {
		_ = os.Remove(p + suffix)
	}
	_ = os.Remove(s.txnPath() + suffix)
}

func writeSynced(path string, data []byte, fsync func(*os.File) error) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = fsync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
