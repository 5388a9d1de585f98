package storage

import (
	"fmt"
	"os"

	"go.uber.org/zap"
)

// DeleteRecordsBefore raises the log start offset to offset (DeleteRecords)
// and deletes the segments wholly below it. The new start is persisted before
// any file goes, so a crash never resurrects deleted records. It returns the
// log start offset, which never moves backwards.
func (l *Log) DeleteRecordsBefore(offset int64) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	if offset > l.leo {
		return l.start, fmt.Errorf("delete records before %d in %s (end %d): %w", offset, l.dir, l.leo, ErrOffsetOutOfRange)
	}
	if offset <= l.start {
		return l.start, nil
	}
	if err := l.setStartLocked(offset); err != nil {
		return l.start, err
	}
	return l.start, l.dropSegmentsBelowStart()
}

// setStartLocked persists a new log start offset, then adopts it.
func (l *Log) setStartLocked(offset int64) error {
	if err := writeOffsetFile(l.dir, logStartOffsetFile, offset); err != nil {
		return fmt.Errorf("set log start offset of %s: %w", l.dir, err)
	}
	l.start = offset
	return nil
}

// dropSegmentsBelowStart deletes closed segments whose every offset is below
// the log start offset.
func (l *Log) dropSegmentsBelowStart() error {
	n := 0
	for n+1 < len(l.segs) && l.segs[n+1].base <= l.start {
		n++
	}
	return l.dropOldest(n)
}

// dropOldest deletes the n oldest segments; the active one always stays.
func (l *Log) dropOldest(n int) error {
	n = min(n, len(l.segs)-1)
	if n <= 0 {
		return nil
	}
	var firstErr error
	for _, s := range l.segs[:n] {
		if err := removeSegmentFiles(l.files, s); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	l.segs = append(l.segs[:0:0], l.segs[n:]...)
	return firstErr
}

// ApplyRetention deletes the oldest closed segments that retention.ms or
// retention.bytes no longer keeps, advancing the log start offset. The
// active segment is never deleted, nor anything of a log whose policy is
// compact alone.
func (l *Log) ApplyRetention() (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	if !l.cfg.retains() {
		return 0, nil
	}
	byTime, err := l.expiredByTime()
	if err != nil {
		return 0, err
	}
	n := max(byTime, l.excessBySize())
	n = min(n, len(l.segs)-1)
	if n == 0 {
		return 0, nil
	}
	newStart := max(l.start, l.segs[n].base)
	if newStart > l.start {
		if err := l.setStartLocked(newStart); err != nil {
			return 0, err
		}
	}
	l.lg.Info("retention deleting segments", zap.Int("segments", n), zap.Int64("logStartOffset", l.start))
	return n, l.dropOldest(n)
}

// expiredByTime counts the leading closed segments whose newest timestamp
// is older than retention.ms, as Kafka does, stopping at the first keeper.
func (l *Log) expiredByTime() (int, error) {
	if l.cfg.RetentionMs < 0 {
		return 0, nil
	}
	now := l.nowMs()
	n := 0
	for _, s := range l.segs[:len(l.segs)-1] {
		ts, err := l.segmentMaxTs(s)
		if err != nil {
			return n, err
		}
		if now-ts <= l.cfg.RetentionMs {
			break
		}
		n++
	}
	return n, nil
}

// excessBySize counts the leading closed segments that can go while the log
// stays at or above retention.bytes.
func (l *Log) excessBySize() int {
	if l.cfg.RetentionBytes < 0 {
		return 0
	}
	var total int64
	for _, s := range l.segs {
		total += s.size
	}
	excess := total - l.cfg.RetentionBytes
	n := 0
	for _, s := range l.segs[:len(l.segs)-1] {
		if excess < s.size {
			break
		}
		excess -= s.size
		n++
	}
	return n
}

// segmentMaxTs is the segment's largest timestamp, read lazily from the last
// time-index entry; a segment without timestamps falls back to the file's
// modification time, as in Kafka.
func (l *Log) segmentMaxTs(s *segment) (int64, error) {
	if err := l.loadMaxTs(s); err != nil {
		return 0, err
	}
	if s.maxTs >= 0 {
		return s.maxTs, nil
	}
	st, err := os.Stat(s.logPath)
	if err != nil {
		return 0, fmt.Errorf("segment age: %w", err)
	}
	return st.ModTime().UnixMilli(), nil
}

// loadMaxTs fills maxTs/maxTsOff of a closed segment from its time index.
func (l *Log) loadMaxTs(s *segment) error {
	if s.maxTsLoaded {
		return nil
	}
	if s.timeN > 0 {
		var e [timeEntrySize]byte
		if err := l.readTimeEntry(s, s.timeN-1, e[:]); err != nil {
			return err
		}
		ts, rel := timeEntry(e[:])
		s.maxTs, s.maxTsOff = ts, s.base+rel
	}
	s.maxTsLoaded = true
	return nil
}
