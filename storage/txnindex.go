package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"
)

// txnIndexSuffix names a segment's aborted-transaction index.
const txnIndexSuffix = ".txnindex"

// txnEntrySize is one .txnindex entry in Kafka's layout: version int16 (0),
// producerId, firstOffset, lastOffset and lastStableOffset as int64s, all
// big-endian.
const txnEntrySize = 34

// AbortedTxn is one aborted transaction: its producer, first data offset,
// the offset of its abort marker, and the partition's last stable offset
// when it was aborted.
type AbortedTxn struct{ ProducerID, FirstOffset, LastOffset, LastStableOffset int64 }

// txnIndex is a segment's aborted transactions, read from its .txnindex the
// first time anything asks and kept in memory after: they are few, and a
// read_committed fetch consults them every time. The file exists only once
// an entry does, and is written by open, write, fsync, close, so it never
// holds a descriptor.
type txnIndex struct {
	// loadMu serialises the lazy load among readers that share the log's
	// read lock; once loaded is set, entries change only under the log's
	// write lock, so readers holding the read lock see a stable slice.
	loadMu   sync.Mutex
	loaded   atomic.Bool
	entries  []AbortedTxn // in file order, normally ascending LastOffset
	unsorted bool         // an entry was added out of marker order
}

func (s *segment) txnPath() string {
	return strings.TrimSuffix(s.logPath, logSuffix) + txnIndexSuffix
}

func putTxnEntry(e []byte, t AbortedTxn) {
	be := binary.BigEndian
	be.PutUint16(e, 0)
	be.PutUint64(e[2:], uint64(t.ProducerID))
	be.PutUint64(e[10:], uint64(t.FirstOffset))
	be.PutUint64(e[18:], uint64(t.LastOffset))
	be.PutUint64(e[26:], uint64(t.LastStableOffset))
}

func txnEntry(e []byte) (AbortedTxn, int16) {
	be := binary.BigEndian
	return AbortedTxn{
		ProducerID:       int64(be.Uint64(e[2:])),
		FirstOffset:      int64(be.Uint64(e[10:])),
		LastOffset:       int64(be.Uint64(e[18:])),
		LastStableOffset: int64(be.Uint64(e[26:])),
	}, int16(be.Uint16(e))
}

func encodeTxnEntries(es []AbortedTxn) []byte {
	b := make([]byte, len(es)*txnEntrySize)
	for i, t := range es {
		putTxnEntry(b[i*txnEntrySize:], t)
	}
	return b
}

// segEnd is the offset below which segment i's offsets lie: the next
// segment's base, or the log end for the last one. Call with mu held.
func (l *Log) segEnd(i int) int64 {
	if i+1 < len(l.segs) {
		return l.segs[i+1].base
	}
	return l.leo
}

// txnEntries returns segment i's aborted transactions, loading them on
// first use. Call with mu held, either side.
func (l *Log) txnEntries(i int) ([]AbortedTxn, error) {
	ti := &l.segs[i].txn
	if ti.loaded.Load() {
		return ti.entries, nil
	}
	ti.loadMu.Lock()
	defer ti.loadMu.Unlock()
	if ti.loaded.Load() {
		return ti.entries, nil
	}
	s := l.segs[i]
	es, err := l.loadTxnFile(s.txnPath(), s.base, l.segEnd(i))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", s.txnPath(), err)
	}
	ti.entries = es
	ti.unsorted = !txnSorted(es)
	ti.loaded.Store(true)
	return es, nil
}

// loadTxnFile reads an index whose markers must lie in [lo, hi). A torn
// last entry (a crash mid-append) is cut off, and entries for markers the
// log no longer holds (a tail cut after a crash) are dropped, on disk too,
// so a later append cannot land behind them or bring them back to life.
func (l *Log) loadTxnFile(path string, lo, hi int64) ([]AbortedTxn, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	whole := len(b) / txnEntrySize
	es := make([]AbortedTxn, 0, whole)
	for i := range whole {
		t, v := txnEntry(b[i*txnEntrySize:])
		if v != 0 || t.LastOffset < lo || t.LastOffset >= hi || t.FirstOffset > t.LastOffset {
			continue
		}
		es = append(es, t)
	}
	if len(es) == whole && len(b)%txnEntrySize == 0 {
		return es, nil
	}
	l.lg.Warn("repairing transaction index", zap.String("file", path),
		zap.Int("bytes", len(b)), zap.Int("entries", whole), zap.Int("kept", len(es)))
	return es, l.rewriteTxnFile(path, es)
}

// rewriteTxnFile replaces an index with entries, atomically and durably; an
// index left without entries is removed.
func (l *Log) rewriteTxnFile(path string, es []AbortedTxn) error {
	if len(es) == 0 {
		if err := removeIfExists(path); err != nil {
			return err
		}
		return syncDir(l.dir)
	}
	return WriteFileAtomic(path, encodeTxnEntries(es))
}

func txnSorted(es []AbortedTxn) bool {
	for i := 1; i < len(es); i++ {
		if es[i].LastOffset < es[i-1].LastOffset {
			return false
		}
	}
	return true
}

// AddAbortedTxn records t in the index of the segment holding t.LastOffset
// (the abort marker, already appended). Idempotent: an entry with the same
// ProducerID and LastOffset is not added twice (the broker re-adds entries
// when it replays the log tail after a crash). Durable (fsync) before it
// returns. A marker below the first segment has nothing left to index.
//
// The broker must add the entry before the last stable offset moves past
// the marker: the cleaner, bounded by that offset, would otherwise compact
// the aborted records as committed ones.
func (l *Log) AddAbortedTxn(t AbortedTxn) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if t.FirstOffset > t.LastOffset || t.LastOffset >= l.leo {
		return fmt.Errorf("index aborted transaction %+v in %s (end %d): %w", t, l.dir, l.leo, ErrOffsetOutOfRange)
	}
	i := l.segmentIndex(t.LastOffset)
	if i < 0 {
		return nil
	}
	es, err := l.txnEntries(i)
	if err != nil {
		return err
	}
	ti := &l.segs[i].txn
	if hasTxn(es, t, ti.unsorted) {
		return nil
	}
	path := l.segs[i].txnPath()
	if err := l.appendTxnEntry(path, len(es), t); err != nil {
		return fmt.Errorf("index aborted transaction in %s: %w", path, err)
	}
	if n := len(es); n > 0 && t.LastOffset < es[n-1].LastOffset {
		ti.unsorted = true
	}
	ti.entries = append(es, t)
	return nil
}

// hasTxn reports whether es holds t's producer and marker. Entries come in
// marker order unless the broker added one late, so the search stops at the
// first older marker.
func hasTxn(es []AbortedTxn, t AbortedTxn, unsorted bool) bool {
	for j := len(es) - 1; j >= 0; j-- {
		e := es[j]
		if e.ProducerID == t.ProducerID && e.LastOffset == t.LastOffset {
			return true
		}
		if !unsorted && e.LastOffset < t.LastOffset {
			return false
		}
	}
	return false
}

// appendTxnEntry writes entry n of the index at path and fsyncs it; a
// failed write is cut back off so the file stays whole entries.
func (l *Log) appendTxnEntry(path string, n int, t AbortedTxn) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	var e [txnEntrySize]byte
	putTxnEntry(e[:], t)
	pos := int64(n) * txnEntrySize
	_, err = f.WriteAt(e[:], pos)
	if err == nil {
		err = l.fsync(f)
	}
	if err != nil {
		_ = f.Truncate(pos)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n == 0 {
		// The file may be new: its name must survive a crash too.
		err = syncDir(l.dir)
	}
	return err
}

// AbortedTxns appends to dst the aborted transactions that overlap
// [from, upTo): LastOffset >= from && FirstOffset < upTo, in index order.
// It starts at the segment holding from and stops, as Kafka does, at the
// first entry whose LastStableOffset is at or above upTo: every transaction
// aborted after it began at or beyond that offset.
func (l *Log) AbortedTxns(dst []AbortedTxn, from, upTo int64) ([]AbortedTxn, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return dst, ErrClosed
	}
	dst, _, err := l.abortedTxnsLocked(dst, max(l.segmentIndex(from), 0), from, upTo)
	if err != nil {
		return dst, fmt.Errorf("aborted transactions of %s in [%d, %d): %w", l.dir, from, upTo, err)
	}
	return dst, nil
}

// abortedTxnsLocked collects from segment i on; complete reports an early
// stop. Call with mu held, either side.
func (l *Log) abortedTxnsLocked(dst []AbortedTxn, i int, from, upTo int64) ([]AbortedTxn, bool, error) {
	for ; i < len(l.segs); i++ {
		es, err := l.txnEntries(i)
		if err != nil {
			return dst, false, err
		}
		for _, e := range es {
			if e.LastOffset >= from && e.FirstOffset < upTo {
				dst = append(dst, e)
			}
			if e.LastStableOffset >= upTo {
				return dst, true, nil
			}
		}
	}
	return dst, false, nil
}

// trimTxnIndex drops, durably, the entries of segment i whose markers are
// at or above end, after a truncation cut them from the log.
func (l *Log) trimTxnIndex(i int, end int64) error {
	es, err := l.txnEntries(i)
	if err != nil {
		return err
	}
	kept := make([]AbortedTxn, 0, len(es))
	for _, e := range es {
		if e.LastOffset < end {
			kept = append(kept, e)
		}
	}
	if len(kept) == len(es) {
		return nil
	}
	s := l.segs[i]
	if err := l.rewriteTxnFile(s.txnPath(), kept); err != nil {
		return fmt.Errorf("truncate %s: %w", s.txnPath(), err)
	}
	s.txn.entries = kept
	return nil
}

// txnSwapName reports whether name is a .txnindex.swap file and its base.
func txnSwapName(name string) (int64, bool) {
	return parseSegmentName(name, txnIndexSuffix+swapSuffix)
}

// isTxnIndexName reports a segment's .txnindex by name.
func isTxnIndexName(name string) bool {
	_, ok := parseSegmentName(name, txnIndexSuffix)
	return ok
}

func txnIndexPath(dir string, base int64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d", base)+txnIndexSuffix)
}
