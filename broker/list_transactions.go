package broker

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/txn"
	"spool/protocol"
)

// handleListTransactions lists the transactional ids this broker
// coordinates, filtered by state, producer id, (v1) how long the
// transaction has been open and (v2) a transactional id pattern.
func (b *Broker) handleListTransactions(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.ListTransactionsRequest)
	resp := r.ResponseKind().(*kmsg.ListTransactionsResponse)
	duration := r.DurationFilterMillis
	if r.Version < 1 {
		duration = -1
	}
	f, unknown := txn.NewListFilter(r.StateFilters, r.ProducerIDFilters, duration)
	resp.UnknownStateFilters = unknown
	if r.Version >= 2 && r.TransactionalIDPattern != nil {
		if err := f.SetIDPattern(*r.TransactionalIDPattern); err != nil {
			resp.ErrorCode = kerr.InvalidRegularExpression.Code
			respond(protocol.Msg(resp))
			return
		}
	}
	states, err := b.txns.list(&f)
	if err != nil {
		resp.ErrorCode = err.Code
	} else {
		resp.TransactionStates = states
	}
	if b.cfg.Authorizer.Enabled() {
		// Only the ids the principal may describe, as Kafka lists them.
		resp.TransactionStates = slices.DeleteFunc(resp.TransactionStates, func(s kmsg.ListTransactionsResponseTransactionState) bool {
			return !b.allowed(req, aclDescribe, txnRT, s.TransactionalID)
		})
	}
	respond(protocol.Msg(resp))
}
