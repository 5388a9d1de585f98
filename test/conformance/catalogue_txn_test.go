package conformance

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// addPartitions is the client's AddPartitionsToTxn (v3 and below) for the
// saved producer, epoch moved by epochDelta.
func addPartitions(topic string, partition int32, pidDelta int64, epochDelta int16) func(*side) kmsg.Request {
	return func(sd *side) kmsg.Request {
		req := kmsg.NewPtrAddPartitionsToTxnRequest()
		req.TransactionalID = sd.str("txnid")
		req.ProducerID, req.ProducerEpoch = sd.int64("pid")+pidDelta, sd.int16("epoch")+epochDelta
		t := kmsg.NewAddPartitionsToTxnRequestTopic()
		t.Topic, t.Partitions = topic, []int32{partition}
		req.Topics = append(req.Topics, t)
		return req
	}
}

func addOffsets(group string) func(*side) kmsg.Request {
	return func(sd *side) kmsg.Request {
		req := kmsg.NewPtrAddOffsetsToTxnRequest()
		req.TransactionalID, req.ProducerID, req.ProducerEpoch = sd.str("txnid"), sd.int64("pid"), sd.int16("epoch")
		req.Group = group
		return req
	}
}

func endTxn(commit bool, epochDelta int16) func(*side) kmsg.Request {
	return func(sd *side) kmsg.Request {
		req := kmsg.NewPtrEndTxnRequest()
		req.TransactionalID, req.ProducerID, req.ProducerEpoch = sd.str("txnid"), sd.int64("pid"), sd.int16("epoch")+epochDelta
		req.Commit = commit
		return req
	}
}

func txnCommit(group, topic string, offset int64, epochDelta int16) func(*side) kmsg.Request {
	return func(sd *side) kmsg.Request {
		req := kmsg.NewPtrTxnOffsetCommitRequest()
		req.TransactionalID, req.Group = sd.str("txnid"), group
		req.ProducerID, req.ProducerEpoch, req.Generation = sd.int64("pid"), sd.int16("epoch")+epochDelta, -1
		t := kmsg.NewTxnOffsetCommitRequestTopic()
		t.Topic = topic
		p := kmsg.NewTxnOffsetCommitRequestTopicPartition()
		p.Partition, p.Offset, p.LeaderEpoch = 0, offset, -1
		t.Partitions = append(t.Partitions, p)
		req.Topics = append(req.Topics, t)
		return req
	}
}

func describeTxns(ids ...string) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrDescribeTransactionsRequest()
		req.TransactionalIDs = ids
		return req
	}
}

var describedTxnCompare = []string{"**ErrorCode", "TransactionStates[*].State", "TransactionStates[*].TimeoutMillis", "TransactionStates[*].Topics**"}

func txnBatch(count int, seq int32) func(*side) batch {
	return func(sd *side) batch {
		return batch{count: count, txn: true, pid: sd.int64("pid"), epoch: sd.int16("epoch"), seq: seq}
	}
}

func txnScripts() []script {
	const id, g = "txn-a", "txn-grp"
	return []script{
		{name: "txn-produce-before-add", steps: append(newTopic(topicSpec{name: "tx-b"}),
			step{name: "setup-find-coordinator", setup: true, req: findCoordinator("txn-b", 1)},
			step{name: "setup-init", setup: true, req: initProducerID("txn-b", 60000), save: savePID},
			step{name: "produce-before-add", req: produceWith("tx-b", 0, -1, txnBatch(1, 0)), compare: producedCompare},
		)},
		{name: "transactions", steps: append(newTopic(topicSpec{name: "tx-a"}),
			step{name: "find-coordinator", req: findCoordinator(id, 1), compare: []string{"**ErrorCode", "**NodeID"}, wait: true},
			step{name: "setup-group-coordinator", setup: true, req: findCoordinator(g, 0)},
			step{name: "init-timeout-too-large", req: initProducerID(id, 1_000_000_000)},
			step{name: "init", req: initProducerID(id, 60000), save: savePID, wait: true, compare: []string{"ErrorCode", "ProducerEpoch"}},
			step{name: "end-without-txn", req: endTxn(true, 0)},
			step{name: "add-unknown-topic", req: addPartitions("tx-never", 0, 0, 0), compare: []string{"**ErrorCode"}, version: v(3)},
			step{name: "add-wrong-epoch", req: addPartitions("tx-a", 0, 0, 1), compare: []string{"**ErrorCode"}, version: v(3)},
			step{name: "add-unknown-producer", req: addPartitions("tx-a", 0, 77, 0), compare: []string{"**ErrorCode"}, version: v(3)},
			step{name: "add", req: addPartitions("tx-a", 0, 0, 0), compare: []string{"**ErrorCode"}, version: v(3), wait: true},
			step{name: "produce", req: produceWith("tx-a", 0, -1, txnBatch(2, 0)), compare: producedCompare},
			step{name: "lso-held", req: listOffsets("tx-a", 0, -1, -1, 1), compare: listedCompare},
			step{name: "read-committed-fetch", req: fetchReq("tx-a", 0, 0, -1, 1), compare: []string{"**ErrorCode", "**HighWatermark", "**LastStableOffset", "**AbortedTransactions**"}},
			step{name: "describe-ongoing", req: describeTxns(id), compare: describedTxnCompare},
			step{name: "list-ongoing", req: listTxns("Ongoing"), compare: []string{"ErrorCode", "TransactionStates[txn-a].TransactionState"}},
			step{name: "add-offsets", req: addOffsets(g), wait: true},
			step{name: "txn-offset-commit", req: txnCommit(g, "tx-a", 2, 0), wait: true},
			step{name: "txn-offset-commit-wrong-epoch", req: txnCommit(g, "tx-a", 2, 1)},
			step{name: "offsets-pending", req: offsetFetch(g, true, "tx-a"), compare: fetchedCompare},
			step{name: "end-wrong-epoch", req: endTxn(true, 1)},
			step{name: "commit", req: endTxn(true, 0)},
			step{name: "lso-after-commit", settle: true, req: listOffsets("tx-a", 0, -1, -1, 1), compare: listedCompare, wait: true},
			step{name: "offsets-committed", settle: true, req: offsetFetch(g, true, "tx-a"), compare: fetchedCompare, wait: true},
			step{name: "describe-after-commit", settle: true, req: describeTxns(id), compare: describedTxnCompare, wait: true},
			step{name: "add-again", req: addPartitions("tx-a", 0, 0, 0), compare: []string{"**ErrorCode"}, version: v(3), wait: true},
			step{name: "abort", req: endTxn(false, 0), wait: true},
			step{name: "describe-unknown", req: describeTxns("txn-never"), compare: describedTxnCompare},
			step{name: "end-unknown-id", req: func(sd *side) kmsg.Request {
				r := endTxn(true, 0)(sd).(*kmsg.EndTxnRequest)
				r.TransactionalID = "txn-never"
				return r
			}},
			step{name: "reinit-fences", req: initProducerID(id, 60000), compare: []string{"ErrorCode"}, wait: true},
			step{name: "old-epoch-add", req: addPartitions("tx-a", 0, 0, 0), compare: []string{"**ErrorCode"}, version: v(3)},
			step{name: "describe-producers", req: describeProducers("tx-a", 0), compare: []string{"**ErrorCode", "**ActiveProducers.len", "**ActiveProducers[*].LastSequence", "**ActiveProducers[*].CurrentTxnStartOffset"}},
		)},
	}
}

func listTxns(states ...string) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrListTransactionsRequest()
		req.StateFilters = states
		return req
	}
}
