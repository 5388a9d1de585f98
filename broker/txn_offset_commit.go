package broker

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/group"
	"spool/broker/txn"
	"spool/protocol"
)

// handleTxnOffsetCommit commits offsets inside a transaction: they are
// written to the group's __consumer_offsets partition as one batch of the
// producer's transaction and become the group's committed offsets only
// when the transaction's commit marker reaches that partition. The answer
// goes out once the batch is durable.
func (b *Broker) handleTxnOffsetCommit(req *protocol.Request, respond func(protocol.Response)) {
	r := detach(req).(*kmsg.TxnOffsetCommitRequest)
	if r.Group == "" {
		// Unlike OffsetCommit, Kafka never accepted the empty group here.
		respond(protocol.Msg(group.TxnCommitError(r, kerr.InvalidGroupID)))
		return
	}
	if err := b.verifyTxnOffsets(req.Context(), r); err != nil {
		respond(protocol.Msg(group.TxnCommitError(r, err)))
		return
	}
	img := b.Image()
	exists := func(topic string, partition int32) bool {
		t := img.Topics.ByName(topic)
		return t != nil && t.Partition(partition) != nil
	}
	// As for OffsetCommit, a commit without a generation may create a
	// group that only holds offsets; one naming a generation needs the
	// group to exist.
	found, err := b.groups.doCell(r.Group, r.Generation < 0, replyWith(respond), func(cl *cell, id group.ReqID, now time.Time) (group.Out, *kerr.Error) {
		if cl.cg == nil {
			return cl.g.TxnCommit(id, r, exists, now), nil
		}
		if r.Generation >= 0 || r.MemberID != "" {
			if err := cl.cg.ValidateCommit(r.MemberID, r.Generation, true, r.Version); err != nil {
				return group.Out{}, err
			}
		}
		return cl.g.TxnCommitChecked(id, r, exists, now), nil
	})
	switch {
	case err != nil:
		respond(protocol.Msg(group.TxnCommitError(r, err)))
	case !found:
		respond(protocol.Msg(group.TxnCommitError(r, kerr.IllegalGeneration)))
	}
}

// verifyTxnOffsets asks the transaction coordinator whether the group's
// __consumer_offsets partition is in the producer's open transaction at
// this epoch, as Kafka's group coordinator does (KIP-890 part 1): a stale
// or future epoch is INVALID_PRODUCER_EPOCH, a partition AddOffsetsToTxn
// never added is INVALID_TXN_STATE. Without it such offsets would wait for
// a marker of a transaction that is not theirs.
func (b *Broker) verifyTxnOffsets(ctx context.Context, r *kmsg.TxnOffsetCommitRequest) *kerr.Error {
	if b.verifier == nil || !b.verifier.enabled(b.Image()) {
		return nil
	}
	part := txn.Partition{Topic: offsetsTopic, Partition: group.Partition(r.Group, b.offsetsPartitions())}
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	res, all := b.verifier.verify(ctx, r.TransactionalID, r.ProducerID, r.ProducerEpoch, []txn.Partition{part})
	err := all
	if err == nil {
		err = res[part]
	}
	switch err {
	case nil, kerr.InvalidProducerEpoch, kerr.ProducerFenced, kerr.InvalidTxnState, kerr.InvalidProducerIDMapping,
		kerr.CoordinatorNotAvailable, kerr.NotCoordinator, kerr.CoordinatorLoadInProgress, kerr.ConcurrentTransactions:
		if err == kerr.ProducerFenced {
			return kerr.InvalidProducerEpoch
		}
		return err
	}
	return kerr.InvalidTxnState
}
