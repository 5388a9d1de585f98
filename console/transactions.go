package console

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type txnView struct {
	TransactionalID string          `json:"transactional_id"`
	State           string          `json:"state"`
	Coordinator     int32           `json:"coordinator"`
	ProducerID      int64           `json:"producer_id"`
	ProducerEpoch   int16           `json:"producer_epoch"`
	TimeoutMillis   int32           `json:"timeout_ms"`
	StartTimestamp  int64           `json:"start_timestamp"`
	Partitions      []topicPartsOut `json:"partitions"`
	// Overdue marks an ongoing transaction open longer than its timeout:
	// its coordinator should have aborted it by now. (A hanging
	// transaction is found on the partitions: /v1/transactions/open.)
	Overdue bool   `json:"overdue"`
	Error   string `json:"error,omitempty"`
}

// transactions answers GET /v1/transactions: every transactional id the
// coordinators know (ListTransactions) described (DescribeTransactions).
func (c *Console) transactions(ctx context.Context, r *http.Request) (any, error) {
	adm, err := c.admin()
	if err != nil {
		return nil, err
	}
	listed, err := adm.ListTransactions(ctx, nil, nil)
	if err != nil {
		return nil, err
	}
	out := []txnView{}
	if len(listed) == 0 {
		return map[string]any{"transactions": out}, nil
	}
	ids := make([]string, 0, len(listed))
	for id := range listed {
		// ListTransactions lists only the ids the user may describe.
		if c.may(ctx, r, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeTransactionalId, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return map[string]any{"transactions": out}, nil
	}
	described, err := adm.DescribeTransactions(ctx, ids...)
	if err != nil {
		return nil, err
	}
	now := time.Now().UnixMilli()
	for _, id := range ids {
		l := listed[id]
		v := txnView{TransactionalID: id, State: l.State, Coordinator: l.Coordinator, ProducerID: l.ProducerID, StartTimestamp: -1, Partitions: []topicPartsOut{}}
		if d, ok := described[id]; ok {
			if d.Err != nil {
				v.Error = d.Err.Error()
			} else {
				v.State, v.ProducerEpoch, v.TimeoutMillis, v.StartTimestamp = d.State, d.ProducerEpoch, d.TimeoutMillis, d.StartTimestamp
				for _, t := range d.Topics.Sorted() {
					v.Partitions = append(v.Partitions, topicPartsOut{Topic: t.Topic, Partitions: t.Partitions})
				}
				v.Overdue = d.State == "Ongoing" && d.StartTimestamp > 0 && now-d.StartTimestamp > int64(d.TimeoutMillis)
			}
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b txnView) int { return strings.Compare(a.TransactionalID, b.TransactionalID) })
	return map[string]any{"transactions": out}, nil
}

type producerView struct {
	ProducerID            int64 `json:"producer_id"`
	ProducerEpoch         int16 `json:"producer_epoch"`
	LastSequence          int32 `json:"last_sequence"`
	LastTimestamp         int64 `json:"last_timestamp"`
	CoordinatorEpoch      int32 `json:"coordinator_epoch"`
	CurrentTxnStartOffset int64 `json:"current_txn_start_offset"`
}

// producers answers GET /v1/topics/{topic}/partitions/{partition}/producers:
// the partition leader's active producers (DescribeProducers).
func (c *Console) producers(ctx context.Context, r *http.Request) (any, error) {
	topic, part, err := c.partitionOf(r)
	if err != nil {
		return nil, err
	}
	if err := c.mustMay(ctx, r, kmsg.ACLOperationRead, kmsg.ACLResourceTypeTopic, topic); err != nil {
		return nil, err
	}
	adm, err := c.admin()
	if err != nil {
		return nil, err
	}
	set := kadm.TopicsSet{}
	set.Add(topic, part)
	described, err := adm.DescribeProducers(ctx, set)
	if err != nil {
		return nil, err
	}
	out := []producerView{}
	p, ok := described[topic].Partitions[part]
	if !ok {
		return nil, notFound("no answer for the partition")
	}
	if p.Err != nil {
		return nil, p.Err
	}
	for _, d := range p.ActiveProducers.Sorted() {
		out = append(out, producerView{ProducerID: d.ProducerID, ProducerEpoch: d.ProducerEpoch, LastSequence: d.LastSequence,
			LastTimestamp: d.LastTimestamp, CoordinatorEpoch: d.CoordinatorEpoch, CurrentTxnStartOffset: d.CurrentTxnStartOffset})
	}
	return map[string]any{"topic": topic, "partition": part, "leader": p.Leader, "producers": out}, nil
}
