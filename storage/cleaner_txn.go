package storage

import (
	"cmp"
	"slices"

	"spool/record"
)

// How the cleaner treats transactions, as Kafka's does: records of aborted
// transactions go (and never enter the offset map, so they cannot shadow an
// older committed value); committed transactional records compact like any
// others; a commit or abort marker stays while any record of its
// transaction remains in the cleaned log, then gets a delete horizon like a
// tombstone (KIP-534) and goes at the first clean after it. A producer's
// last batch stays whatever it is, marker or data, so its state survives.
// The broker bounds a clean by the last stable offset, so every transaction
// the cleaned segments hold data of has its marker written.

// txnKey names an index entry by producer and marker offset.
type txnKey struct{ producerID, lastOffset int64 }

// cleanTxns is what a clean knows of aborted transactions, taken with its
// plan under the log's lock.
type cleanTxns struct {
	byFirst  []AbortedTxn          // overlapping the plan's range, by first offset
	byMarker map[txnKey]AbortedTxn // the plan segments' entries
	counts   []int                 // entries per plan segment when planned
}

// planTxns collects the aborted transactions of the plan's segments, and
// those whose markers lie beyond the plan but whose data may lie in it.
// Call with mu held.
func (l *Log) planTxns(p *cleanPlan) error {
	t := &p.txns
	for i := range p.segs {
		es, err := l.txnEntries(i)
		if err != nil {
			return err
		}
		t.counts = append(t.counts, len(es))
		for _, e := range es {
			if t.byMarker == nil {
				t.byMarker = map[txnKey]AbortedTxn{}
			}
			t.byMarker[txnKey{e.ProducerID, e.LastOffset}] = e
			t.byFirst = append(t.byFirst, e)
		}
	}
	var err error
	t.byFirst, _, err = l.abortedTxnsLocked(t.byFirst, len(p.segs), p.segs[0].base, p.limit)
	if err != nil {
		return err
	}
	slices.SortStableFunc(t.byFirst, func(a, b AbortedTxn) int { return cmp.Compare(a.FirstOffset, b.FirstOffset) })
	return nil
}

// txnIndexesChanged reports whether an abort was indexed in one of old
// since the plan was made: the cleaned segment would lack its entry.
func txnIndexesChanged(old []*segment, counts []int) bool {
	for j, s := range old {
		if !s.txn.loaded.Load() || len(s.txn.entries) != counts[j] {
			return true
		}
	}
	return false
}

// abortTracker tells, over batches read in offset order, which
// transactional data batches belong to aborted transactions.
type abortTracker struct {
	txns []AbortedTxn // by first offset
	next int
	open map[int64]AbortedTxn // producer -> its latest aborted transaction begun so far
}

func newAbortTracker(byFirst []AbortedTxn) abortTracker { return abortTracker{txns: byFirst} }

// aborted reports whether h, a transactional data batch, is part of an
// aborted transaction.
func (a *abortTracker) aborted(h record.Header) bool {
	for a.next < len(a.txns) && a.txns[a.next].FirstOffset <= h.LastOffset() {
		t := a.txns[a.next]
		if a.open == nil {
			a.open = map[int64]AbortedTxn{}
		}
		a.open[t.ProducerID] = t
		a.next++
	}
	t, ok := a.open[h.ProducerID]
	return ok && h.BaseOffset >= t.FirstOffset && h.BaseOffset <= t.LastOffset
}

// txnFilter is the filter's transaction state across one clean.
type txnFilter struct {
	aborts   abortTracker
	byMarker map[txnKey]AbortedTxn
	hasData  map[int64]bool // producer -> records of its open transaction were kept
	kept     []AbortedTxn   // entries of the abort markers kept in the current group
}

func newTxnFilter(t *cleanTxns) txnFilter {
	return txnFilter{aborts: newAbortTracker(t.byFirst), byMarker: t.byMarker, hasData: map[int64]bool{}}
}

// takeKept returns the index entries for the group just written and starts
// the next group's.
func (tf *txnFilter) takeKept() []AbortedTxn {
	k := tf.kept
	tf.kept = nil
	return k
}

// abortedData handles a batch of an aborted transaction: its records all
// go, and the batch too unless it is its producer's last.
func (f *filter) abortedData(h record.Header) []byte {
	f.read += int64(h.NumRecords)
	f.dropped += int64(h.NumRecords)
	if f.lastOf(h) {
		return f.emptyBatch(h)
	}
	return nil
}

// marker decides what becomes of a control batch. Only transaction markers
// may go; other control batches (raft's, for instance) stay as they are.
func (f *filter) marker(b []byte, h record.Header) ([]byte, error) {
	if h.ProducerID < 0 {
		return b, nil
	}
	hadData := f.txn.hasData[h.ProducerID]
	delete(f.txn.hasData, h.ProducerID)
	ctl, err := record.ParseMarker(b)
	if err != nil || (ctl.Type != record.ControlAbort && ctl.Type != record.ControlCommit) {
		return b, nil
	}
	out := b
	if h.BaseOffset < f.end && !hadData && !f.lastOf(h) {
		if out, err = f.emptyTxnMarker(b, h); err != nil || out == nil {
			return nil, err
		}
	}
	if ctl.Type == record.ControlAbort {
		if e, ok := f.txn.byMarker[txnKey{h.ProducerID, h.BaseOffset}]; ok {
			f.txn.kept = append(f.txn.kept, e)
		}
	}
	return out, nil
}

// emptyTxnMarker handles the marker of a transaction none of whose records
// remain: the first clean to see it so sets its delete horizon, the first
// after the horizon drops it (nil).
func (f *filter) emptyTxnMarker(b []byte, h record.Header) ([]byte, error) {
	if h.HasDeleteHorizon() {
		if f.nowMs >= h.FirstTimestamp {
			return nil, nil
		}
		f.horizon = max(f.horizon, h.FirstTimestamp)
		return b, nil
	}
	f.kept = f.kept[:0]
	it := record.NewIter(b[record.HeaderLen:], h.NumRecords)
	for r, ok := it.Next(); ok; r, ok = it.Next() {
		f.kept = append(f.kept, r)
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	return f.rebuild(h, b[record.HeaderLen:], true)
}

// lastOf reports whether h is its producer's last batch below the mapped
// end, which is kept for the producer's state.
func (f *filter) lastOf(h record.Header) bool {
	last, ok := f.lastOfProducer[h.ProducerID]
	return h.ProducerID >= 0 && ok && last == h.BaseOffset
}
