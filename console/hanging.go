package console

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

// maxScannedPartitions bounds one scan for open transactions.
const maxScannedPartitions = 5000

type openTxn struct {
	Topic            string `json:"topic"`
	Partition        int32  `json:"partition"`
	ProducerID       int64  `json:"producer_id"`
	ProducerEpoch    int16  `json:"producer_epoch"`
	StartOffset      int64  `json:"start_offset"`
	LastTimestamp    int64  `json:"last_timestamp"`
	TransactionalID  string `json:"transactional_id"`
	CoordinatorState string `json:"coordinator_state"`
	Hanging          bool   `json:"hanging"`
}

type openTxnsView struct {
	MaxTimeoutMillis int64     `json:"transaction_max_timeout_ms"`
	Scanned          int       `json:"partitions_scanned"`
	Truncated        bool      `json:"truncated"`
	Open             []openTxn `json:"open"`
}

// openTransactions answers GET /v1/transactions/open: every partition
// with an open transaction (DescribeProducers), each checked as
// kafka-transactions find-hanging checks it: open for longer than
// transaction.max.timeout.ms while its coordinator does not have that
// producer's transaction ongoing over the partition, so nothing will ever
// end it and it holds back the last stable offset.
func (c *Console) openTransactions(ctx context.Context, r *http.Request) (any, error) {
	adm, err := c.admin()
	if err != nil {
		return nil, err
	}
	v := openTxnsView{MaxTimeoutMillis: c.maxTxnTimeout(ctx, adm), Open: []openTxn{}}
	set := kadm.TopicsSet{}
	c.image().Topics.Range(func(t *metadata.Topic) bool {
		if !c.may(ctx, r, kmsg.ACLOperationRead, kmsg.ACLResourceTypeTopic, t.Name) {
			return true
		}
		for _, p := range t.Partitions {
			if v.Scanned == maxScannedPartitions {
				v.Truncated = true
				return false
			}
			set.Add(t.Name, p.ID)
			v.Scanned++
		}
		return true
	})
	if v.Scanned == 0 {
		return v, nil
	}
	described, err := adm.DescribeProducers(ctx, set)
	if err != nil {
		return nil, err
	}
	for _, p := range described.SortedProducers() {
		if p.CurrentTxnStartOffset >= 0 {
			v.Open = append(v.Open, openTxn{Topic: p.Topic, Partition: p.Partition, ProducerID: p.ProducerID, ProducerEpoch: p.ProducerEpoch,
				StartOffset: p.CurrentTxnStartOffset, LastTimestamp: p.LastTimestamp})
		}
	}
	if len(v.Open) == 0 {
		return v, nil
	}
	if err := c.judgeOpen(ctx, adm, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// judgeOpen finds each open transaction's coordinator state and marks the
// hanging ones.
func (c *Console) judgeOpen(ctx context.Context, adm *kadm.Client, v *openTxnsView) error {
	pids := make([]int64, 0, len(v.Open))
	for _, o := range v.Open {
		pids = append(pids, o.ProducerID)
	}
	listed, err := adm.ListTransactions(ctx, pids, nil)
	if err != nil {
		return err
	}
	byPID := map[int64]string{}
	ids := []string{}
	for id, l := range listed {
		byPID[l.ProducerID] = id
		ids = append(ids, id)
	}
	var described kadm.DescribedTransactions
	if len(ids) > 0 {
		if described, err = adm.DescribeTransactions(ctx, ids...); err != nil {
			return err
		}
	}
	now := time.Now().UnixMilli()
	for i := range v.Open {
		o := &v.Open[i]
		o.TransactionalID = byPID[o.ProducerID]
		d, known := described[o.TransactionalID]
		covers := false
		if known && d.Err == nil {
			o.CoordinatorState = d.State
			_, covers = d.Topics[o.Topic][o.Partition]
		}
		aged := now-o.LastTimestamp > v.MaxTimeoutMillis
		o.Hanging = aged && !(covers && d.ProducerID == o.ProducerID && d.State == "Ongoing")
	}
	slices.SortFunc(v.Open, func(a, b openTxn) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.ProducerID, b.ProducerID))
	})
	return nil
}

// maxTxnTimeout reads transaction.max.timeout.ms (Kafka's default, 15
// minutes, when the brokers do not say).
func (c *Console) maxTxnTimeout(ctx context.Context, adm *kadm.Client) int64 {
	const def = 15 * 60 * 1000
	rcs, err := adm.DescribeBrokerConfigs(ctx)
	if err != nil || len(rcs) == 0 {
		return def
	}
	for _, cfg := range rcs[0].Configs {
		if cfg.Key == "transaction.max.timeout.ms" {
			if n, err := strconv.ParseInt(cfg.MaybeValue(), 10, 64); err == nil && n > 0 {
				return n
			}
		}
	}
	return def
}
