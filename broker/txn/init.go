package txn

import (
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
)

// InitRequest is a transactional InitProducerId.
type InitRequest struct {
	TimeoutMs int32
	// Expected is the producer id and epoch the producer names (KIP-360,
	// v3+) when it re-initialises after an error; nil when it names none.
	Expected *ProducerIDEpoch
	// NewProducerID is a producer id the caller allocated after an
	// earlier call said it needs one; NoProducerID otherwise.
	NewProducerID int64
}

// PrepareInit handles InitProducerId. It returns the transition to write:
// to Empty, after which the producer gets the transit's id and epoch; or,
// when a transaction is open, a fencing abort (PrepareAbort with a bumped
// epoch), after which the caller writes the abort markers and answers
// CONCURRENT_TRANSACTIONS so that the producer retries and gets the epoch
// after it. needID asks the caller to allocate a producer id (the epochs
// of the current one are used up) and call again with it.
func (t *Txn) PrepareInit(req InitRequest, nowMs int64) (tr *Transit, needID bool, err *kerr.Error) {
	if t.pending != nil {
		return nil, false, kerr.ConcurrentTransactions
	}
	if req.Expected != nil && !t.validProducerID(*req.Expected) {
		return nil, false, kerr.ProducerFenced
	}
	switch t.State {
	case PrepareCommit, PrepareAbort:
		return nil, false, kerr.ConcurrentTransactions
	case Ongoing:
		tr, ok := t.PrepareFence(nowMs)
		if !ok {
			return nil, false, kerr.UnknownServerError
		}
		return tr, false, nil
	case Empty, CompleteCommit, CompleteAbort:
	default: // Dead and PrepareEpochFence are never the settled state
		return nil, false, kerr.UnknownServerError
	}
	if isEpochExhausted(t.ProducerEpoch) && (req.Expected == nil || req.Expected.Epoch == t.ProducerEpoch) {
		if req.NewProducerID < 0 {
			return nil, true, nil
		}
		tr, _ = t.transit(Empty, nowMs)
		tr.ProducerID, tr.ProducerEpoch, tr.LastProducerEpoch = req.NewProducerID, 0, NoEpoch
		if req.Expected != nil {
			tr.LastProducerEpoch = t.ProducerEpoch
		}
		t.resetTransaction(tr, req.TimeoutMs)
		return tr, false, nil
	}
	epoch, last, err := t.nextEpoch(req.Expected)
	if err != nil {
		return nil, false, err
	}
	tr, _ = t.transit(Empty, nowMs)
	tr.ProducerEpoch, tr.LastProducerEpoch = epoch, last
	t.resetTransaction(tr, req.TimeoutMs)
	return tr, false, nil
}

// validProducerID is KIP-360's check of the producer id a producer names:
// the current id, any id while the transactional id is new, or the id
// before a rotation when the producer had used up its epochs (a retry
// whose answer was lost).
func (t *Txn) validProducerID(e ProducerIDEpoch) bool {
	return t.ProducerEpoch == NoEpoch || e.ProducerID == t.ProducerID ||
		(e.ProducerID == t.PrevProducerID && isEpochExhausted(e.Epoch))
}

// nextEpoch is the epoch (and last epoch) an InitProducerId moves to.
func (t *Txn) nextEpoch(expected *ProducerIDEpoch) (epoch, last int16, err *kerr.Error) {
	switch {
	case expected == nil:
		// A new producer instance: it fences whatever used the id before.
		if t.ProducerEpoch == math.MaxInt16 {
			return 0, 0, kerr.UnknownServerError
		}
		return t.ProducerEpoch + 1, NoEpoch, nil
	case t.ProducerEpoch == NoEpoch || expected.Epoch == t.ProducerEpoch:
		// The same producer recovering from an error, with nobody else
		// initialised since.
		if t.ProducerEpoch == math.MaxInt16 {
			return 0, 0, kerr.UnknownServerError
		}
		return t.ProducerEpoch + 1, t.ProducerEpoch, nil
	case expected.Epoch == t.LastProducerEpoch:
		// A retry of a bump that succeeded: answer the same epoch again.
		return t.ProducerEpoch, t.LastProducerEpoch, nil
	}
	return 0, 0, kerr.ProducerFenced
}

// resetTransaction makes tr a fresh start: no transaction, the producer's
// timeout.
func (t *Txn) resetTransaction(tr *Transit, timeoutMs int32) {
	tr.TimeoutMs, tr.Partitions, tr.StartMs = timeoutMs, nil, -1
	t.pending = tr
}

// PrepareFence aborts the open transaction with a bumped epoch, so its
// producer is fenced: for an InitProducerId from a new instance, and for
// a transaction that exceeded its timeout. The bumped epoch takes effect
// at once, before the write, as in Kafka: the old producer's EndTxn must
// already be refused. ok is false when no transaction is open or another
// transition is pending.
func (t *Txn) PrepareFence(nowMs int64) (tr *Transit, ok bool) {
	if t.pending != nil || t.State != Ongoing {
		return nil, false
	}
	epoch := t.ProducerEpoch
	if !t.failedFence {
		if epoch == math.MaxInt16 {
			return nil, false
		}
		epoch++
	}
	tr, ok = t.transit(PrepareAbort, nowMs)
	if !ok {
		return nil, false
	}
	t.ProducerEpoch, t.LastProducerEpoch = epoch, NoEpoch
	tr.ProducerEpoch, tr.LastProducerEpoch, tr.fence = epoch, NoEpoch, true
	t.pending = tr
	return tr, true
}
