package conformance

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// listedCompare are a ListOffsets answer's deterministic fields.
var listedCompare = []string{"**ErrorCode", "**Offset", "**Timestamp", "**LeaderEpoch"}

func deleteRecords(topic string, partition int32, offset int64) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrDeleteRecordsRequest()
		req.TimeoutMillis = 30000
		t := kmsg.NewDeleteRecordsRequestTopic()
		t.Topic = topic
		p := kmsg.NewDeleteRecordsRequestTopicPartition()
		p.Partition, p.Offset = partition, offset
		t.Partitions = append(t.Partitions, p)
		req.Topics = append(req.Topics, t)
		return req
	}
}

func offsetForLeaderEpoch(topic string, partition int32, current, epoch int32) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrOffsetForLeaderEpochRequest()
		req.ReplicaID = -1
		t := kmsg.NewOffsetForLeaderEpochRequestTopic()
		t.Topic = topic
		p := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		p.Partition, p.CurrentLeaderEpoch, p.LeaderEpoch = partition, current, epoch
		t.Partitions = append(t.Partitions, p)
		req.Topics = append(req.Topics, t)
		return req
	}
}

// twoBatches makes a topic of two partitions whose partition 0 holds a
// batch of 4 records and one of 3, a second apart.
func twoBatches(topic string) []step {
	return append(newTopic(topicSpec{name: topic, partitions: 2}),
		step{name: "setup-p0-a", setup: true, req: produce(topic, 0, -1, batch{count: 4, ts: baseTS})},
		step{name: "setup-p0-b", setup: true, req: produce(topic, 0, -1, batch{count: 3, ts: baseTS + 1000})},
	)
}

func readScripts() []script {
	return []script{
		{name: "list-offsets", steps: append(twoBatches("rd-a"),
			step{name: "earliest", req: listOffsets("rd-a", 0, -2, -1, 0), compare: listedCompare},
			step{name: "latest", req: listOffsets("rd-a", 0, -1, -1, 0), compare: listedCompare},
			step{name: "max-timestamp", req: listOffsets("rd-a", 0, -3, -1, 0), compare: listedCompare},
			step{name: "earliest-local", req: listOffsets("rd-a", 0, -4, -1, 0), compare: listedCompare},
			step{name: "latest-tiered", req: listOffsets("rd-a", 0, -5, -1, 0), compare: listedCompare},
			step{name: "pending-upload", req: listOffsets("rd-a", 0, -6, -1, 0), compare: listedCompare},
			step{name: "pending-upload-v10", req: listOffsets("rd-a", 0, -6, -1, 0), version: v(10), compare: listedCompare},
			step{name: "by-timestamp", req: listOffsets("rd-a", 0, baseTS+1000, -1, 0), compare: listedCompare},
			step{name: "by-timestamp-mid-batch", req: listOffsets("rd-a", 0, baseTS+2, -1, 0), compare: listedCompare},
			step{name: "timestamp-after-all", req: listOffsets("rd-a", 0, baseTS+99999, -1, 0), compare: listedCompare},
			step{name: "empty-partition", req: listOffsets("rd-a", 1, -1, -1, 0), compare: listedCompare},
			step{name: "read-committed", req: listOffsets("rd-a", 0, -1, -1, 1), compare: listedCompare},
			step{name: "current-epoch", req: listOffsets("rd-a", 0, -1, 0, 0), compare: listedCompare},
			step{name: "future-epoch", req: listOffsets("rd-a", 0, -1, 5, 0), compare: listedCompare},
			step{name: "unknown-partition", req: listOffsets("rd-a", 9, -1, -1, 0), compare: listedCompare},
			step{name: "unknown-topic", req: listOffsets("rd-never", 0, -1, -1, 0), compare: listedCompare},
			step{name: "invalid-timestamp", req: listOffsets("rd-a", 0, -7, -1, 0), compare: listedCompare},
		)},
		{name: "fetch", steps: append(twoBatches("rd-b"),
			step{name: "from-start", req: fetchReq("rd-b", 0, 0, -1, 0), compare: fetchCompare},
			step{name: "mid-batch", req: fetchReq("rd-b", 0, 5, -1, 0), compare: fetchCompare},
			step{name: "at-end", req: fetchReq("rd-b", 0, 7, -1, 0), compare: fetchCompare},
			step{name: "past-end", req: fetchReq("rd-b", 0, 100, -1, 0), compare: fetchCompare},
			step{name: "negative-offset", req: fetchReq("rd-b", 0, -5, -1, 0), compare: fetchCompare},
			step{name: "current-epoch", req: fetchReq("rd-b", 0, 0, 0, 0), compare: fetchCompare},
			step{name: "future-epoch", req: fetchReq("rd-b", 0, 0, 3, 0), compare: fetchCompare},
			step{name: "read-committed", req: fetchReq("rd-b", 0, 0, -1, 1), compare: fetchCompare},
			step{name: "unknown-partition", req: fetchReq("rd-b", 5, 0, -1, 0), compare: fetchCompare},
			step{name: "unknown-topic-id", req: fetchReq("rd-never", 0, 0, -1, 0), compare: fetchCompare},
			step{name: "unknown-session", req: func(sd *side) kmsg.Request {
				r := fetchReq("rd-b", 0, 0, -1, 0)(sd).(*kmsg.FetchRequest)
				r.SessionID, r.SessionEpoch = 123456, 1
				return r
			}, compare: fetchCompare},
			step{name: "new-session", req: func(sd *side) kmsg.Request {
				r := fetchReq("rd-b", 0, 0, -1, 0)(sd).(*kmsg.FetchRequest)
				r.SessionID, r.SessionEpoch = 0, 0
				return r
			}, compare: fetchCompare, check: func(r kmsg.Response) error { return nonZeroSession(r) }},
		)},
		{name: "delete-records", steps: append(newTopic(topicSpec{name: "dr-a"}),
			records("dr-a", 0, 5),
			step{name: "to-2", req: deleteRecords("dr-a", 0, 2), compare: []string{"**ErrorCode", "**LowWatermark"}},
			step{name: "earliest-after", req: listOffsets("dr-a", 0, -2, -1, 0), compare: listedCompare},
			step{name: "fetch-deleted", req: fetchReq("dr-a", 0, 0, -1, 0), compare: fetchCompare},
			step{name: "backwards", req: deleteRecords("dr-a", 0, 1), compare: []string{"**ErrorCode", "**LowWatermark"}},
			step{name: "past-high-watermark", req: deleteRecords("dr-a", 0, 50), compare: []string{"**ErrorCode", "**LowWatermark"}},
			step{name: "to-high-watermark", req: deleteRecords("dr-a", 0, -1), compare: []string{"**ErrorCode", "**LowWatermark"}},
			step{name: "unknown-partition", req: deleteRecords("dr-a", 3, 1), compare: []string{"**ErrorCode", "**LowWatermark"}},
			step{name: "unknown-topic", req: deleteRecords("dr-never", 0, 1), compare: []string{"**ErrorCode", "**LowWatermark"}},
		)},
		{name: "offset-for-leader-epoch", steps: append(newTopic(topicSpec{name: "oe-a"}),
			records("oe-a", 0, 3),
			step{name: "epoch-0", req: offsetForLeaderEpoch("oe-a", 0, -1, 0), compare: []string{"**ErrorCode", "**EndOffset", "**LeaderEpoch"}},
			step{name: "future-epoch", req: offsetForLeaderEpoch("oe-a", 0, -1, 7), compare: []string{"**ErrorCode", "**EndOffset", "**LeaderEpoch"}},
			step{name: "fenced-current", req: offsetForLeaderEpoch("oe-a", 0, 4, 0), compare: []string{"**ErrorCode", "**EndOffset", "**LeaderEpoch"}},
			step{name: "unknown-partition", req: offsetForLeaderEpoch("oe-a", 2, -1, 0), compare: []string{"**ErrorCode", "**EndOffset", "**LeaderEpoch"}},
			step{name: "unknown-topic", req: offsetForLeaderEpoch("oe-never", 0, -1, 0), compare: []string{"**ErrorCode", "**EndOffset", "**LeaderEpoch"}},
		)},
	}
}

func nonZeroSession(r kmsg.Response) error {
	if r.(*kmsg.FetchResponse).SessionID == 0 {
		return errNoSession
	}
	return nil
}

var errNoSession = errorString("a fetch asking for a new session got session id 0")

type errorString string

func (e errorString) Error() string { return string(e) }
