package broker

import (
	"fmt"
	"math"

	"spool/record"

	"github.com/twmb/franz-go/pkg/kerr"
)

// batchesKept is how many recent batches per producer are remembered for
// duplicate detection: a producer has at most five requests in flight
// (max.in.flight.requests.per.connection), so a retry always matches one.
const batchesKept = 5

// batchMeta describes one appended idempotent batch.
type batchMeta struct {
	firstSeq, lastSeq       int32
	firstOffset, lastOffset int64
	maxTimestamp            int64
}

// producerEntry is what a partition knows of one producer id.
type producerEntry struct {
	epoch   int16
	lastSeq int32 // -1 before the epoch's first batch
	// txnFirst is the first offset of the producer's ongoing transaction
	// in this partition, -1 when none is open.
	txnFirst int64
	// coordEpoch is the transaction coordinator epoch of the newest
	// marker, -1 before any: older coordinators are fenced.
	coordEpoch int32
	// lastTimestamp is the newest batch max timestamp, for expiry.
	lastTimestamp int64
	// batches holds the last n batches, oldest first.
	batches [batchesKept]batchMeta
	n       int
}

func (e *producerEntry) push(m batchMeta) {
	if e.n == batchesKept {
		copy(e.batches[:], e.batches[1:])
		e.n--
	}
	e.batches[e.n] = m
	e.n++
}

// producerStates is the idempotent producer state of one partition: a pure
// state machine fed batch headers, guarded by the partition's appendMu.
type producerStates struct {
	m map[int64]*producerEntry
	// ongoing maps the producers with an open transaction to its first
	// offset, so the last stable offset needs no scan of every producer.
	ongoing map[int64]int64
}

func newProducerStates() *producerStates {
	return &producerStates{m: map[int64]*producerEntry{}, ongoing: map[int64]int64{}}
}

func newProducerEntry(epoch int16) *producerEntry {
	return &producerEntry{epoch: epoch, lastSeq: -1, txnFirst: -1, coordEpoch: -1}
}

// entry returns the producer's entry at epoch, creating it or moving it to
// a newer epoch, which forgets the older epoch's batches.
func (s *producerStates) entry(id int64, epoch int16) *producerEntry {
	e := s.m[id]
	if e == nil {
		e = newProducerEntry(epoch)
		s.m[id] = e
	}
	if epoch > e.epoch {
		e.epoch, e.n, e.lastSeq = epoch, 0, -1
	}
	return e
}

// seqCheck is the verdict on one idempotent batch.
type seqCheck struct {
	// dup, when set, is the earlier append this batch repeats: the caller
	// answers with its offsets and writes nothing.
	dup *batchMeta
	err *kerr.Error
	msg string
}

// lastSequence is the sequence of the batch's last record; sequences wrap
// from math.MaxInt32 to 0.
func lastSequence(h record.Header) int32 {
	base, delta := int64(h.BaseSequence), int64(h.LastOffsetDelta)
	if base > math.MaxInt32-delta {
		return int32(delta - (math.MaxInt32 - base) - 1)
	}
	return int32(base + delta)
}

// inSequence reports whether next directly follows last.
func inSequence(last, next int32) bool {
	return next == last+1 || (last == math.MaxInt32 && next == 0)
}

// check decides what to do with an idempotent batch, as Kafka does: a
// repeat of one of the last batches is a duplicate; an older epoch is
// fenced; a new epoch starts at sequence 0; otherwise the sequence must
// follow on. A producer the partition does not know (new, or its state
// expired) may start at any sequence (KIP-360).
func (s *producerStates) check(h record.Header) seqCheck {
	e := s.m[h.ProducerID]
	if e == nil {
		return seqCheck{}
	}
	if e.txnFirst >= 0 && !h.IsTransactional() && h.ProducerEpoch >= e.epoch {
		return seqCheck{err: kerr.InvalidTxnState, msg: fmt.Sprintf(
			"producer %d has a transaction open on this partition and sent a non-transactional batch", h.ProducerID)}
	}
	if h.BaseSequence < 0 {
		// The group coordinator's transactional offset commits carry no
		// sequence: only the epoch is checked.
		if h.ProducerEpoch < e.epoch {
			return seqCheck{err: kerr.InvalidProducerEpoch, msg: fmt.Sprintf(
				"producer %d epoch %d is older than the current epoch %d", h.ProducerID, h.ProducerEpoch, e.epoch)}
		}
		return seqCheck{}
	}
	if h.ProducerEpoch == e.epoch {
		last := lastSequence(h)
		for i := 0; i < e.n; i++ {
			if b := &e.batches[i]; b.firstSeq == h.BaseSequence && b.lastSeq == last {
				dup := *b
				return seqCheck{dup: &dup}
			}
		}
	}
	switch {
	case h.ProducerEpoch < e.epoch:
		return seqCheck{err: kerr.InvalidProducerEpoch, msg: fmt.Sprintf(
			"producer %d epoch %d is older than the current epoch %d", h.ProducerID, h.ProducerEpoch, e.epoch)}
	case h.ProducerEpoch > e.epoch && h.BaseSequence != 0:
		return seqCheck{err: kerr.OutOfOrderSequenceNumber, msg: fmt.Sprintf(
			"producer %d new epoch %d must start at sequence 0, got %d", h.ProducerID, h.ProducerEpoch, h.BaseSequence)}
	case h.ProducerEpoch == e.epoch && !inSequence(e.lastSeq, h.BaseSequence):
		return seqCheck{err: kerr.OutOfOrderSequenceNumber, msg: fmt.Sprintf(
			"producer %d epoch %d: sequence %d does not follow %d", h.ProducerID, h.ProducerEpoch, h.BaseSequence, e.lastSeq)}
	}
	return seqCheck{}
}

// update records an appended batch whose header carries its final base
// offset. A new epoch forgets the old epoch's batches.
// update records an appended data batch whose header carries its final
// base offset. A new epoch forgets the old epoch's batches; a
// transactional batch opens the producer's transaction here if none is.
func (s *producerStates) update(h record.Header) {
	e := s.entry(h.ProducerID, h.ProducerEpoch)
	if h.BaseSequence >= 0 {
		m := batchMeta{
			firstSeq: h.BaseSequence, lastSeq: lastSequence(h),
			firstOffset: h.BaseOffset, lastOffset: h.LastOffset(), maxTimestamp: h.MaxTimestamp,
		}
		e.push(m)
		e.lastSeq = m.lastSeq
	}
	e.lastTimestamp = max(e.lastTimestamp, h.MaxTimestamp)
	if h.IsTransactional() && e.txnFirst < 0 {
		e.txnFirst = h.BaseOffset
		s.ongoing[h.ProducerID] = h.BaseOffset
	}
}

// expire forgets producers whose newest batch is older than maxAgeMs
// (producer.id.expiration.ms), so the state of departed producers does not
// grow without bound.
func (s *producerStates) expire(nowMs, maxAgeMs int64) {
	for id, e := range s.m {
		// An open transaction keeps its producer: its first offset holds
		// the last stable offset back until a marker ends it.
		if e.txnFirst < 0 && nowMs-e.lastTimestamp > maxAgeMs {
			delete(s.m, id)
		}
	}
}

// len is the number of producers known.
func (s *producerStates) len() int { return len(s.m) }
