package storage

import (
	"errors"
	"fmt"
	"os"

	"spool/record"
)

// OffsetForTimestamp returns the first offset at or above the log start
// whose record timestamp is at least ts, and that timestamp (ListOffsets by
// time). It finds the first segment reaching ts, starts from the time index
// and scans batch headers, then decodes the matching batch, inflating it if
// compressed, to find the exact record. ok is false when no record is that
// new.
func (l *Log) OffsetForTimestamp(ts int64) (offset int64, timestamp int64, ok bool, err error) {
	// Exclusive: closed segments load their max timestamp lazily.
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, 0, false, ErrClosed
	}
	for _, s := range l.segs {
		if err := l.loadMaxTs(s); err != nil {
			return 0, 0, false, err
		}
		if s.maxTs < ts || s.size == 0 {
			continue
		}
		off, got, found, err := l.timestampInSegment(s, ts)
		if err != nil {
			return 0, 0, false, fmt.Errorf("offset for timestamp %d in %s: %w", ts, l.dir, err)
		}
		if found {
			return off, got, true, nil
		}
	}
	return -1, -1, false, nil
}

func (l *Log) timestampInSegment(s *segment, ts int64) (int64, int64, bool, error) {
	pos, err := l.timeLookup(s, ts)
	if err != nil {
		return 0, 0, false, err
	}
	ref, err := l.files.Pin(s.logPath)
	if err != nil {
		return 0, 0, false, err
	}
	defer l.files.Unpin(ref)
	var hdr [record.HeaderLen]byte
	for ; pos < s.size; pos += record.SizeOf(hdr[:]) {
		if err := readHeader(ref.f, s, pos, hdr[:]); err != nil {
			return 0, 0, false, err
		}
		if record.LastOffsetOf(hdr[:]) < l.start || record.MaxTimestampOf(hdr[:]) < ts {
			continue
		}
		off, got, err := l.recordAt(ref.f, pos, hdr[:], func(t int64) bool { return t >= ts })
		if errors.Is(err, errNoRecord) {
			continue
		}
		return off, got, err == nil, err
	}
	return 0, 0, false, nil
}

// timeLookup returns a batch position from which to scan for ts: that of the
// batch behind the last time-index entry below ts, or 0.
func (l *Log) timeLookup(s *segment, ts int64) (int64, error) {
	if s.timeN == 0 {
		return 0, nil
	}
	ref, err := l.files.Pin(s.timePath)
	if err != nil {
		return 0, err
	}
	defer l.files.Unpin(ref)
	n, err := searchIndex(ref.f, s.timeN, timeEntrySize, func(t, _ int64) bool { return t < ts })
	if err != nil || n == 0 {
		return 0, err
	}
	var e [timeEntrySize]byte
	if err := readEntry(ref.f, n-1, e[:]); err != nil {
		return 0, err
	}
	_, rel := timeEntry(e[:])
	return l.lookupPosition(s, s.base+rel)
}

// recordAt reads the whole batch at pos and finds the first record at or
// above the log start matching match.
func (l *Log) recordAt(f *os.File, pos int64, hdr []byte, match func(int64) bool) (int64, int64, error) {
	batch := make([]byte, record.SizeOf(hdr))
	if _, err := f.ReadAt(batch, pos); err != nil {
		return 0, 0, fmt.Errorf("read batch at %d: %w", pos, err)
	}
	return findRecord(batch, l.start, match, record.Room{Budget: l.inflate})
}

// errNoRecord means a batch holds no record that matches.
var errNoRecord = errors.New("no matching record in batch")

// findRecord returns the offset and timestamp of the first record in batch
// (a whole v2 batch) at or above minOffset whose timestamp satisfies match.
// Compressed batches are inflated into memory lent by room, waited for
// as long as room allows, so lookups over hostile batches cost no more
// than the budget.
func findRecord(batch []byte, minOffset int64, match func(ts int64) bool, room record.Room) (int64, int64, error) {
	h, err := record.ParseHeader(batch)
	if err != nil {
		return 0, 0, err
	}
	if h.LogAppendTime() {
		// Every record carries the batch's max timestamp.
		if !match(h.MaxTimestamp) {
			return 0, 0, errNoRecord
		}
		return max(h.BaseOffset, minOffset), h.MaxTimestamp, nil
	}
	recs := batch[record.HeaderLen:]
	if h.Compression() != record.CompressionNone {
		var loan record.Loan
		recs, loan, err = record.Inflate(room, h.Compression(), recs)
		defer loan.Return()
		if err != nil {
			return 0, 0, err
		}
	}
	it := record.NewIter(recs, h.NumRecords)
	for r, ok := it.Next(); ok; r, ok = it.Next() {
		off, ts := h.BaseOffset+int64(r.OffsetDelta), h.FirstTimestamp+r.TimestampDelta
		if off >= minOffset && match(ts) {
			return off, ts, nil
		}
	}
	if err := it.Err(); err != nil {
		return 0, 0, err
	}
	return 0, 0, errNoRecord
}

// MaxTimestamp returns the largest timestamp in the log and the offset of
// the first record carrying it (ListOffsets MAX_TIMESTAMP), or (-1, -1) for
// a log without records.
func (l *Log) MaxTimestamp() (ts int64, offset int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return -1, -1
	}
	var best *segment
	for _, s := range l.segs {
		if err := l.loadMaxTs(s); err != nil {
			l.lg.Warn("max timestamp unavailable for a segment")
			continue
		}
		if s.size > 0 && s.maxTs >= 0 && (best == nil || s.maxTs > best.maxTs) {
			best = s
		}
	}
	if best == nil {
		return -1, -1
	}
	off, err := l.maxTsRecord(best)
	if err != nil {
		// The batch's last offset, which Kafka answered before it looked
		// inside the batch.
		return best.maxTs, max(best.maxTsOff, l.start)
	}
	return best.maxTs, off
}

// maxTsRecord resolves the segment's max-timestamp batch to its record.
func (l *Log) maxTsRecord(s *segment) (int64, error) {
	pos, err := l.lookupPosition(s, s.maxTsOff)
	if err != nil {
		return 0, err
	}
	ref, err := l.files.Pin(s.logPath)
	if err != nil {
		return 0, err
	}
	defer l.files.Unpin(ref)
	var hdr [record.HeaderLen]byte
	for ; pos < s.size; pos += record.SizeOf(hdr[:]) {
		if err := readHeader(ref.f, s, pos, hdr[:]); err != nil {
			return 0, err
		}
		if record.LastOffsetOf(hdr[:]) >= s.maxTsOff {
			off, _, err := l.recordAt(ref.f, pos, hdr[:], func(t int64) bool { return t == s.maxTs })
			return off, err
		}
	}
	return 0, errNoRecord
}
