package storage

import (
	"fmt"
	"sort"

	"spool/record"
)

// TruncateTo removes every batch at or after offset, for raft conflicts and
// follower divergence. A point inside a batch removes that whole batch, as
// Kafka does, so the log end offset may end up below offset. Offsets at or
// beyond the end are a no-op.
func (l *Log) TruncateTo(offset int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.waitFlushLocked()
	if offset >= l.leo {
		return nil
	}
	if offset < l.start {
		return fmt.Errorf("truncate %s to %d below start %d: %w", l.dir, offset, l.start, ErrOffsetOutOfRange)
	}
	if err := l.truncateLocked(offset); err != nil {
		return fmt.Errorf("truncate %s to %d: %w", l.dir, offset, err)
	}
	return l.rewindCleanerLocked(offset)
}

func (l *Log) truncateLocked(offset int64) error {
	l.gen++
	keep := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base >= offset })
	if keep == 0 {
		return l.resetLocked(offset)
	}
	for _, s := range l.segs[keep:] {
		if err := removeSegmentFiles(l.files, s); err != nil {
			return err
		}
	}
	l.segs = l.segs[:keep]
	s := l.activeSeg()
	if err := l.cutSegment(s, offset); err != nil {
		return err
	}
	if err := s.activate(l.files, l.cfg.MaxIndexBytes); err != nil {
		return err
	}
	if err := l.readTail(s); err != nil {
		return err
	}
	if err := l.trimTxnIndex(len(l.segs)-1, l.leo); err != nil {
		return err
	}
	s.synced = min(s.synced, s.size)
	l.flushed = min(l.flushed, l.leo)
	if l.start > l.leo {
		if err := l.setStartLocked(l.leo); err != nil {
			return err
		}
	}
	// Make the cut durable before anything is appended in its place, so a
	// crash cannot bring the removed batches back.
	if err := l.syncSegmentFiles(s, false); err != nil {
		return err
	}
	return writeOffsetFile(l.dir, recoveryPointFile, l.flushed)
}

// cutSegment truncates s at the first batch whose last offset is at or
// after offset, and drops the index entries that pointed past the cut.
func (l *Log) cutSegment(s *segment, offset int64) error {
	ref, err := l.files.Pin(s.logPath)
	if err != nil {
		return err
	}
	defer l.files.Unpin(ref)
	pos, err := l.lookupPosition(s, offset)
	if err != nil {
		return err
	}
	var hdr [record.OffsetsLen]byte
	for ; pos < s.size; pos += record.SizeOf(hdr[:]) {
		if err := readHeader(ref.f, s, pos, hdr[:]); err != nil {
			return err
		}
		if record.LastOffsetOf(hdr[:]) >= offset {
			break
		}
	}
	if pos >= s.size {
		return nil
	}
	cutBase := record.BaseOffsetOf(hdr[:])
	if err := ref.f.Truncate(pos); err != nil {
		return fmt.Errorf("truncate %s: %w", s.logPath, err)
	}
	s.size = pos
	if err := l.trimIndexes(s, pos, cutBase); err != nil {
		return err
	}
	return nil
}

// trimIndexes keeps the offset entries of batches before pos and the time
// entries of batches below cutBase.
func (l *Log) trimIndexes(s *segment, pos, cutBase int64) error {
	if s.idxN > 0 {
		ref, err := l.files.Pin(s.idxPath)
		if err != nil {
			return err
		}
		s.idxN, err = searchIndex(ref.f, s.idxN, offsetEntrySize, func(_, p int64) bool { return p < pos })
		l.files.Unpin(ref)
		if err != nil {
			return err
		}
	}
	if s.timeN > 0 {
		ref, err := l.files.Pin(s.timePath)
		if err != nil {
			return err
		}
		rel := cutBase - s.base
		s.timeN, err = searchIndex(ref.f, s.timeN, timeEntrySize, func(_, r int64) bool { return r < rel })
		l.files.Unpin(ref)
		if err != nil {
			return err
		}
	}
	// Zero what was cut off; activate grows the files back, sparse.
	if err := resizeIndex(l.files, s.idxPath, &s.noIdx, int64(s.idxN)*offsetEntrySize); err != nil {
		return err
	}
	return resizeIndex(l.files, s.timePath, &s.noTime, int64(s.timeN)*timeEntrySize)
}

// Reset drops every segment and leaves an empty log starting at startOffset,
// as installing a raft snapshot needs.
func (l *Log) Reset(startOffset int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.waitFlushLocked()
	l.gen++
	if err := l.resetLocked(startOffset); err != nil {
		return fmt.Errorf("reset %s to %d: %w", l.dir, startOffset, err)
	}
	return l.rewindCleanerLocked(startOffset)
}

// resetLocked replaces all segments with one empty segment at base, which
// becomes the log start offset too.
func (l *Log) resetLocked(base int64) error {
	for _, s := range l.segs {
		if err := removeSegmentFiles(l.files, s); err != nil {
			return err
		}
	}
	l.segs = nil
	if err := l.initEmpty(base); err != nil {
		return err
	}
	if err := writeOffsetFile(l.dir, logStartOffsetFile, l.start); err != nil {
		return err
	}
	l.dirDirty = false
	return writeOffsetFile(l.dir, recoveryPointFile, base)
}
