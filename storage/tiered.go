package storage

import (
	"errors"
	"fmt"

	"spool/record"
)

// ClosedSegment names a closed segment's files and bounds, for copying it
// to the remote tier. Next is the following segment's base offset, so the
// segment's last offset is Next-1.
type ClosedSegment struct {
	Base, Next   int64
	Size         int64
	MaxTimestamp int64 // -1 when no batch carried one
	LogPath      string
	IndexPath    string // may not exist: a small segment wrote no entry
	TimeIndex    string // may not exist either
	TxnIndex     string // exists only when a transaction aborted in it
}

// ClosedSegments lists the closed segments from the local log start, oldest
// first; the active segment is never one of them.
func (l *Log) ClosedSegments() ([]ClosedSegment, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrClosed
	}
	out := make([]ClosedSegment, 0, len(l.segs)-1)
	for i, s := range l.segs[:len(l.segs)-1] {
		if err := l.loadMaxTs(s); err != nil {
			return nil, fmt.Errorf("closed segments of %s: %w", l.dir, err)
		}
		out = append(out, ClosedSegment{
			Base: s.base, Next: l.segs[i+1].base, Size: s.size, MaxTimestamp: s.maxTs,
			LogPath: s.logPath, IndexPath: s.idxPath, TimeIndex: s.timePath, TxnIndex: s.txnPath(),
		})
	}
	return out, nil
}

// ActiveBase is the base offset of the active segment: every offset below
// it is in a closed segment.
func (l *Log) ActiveBase() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.activeSeg().base
}

// DecodeTxnIndex parses a .txnindex's bytes (a remote copy's), skipping
// entries that are not version 0 or not well formed.
func DecodeTxnIndex(b []byte) []AbortedTxn {
	var out []AbortedTxn
	for i := 0; i+txnEntrySize <= len(b); i += txnEntrySize {
		if t, v := txnEntry(b[i:]); v == 0 && t.FirstOffset <= t.LastOffset {
			out = append(out, t)
		}
	}
	return out
}

// FindRecordAtTime returns the offset and timestamp of the first record of
// batch (a whole v2 batch, a remote copy's) at or above minOffset whose
// timestamp is at least ts; ok is false when none is.
func FindRecordAtTime(batch []byte, minOffset, ts int64) (int64, int64, bool, error) {
	off, got, err := findRecord(batch, minOffset, func(t int64) bool { return t >= ts }, record.Room{})
	if errors.Is(err, errNoRecord) {
		return 0, 0, false, nil
	}
	return off, got, err == nil, err
}
