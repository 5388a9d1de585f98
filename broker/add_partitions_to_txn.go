package broker

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/txn"
	"spool/controller/metadata"
	"spool/protocol"
)

// handleAddPartitionsToTxn adds partitions to a producer's transaction
// (v0-v3, from clients), or adds or verifies the partitions of several
// transactions at once for partition leaders (v4+, KIP-890 part 1).
func (b *Broker) handleAddPartitionsToTxn(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.AddPartitionsToTxnRequest)
	resp := r.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	img := b.Image()
	if r.Version < 4 {
		topics := make([]txnTopic, len(r.Topics))
		for i, t := range r.Topics {
			topics[i] = txnTopic{t.Topic, t.Partitions}
		}
		codes := b.addToTxn(ctx, img, r.Version, r.TransactionalID, r.ProducerID, r.ProducerEpoch, false, topics)
		for _, t := range topics {
			rt := kmsg.NewAddPartitionsToTxnResponseTopic()
			rt.Topic = t.name
			for _, p := range t.partitions {
				rp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p, codes[txn.Partition{Topic: t.name, Partition: p}]
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return protocol.Msg(resp)
	}
	resp.Transactions = make([]kmsg.AddPartitionsToTxnResponseTransaction, len(r.Transactions))
	var wg sync.WaitGroup
	for i, rtx := range r.Transactions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			topics := make([]txnTopic, len(rtx.Topics))
			for j, t := range rtx.Topics {
				topics[j] = txnTopic{t.Topic, t.Partitions}
			}
			codes := b.addToTxn(ctx, img, r.Version, rtx.TransactionalID, rtx.ProducerID, rtx.ProducerEpoch, rtx.VerifyOnly, topics)
			out := kmsg.NewAddPartitionsToTxnResponseTransaction()
			out.TransactionalID = rtx.TransactionalID
			for _, t := range topics {
				rt := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
				rt.Topic = t.name
				for _, p := range t.partitions {
					rp := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
					rp.Partition, rp.ErrorCode = p, codes[txn.Partition{Topic: t.name, Partition: p}]
					rt.Partitions = append(rt.Partitions, rp)
				}
				out.Topics = append(out.Topics, rt)
			}
			resp.Transactions[i] = out
		}()
	}
	wg.Wait()
	return protocol.Msg(resp)
}

// txnTopic is a topic's partitions as a request names them.
type txnTopic struct {
	name       string
	partitions []int32
}

// addToTxn adds (or, with verify, checks) one transaction's partitions and
// returns each partition's error code, as Kafka does: a partition that
// does not exist (or, from a client, an internal topic) fails the whole
// request, the others answering OPERATION_NOT_ATTEMPTED.
func (b *Broker) addToTxn(ctx context.Context, img *metadata.Image, version int16, id string, producerID int64, epoch int16,
	verify bool, topics []txnTopic) map[txn.Partition]int16 {
	codes := map[txn.Partition]int16{}
	var parts []txn.Partition
	for _, t := range topics {
		for _, p := range t.partitions {
			parts = append(parts, txn.Partition{Topic: t.name, Partition: p})
		}
	}
	fill := func(err *kerr.Error, ps []txn.Partition) {
		for _, p := range ps {
			codes[p] = err.Code
		}
	}
	if id == "" {
		fill(kerr.InvalidRequest, parts)
		return codes
	}
	var ok []txn.Partition
	failed := false
	for _, p := range parts {
		t := img.Topics.ByName(p.Topic)
		switch {
		case version < 4 && isInternal(p.Topic):
			// Kafka never authorises clients to write internal topics.
			codes[p], failed = kerr.TopicAuthorizationFailed.Code, true
		case t == nil || t.Partition(p.Partition) == nil:
			codes[p], failed = kerr.UnknownTopicOrPartition.Code, true
		default:
			ok = append(ok, p)
		}
	}
	if failed {
		fill(kerr.OperationNotAttempted, ok)
		return codes
	}
	if !verify {
		err := b.txns.addPartitions(ctx, id, producerID, epoch, ok)
		if err == kerr.ProducerFenced && version < 2 {
			err = kerr.InvalidProducerEpoch // what clients before v2 understand
		}
		if err != nil {
			fill(err, ok)
		}
		return codes
	}
	res, err := b.txns.verify(id, producerID, epoch, ok)
	if err != nil {
		fill(err, ok)
		return codes
	}
	for p, perr := range res {
		if perr == kerr.TransactionAbortable && version < 5 {
			perr = kerr.InvalidTxnState // v4 predates TRANSACTION_ABORTABLE
		}
		if perr != nil {
			codes[p] = perr.Code
		}
	}
	return codes
}
