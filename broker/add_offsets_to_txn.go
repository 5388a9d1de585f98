package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/group"
	"spool/broker/txn"
	"spool/protocol"
)

// handleAddOffsetsToTxn adds the __consumer_offsets partition of a group
// to a producer's transaction, so the offsets it commits with
// TxnOffsetCommit get the transaction's marker.
func (b *Broker) handleAddOffsetsToTxn(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.AddOffsetsToTxnRequest)
	resp := r.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	if r.TransactionalID == "" {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return protocol.Msg(resp)
	}
	p := txn.Partition{Topic: offsetsTopic, Partition: group.Partition(r.Group, b.offsetsPartitions())}
	err := b.txns.addPartitions(ctx, r.TransactionalID, r.ProducerID, r.ProducerEpoch, []txn.Partition{p})
	if err == kerr.ProducerFenced && r.Version < 2 {
		err = kerr.InvalidProducerEpoch // what clients before v2 understand
	}
	if err != nil {
		resp.ErrorCode = err.Code
	}
	return protocol.Msg(resp)
}

// offsetsPartitions is how many partitions __consumer_offsets has, or will
// have once created (offsets.topic.num.partitions), as Kafka's group
// coordinator counts them.
func (b *Broker) offsetsPartitions() int {
	if t := b.Image().Topics.ByName(offsetsTopic); t != nil && len(t.Partitions) > 0 {
		return len(t.Partitions)
	}
	return int(b.cfg.Static.Int("offsets.topic.num.partitions"))
}
