package conformance

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// producedCompare are a Produce answer's deterministic fields.
var producedCompare = []string{"**ErrorCode", "**BaseOffset", "**LogStartOffset", "**RecordErrors**"}

// savePID keeps an InitProducerId answer's producer id and epoch.
func savePID(sd *side, r kmsg.Response) {
	resp := r.(*kmsg.InitProducerIDResponse)
	sd.vars["pid"], sd.vars["epoch"] = resp.ProducerID, resp.ProducerEpoch
}

func initProducerID(txnID string, timeout int32) func(*side) kmsg.Request {
	return func(sd *side) kmsg.Request {
		req := kmsg.NewPtrInitProducerIDRequest()
		if txnID != "" {
			req.TransactionalID = kmsg.StringPtr(txnID)
			sd.vars["txnid"] = txnID
		}
		req.TransactionTimeoutMillis, req.ProducerID, req.ProducerEpoch = timeout, -1, -1
		return req
	}
}

// idem is an idempotent batch of the saved producer at sequence seq.
func idem(count int, seq int32, epochDelta int16) func(*side) batch {
	return func(sd *side) batch {
		return batch{count: count, idem: true, pid: sd.int64("pid"), epoch: sd.int16("epoch") + epochDelta, seq: seq}
	}
}

func produceScripts() []script {
	return []script{
		{name: "produce-basic", steps: append(newTopic(topicSpec{name: "pb-a", partitions: 2}),
			step{name: "acks-1", req: produce("pb-a", 0, 1, batch{count: 3}), compare: producedCompare},
			step{name: "acks-all", req: produce("pb-a", 0, -1, batch{count: 2}), compare: producedCompare},
			step{name: "other-partition", req: produce("pb-a", 1, -1, batch{count: 5}), compare: producedCompare},
			step{name: "unknown-partition", req: produce("pb-a", 7, -1, batch{}), compare: producedCompare},
			step{name: "unknown-topic", req: produce("pb-never", 0, -1, batch{}), compare: producedCompare},
			step{name: "by-name-v12", req: produce("pb-a", 0, -1, batch{}), version: v(12), compare: producedCompare},
			step{name: "unknown-topic-v12", req: produce("pb-never", 0, -1, batch{}), version: v(12), compare: producedCompare},
			step{name: "invalid-topic-name", req: produce("pb/bad", 0, -1, batch{}), compare: producedCompare},
			step{name: "acks-2", req: produce("pb-a", 0, 2, batch{}), compare: producedCompare},
			step{name: "bad-crc", req: produce("pb-a", 0, -1, batch{badCRC: true}), compare: producedCompare},
			step{name: "magic-1", req: produce("pb-a", 0, -1, batch{magic: 1}), compare: producedCompare},
			step{name: "record-length-wrong", req: produce("pb-a", 0, -1, batch{count: 2, badRecordLength: true}), compare: producedCompare},
			step{name: "record-count-mismatch", req: produce("pb-a", 0, -1, batch{count: 3, numRecords: 5}), compare: producedCompare},
			step{name: "two-batches", req: func(sd *side) kmsg.Request {
				r := produce("pb-a", 0, -1, batch{})(sd).(*kmsg.ProduceRequest)
				p := &r.Topics[0].Partitions[0]
				p.Records = append(p.Records, batch{count: 2}.bytes()...)
				return r
			}, compare: producedCompare},
			step{name: "internal-topic", req: produce("__consumer_offsets", 0, -1, batch{}), compare: producedCompare},
			step{name: "after", req: listOffsets("pb-a", 0, -1, -1, 0), compare: listedCompare},
		)},
		{name: "produce-limits", steps: append(append(append(
			newTopic(topicSpec{name: "pl-small", configs: map[string]string{"max.message.bytes": "1024"}}),
			newTopic(topicSpec{name: "pl-compact", configs: map[string]string{"cleanup.policy": "compact"}})...),
			newTopic(topicSpec{name: "pl-ts", configs: map[string]string{"message.timestamp.after.max.ms": "60000", "message.timestamp.before.max.ms": "60000"}})...),
			step{name: "oversized-batch", req: produce("pl-small", 0, -1, batch{valueSize: 4000}), compare: producedCompare},
			step{name: "just-fits", req: produce("pl-small", 0, -1, batch{valueSize: 900}), compare: producedCompare},
			step{name: "keyless-on-compacted", req: produce("pl-compact", 0, -1, batch{keyless: true}), compare: producedCompare},
			step{name: "keyed-on-compacted", req: produce("pl-compact", 0, -1, batch{count: 2}), compare: producedCompare},
			step{name: "timestamp-in-future", req: produce("pl-ts", 0, -1, batch{ts: 4_000_000_000_000}), compare: producedCompare},
			step{name: "timestamp-in-past", req: produce("pl-ts", 0, -1, batch{ts: 1000}), compare: producedCompare},
		)},
		{name: "produce-min-isr", steps: append(newTopic(topicSpec{name: "pm-a", configs: map[string]string{"min.insync.replicas": "2"}}),
			step{name: "acks-all", req: produce("pm-a", 0, -1, batch{}), compare: producedCompare},
			step{name: "acks-1", req: produce("pm-a", 0, 1, batch{}), compare: producedCompare},
		)},
		{name: "produce-idempotent", steps: append(newTopic(topicSpec{name: "pi-a"}),
			step{name: "setup-init", setup: true, req: initProducerID("", 0), save: savePID},
			step{name: "seq-0", req: produceWith("pi-a", 0, -1, idem(2, 0, 0)), compare: producedCompare},
			step{name: "seq-2", req: produceWith("pi-a", 0, -1, idem(2, 2, 0)), compare: producedCompare},
			step{name: "duplicate", req: produceWith("pi-a", 0, -1, idem(2, 2, 0)), compare: producedCompare},
			step{name: "gap", req: produceWith("pi-a", 0, -1, idem(1, 9, 0)), compare: producedCompare},
			step{name: "newer-epoch-seq-5", req: produceWith("pi-a", 0, -1, idem(1, 5, 1)), compare: producedCompare},
			step{name: "newer-epoch-seq-0", req: produceWith("pi-a", 0, -1, idem(1, 0, 1)), compare: producedCompare},
			step{name: "older-epoch", req: produceWith("pi-a", 0, -1, idem(1, 4, 0)), compare: producedCompare},
			step{name: "unknown-producer-seq-0", req: produce("pi-a", 0, -1, batch{idem: true, pid: 987654321, epoch: 0, seq: 0}), compare: producedCompare},
			step{name: "unknown-producer-seq-7", req: produce("pi-a", 0, -1, batch{idem: true, pid: 987654322, epoch: 0, seq: 7}), compare: producedCompare},
			// Producers are listed in no defined order and their ids differ:
			// only how many there are is compared.
			step{name: "describe-producers", req: describeProducers("pi-a", 0), compare: []string{"**ErrorCode", "**ActiveProducers.len"}},
		)},
	}
}

func describeProducers(topic string, partition int32) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrDescribeProducersRequest()
		t := kmsg.NewDescribeProducersRequestTopic()
		t.Topic, t.Partitions = topic, []int32{partition}
		req.Topics = append(req.Topics, t)
		return req
	}
}
