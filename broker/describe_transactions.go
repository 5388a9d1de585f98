package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleDescribeTransactions describes transactional ids this broker
// coordinates; others answer NOT_COORDINATOR.
func (b *Broker) handleDescribeTransactions(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.DescribeTransactionsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeTransactionsResponse)
	for _, id := range r.TransactionalIDs {
		resp.TransactionStates = append(resp.TransactionStates, b.txns.describe(id))
	}
	respond(protocol.Msg(resp))
}
