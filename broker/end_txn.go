package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleEndTxn commits or aborts a producer's transaction. It answers once
// the decision is durable in __transaction_state; the markers that make it
// visible to consumers are written afterwards, and the producer's next
// transaction waits (CONCURRENT_TRANSACTIONS) until they are.
func (b *Broker) handleEndTxn(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.EndTxnRequest)
	resp := r.ResponseKind().(*kmsg.EndTxnResponse)
	if r.TransactionalID == "" {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return protocol.Msg(resp)
	}
	err := b.txns.endTxn(ctx, r.TransactionalID, r.ProducerID, r.ProducerEpoch, r.Commit)
	if err == kerr.ProducerFenced && r.Version < 2 {
		err = kerr.InvalidProducerEpoch // what clients before v2 understand
	}
	if err != nil {
		resp.ErrorCode = err.Code
	}
	return protocol.Msg(resp)
}
