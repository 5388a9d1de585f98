package txn

import (
	"github.com/twmb/franz-go/pkg/kerr"
)

// checkProducer is the check every request of a producer starts with.
func (t *Txn) checkProducer(producerID int64, epoch int16) *kerr.Error {
	switch {
	case producerID != t.ProducerID:
		return kerr.InvalidProducerIDMapping
	case epoch != t.ProducerEpoch:
		return kerr.ProducerFenced
	}
	return nil
}

// PrepareAddPartitions handles AddPartitionsToTxn (and AddOffsetsToTxn,
// which adds the group's __consumer_offsets partition). A nil transit
// without error means the partitions are already in the open transaction:
// answer at once.
func (t *Txn) PrepareAddPartitions(producerID int64, epoch int16, parts []Partition, nowMs int64) (*Transit, *kerr.Error) {
	if err := t.checkProducer(producerID, epoch); err != nil {
		return nil, err
	}
	if t.pending != nil || t.State.preparing() {
		return nil, kerr.ConcurrentTransactions
	}
	if t.State == Ongoing && t.has(parts) {
		return nil, nil
	}
	tr, ok := t.transit(Ongoing, nowMs)
	if !ok {
		return nil, kerr.UnknownServerError
	}
	if t.State != Ongoing {
		tr.StartMs = nowMs
	}
	set := make(map[Partition]struct{}, len(t.partitions)+len(parts))
	for p := range t.partitions {
		set[p] = struct{}{}
	}
	for _, p := range parts {
		set[p] = struct{}{}
	}
	tr.Partitions = sortedPartitions(set)
	t.pending = tr
	return tr, nil
}

func (t *Txn) has(parts []Partition) bool {
	for _, p := range parts {
		if _, ok := t.partitions[p]; !ok {
			return false
		}
	}
	return true
}

// VerifyPartitions answers a partition leader's check (AddPartitionsToTxn
// v4+ with VerifyOnly, KIP-890 part 1) that a transactional produce
// belongs to the open transaction. A partition outside it gets
// TRANSACTION_ABORTABLE (AddPartitionsToTxn v4 callers expect
// INVALID_TXN_STATE instead). A pending transition does not matter here:
// the partitions only change when it is durable.
func (t *Txn) VerifyPartitions(producerID int64, epoch int16, parts []Partition) (map[Partition]*kerr.Error, *kerr.Error) {
	if err := t.checkProducer(producerID, epoch); err != nil {
		return nil, err
	}
	if t.State.preparing() {
		return nil, kerr.ConcurrentTransactions
	}
	out := make(map[Partition]*kerr.Error, len(parts))
	for _, p := range parts {
		if _, ok := t.partitions[p]; ok && t.State == Ongoing {
			out[p] = nil
		} else {
			out[p] = kerr.TransactionAbortable
		}
	}
	return out, nil
}

// PrepareEnd handles a producer's EndTxn. A nil transit without error is
// the retry of an EndTxn that already completed the same way: answer
// success at once.
func (t *Txn) PrepareEnd(producerID int64, epoch int16, commit bool, nowMs int64) (*Transit, *kerr.Error) {
	if err := t.checkProducer(producerID, epoch); err != nil {
		return nil, err
	}
	if t.pending != nil {
		return nil, kerr.ConcurrentTransactions
	}
	same := func(committed bool, done *kerr.Error) (*Transit, *kerr.Error) {
		if committed == commit {
			return nil, done
		}
		return nil, kerr.InvalidTxnState
	}
	switch t.State {
	case Ongoing:
		to := PrepareAbort
		if commit {
			to = PrepareCommit
		}
		tr, ok := t.transit(to, nowMs)
		if !ok {
			return nil, kerr.UnknownServerError
		}
		t.pending = tr
		return tr, nil
	case CompleteCommit:
		return same(true, nil)
	case CompleteAbort:
		return same(false, nil)
	case PrepareCommit:
		return same(true, kerr.ConcurrentTransactions)
	case PrepareAbort:
		return same(false, kerr.ConcurrentTransactions)
	case Empty:
		return nil, kerr.InvalidTxnState
	}
	return nil, kerr.UnknownServerError // Dead and PrepareEpochFence are never settled states
}

// PrepareComplete starts the end of a transaction whose PrepareCommit or
// PrepareAbort is durable: the markers go out, each partition's marker is
// reported with MarkerDone, and once Partitions is empty the transit
// (CompleteCommit or CompleteAbort) is written. The id stays pending
// meanwhile. ok is false when the transaction is not prepared.
func (t *Txn) PrepareComplete(nowMs int64) (tr *Transit, ok bool) {
	to := CompleteAbort
	if t.State == PrepareCommit {
		to = CompleteCommit
	}
	tr, ok = t.transit(to, nowMs)
	if !ok {
		return nil, false
	}
	// Kafka records the current epoch as the last one here.
	tr.LastProducerEpoch, tr.Partitions = t.ProducerEpoch, nil
	t.failedFence = false
	t.pending = tr
	return tr, true
}

// MarkerDone records that partition p has its marker (or no longer
// exists).
func (t *Txn) MarkerDone(p Partition) {
	if t.State.preparing() {
		delete(t.partitions, p)
	}
}

// PrepareDead starts the removal of an expired transactional id: the
// caller writes a tombstone and, once it is durable, forgets the id. ok is
// false unless the id is idle past expirationMs.
func (t *Txn) PrepareDead(nowMs, expirationMs int64) (tr *Transit, ok bool) {
	if !t.Expired(nowMs, expirationMs) {
		return nil, false
	}
	tr, ok = t.transit(Dead, t.LastUpdateMs)
	if !ok {
		return nil, false
	}
	tr.Partitions = nil
	t.pending = tr
	return tr, true
}

// Expired says whether the id has been idle longer than
// transactional.id.expiration.ms with no transaction open.
func (t *Txn) Expired(nowMs, expirationMs int64) bool {
	return t.pending == nil && t.State.expirable() && t.LastUpdateMs <= nowMs-expirationMs
}

// TimedOut says whether the open transaction has run longer than its
// timeout and should be aborted (with PrepareFence).
func (t *Txn) TimedOut(nowMs int64) bool {
	return t.pending == nil && t.State == Ongoing && t.StartMs+int64(t.TimeoutMs) < nowMs
}

// Complete applies tr, the pending transition, once its record is durable.
// It reports false (and changes nothing) when tr is not the pending
// transition. After a Dead transition the caller forgets the id.
func (t *Txn) Complete(tr *Transit) bool {
	if tr == nil || t.pending != tr {
		return false
	}
	switch tr.State {
	case Empty:
		t.ProducerID, t.PrevProducerID = tr.ProducerID, tr.PrevProducerID
		t.ProducerEpoch, t.LastProducerEpoch = tr.ProducerEpoch, tr.LastProducerEpoch
		t.TimeoutMs = tr.TimeoutMs
		t.StartMs = -1
		clear(t.partitions)
	case Ongoing:
		t.StartMs = tr.StartMs
		for _, p := range tr.Partitions {
			t.partitions[p] = struct{}{}
		}
	case CompleteCommit, CompleteAbort:
		t.StartMs = tr.StartMs
		clear(t.partitions)
	}
	t.State, t.LastUpdateMs, t.pending = tr.State, tr.LastUpdateMs, nil
	return true
}

// Fail drops tr, the pending transition, after its write failed. A failed
// fence keeps its bumped epoch (see PrepareFence).
func (t *Txn) Fail(tr *Transit) {
	if tr == nil || t.pending != tr {
		return
	}
	if tr.fence {
		t.failedFence = true
	}
	t.pending = nil
}
