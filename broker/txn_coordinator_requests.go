package broker

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/txn"
)

// The coordinator's side of the transactional requests; the handlers
// (add_partitions_to_txn.go, end_txn.go, ...) validate and shape the wire.

// addPartitions adds parts to id's transaction once the new state is
// durable; an id the coordinator does not know has no producer id yet.
func (c *txnCoordinator) addPartitions(ctx context.Context, id string, producerID int64, epoch int16, parts []txn.Partition) *kerr.Error {
	e, err := c.entry(id, nil)
	if err != nil {
		return err
	}
	if e == nil {
		return kerr.InvalidProducerIDMapping
	}
	defer e.mu.Unlock()
	tr, err := e.t.PrepareAddPartitions(producerID, epoch, parts, time.Now().UnixMilli())
	if err != nil || tr == nil {
		return err
	}
	return c.commit(ctx, e, tr)
}

// verify answers a partition leader whether parts are in id's open
// transaction (KIP-890 part 1).
func (c *txnCoordinator) verify(id string, producerID int64, epoch int16, parts []txn.Partition) (map[txn.Partition]*kerr.Error, *kerr.Error) {
	e, err := c.entry(id, nil)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, kerr.InvalidProducerIDMapping
	}
	defer e.mu.Unlock()
	return e.t.VerifyPartitions(producerID, epoch, parts)
}

// endTxn commits or aborts id's transaction: it answers once the
// PrepareCommit or PrepareAbort record is durable, and the markers follow.
func (c *txnCoordinator) endTxn(ctx context.Context, id string, producerID int64, epoch int16, commit bool) *kerr.Error {
	e, err := c.entry(id, nil)
	if err != nil {
		return err
	}
	if e == nil {
		return kerr.InvalidProducerIDMapping
	}
	tr, err := e.t.PrepareEnd(producerID, epoch, commit, time.Now().UnixMilli())
	if err != nil || tr == nil {
		e.mu.Unlock()
		return err
	}
	if err := c.commit(ctx, e, tr); err != nil {
		e.mu.Unlock()
		return err
	}
	pt := c.beginMarkers(e)
	e.mu.Unlock()
	c.markers.start(pt)
	return nil
}

// describe is one transactional id's DescribeTransactions entry.
func (c *txnCoordinator) describe(id string) kmsg.DescribeTransactionsResponseTransactionState {
	st := kmsg.NewDescribeTransactionsResponseTransactionState()
	st.TransactionalID = id
	if id == "" {
		st.ErrorCode = kerr.InvalidRequest.Code
		return st
	}
	e, err := c.entry(id, nil)
	switch {
	case err != nil:
		st.ErrorCode = err.Code
		return st
	case e == nil:
		st.ErrorCode = kerr.TransactionalIDNotFound.Code
		return st
	}
	defer e.mu.Unlock()
	t := e.t
	if t.State == txn.Dead {
		st.ErrorCode = kerr.TransactionalIDNotFound.Code
		return st
	}
	st.State, st.TimeoutMillis, st.StartTimestamp = t.State.String(), t.TimeoutMs, t.StartMs
	st.ProducerID, st.ProducerEpoch = t.ProducerID, t.ProducerEpoch
	for _, p := range t.Partitions() {
		if n := len(st.Topics); n == 0 || st.Topics[n-1].Topic != p.Topic {
			rt := kmsg.NewDescribeTransactionsResponseTransactionStateTopic()
			rt.Topic = p.Topic
			st.Topics = append(st.Topics, rt)
		}
		last := &st.Topics[len(st.Topics)-1]
		last.Partitions = append(last.Partitions, p.Partition)
	}
	return st
}

// list is ListTransactions over every loaded shard; while one is still
// loading the answer would be partial, so it is refused as in Kafka.
func (c *txnCoordinator) list(f *txn.ListFilter) ([]kmsg.ListTransactionsResponseTransactionState, *kerr.Error) {
	if c.loading() {
		return nil, kerr.CoordinatorLoadInProgress
	}
	nowMs := time.Now().UnixMilli()
	var out []kmsg.ListTransactionsResponseTransactionState
	for _, sh := range c.loadedShards() {
		for _, e := range sh.list() {
			e.mu.Lock()
			if !e.gone && f.Match(e.t, nowMs) {
				s := kmsg.NewListTransactionsResponseTransactionState()
				s.TransactionalID, s.ProducerID, s.TransactionState = e.t.ID, e.t.ProducerID, e.t.State.String()
				out = append(out, s)
			}
			e.mu.Unlock()
		}
	}
	return out, nil
}
