package conformance

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// A batch describes one v2 record batch to produce.
type batch struct {
	count     int   // records (default 1)
	valueSize int   // bytes per value (default a short text)
	pid       int64 // producer id (-1 for none, the default when idem is false)
	epoch     int16
	seq       int32
	idem      bool // use pid/epoch/seq
	txn       bool
	keyless   bool
	badCRC    bool
	magic     int8 // default 2
	ts        int64
	// numRecords overrides the record count the header claims.
	numRecords int32
	// badRecordLength writes each record's length as 0.
	badRecordLength bool
}

// baseTS is the timestamp of every produced record unless a batch says
// otherwise: fixed, so both servers store the same bytes.
const baseTS = int64(1_700_000_000_000)

func (b batch) bytes() []byte {
	if b.count == 0 {
		b.count = 1
	}
	if b.magic == 0 {
		b.magic = 2
	}
	if b.ts == 0 {
		b.ts = baseTS
	}
	if !b.idem && !b.txn {
		b.pid, b.epoch, b.seq = -1, -1, -1
	}
	var recs []byte
	for i := 0; i < b.count; i++ {
		r := kmsg.Record{OffsetDelta: int32(i), TimestampDelta64: int64(i)}
		if !b.keyless {
			r.Key = []byte(fmt.Sprintf("k%d", i))
		}
		if b.valueSize > 0 {
			r.Value = []byte(strings.Repeat("v", b.valueSize))
		} else {
			r.Value = []byte(fmt.Sprintf("value-%d", i))
		}
		// Length is what follows the length varint itself.
		body := r.AppendTo(nil)
		r.Length = int32(len(body) - 1)
		if b.badRecordLength {
			r.Length = 0
		}
		recs = r.AppendTo(recs)
	}
	attrs := int16(0)
	if b.txn {
		attrs |= 0x10
	}
	n := int32(b.count)
	if b.numRecords != 0 {
		n = b.numRecords
	}
	rb := kmsg.RecordBatch{
		FirstOffset: 0, PartitionLeaderEpoch: -1, Magic: b.magic, Attributes: attrs,
		LastOffsetDelta: int32(b.count - 1), FirstTimestamp: b.ts, MaxTimestamp: b.ts + int64(b.count-1),
		ProducerID: b.pid, ProducerEpoch: b.epoch, FirstSequence: b.seq, NumRecords: n, Records: recs,
	}
	out := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-12))
	crc := crc32.Checksum(out[21:], crc32.MakeTable(crc32.Castagnoli))
	if b.badCRC {
		crc++
	}
	binary.BigEndian.PutUint32(out[17:], crc)
	return out
}

// topicSpec is one topic of a CreateTopics request.
type topicSpec struct {
	name       string
	partitions int32 // 0 means 1; use -1 for the broker default
	rf         int16 // 0 means 1
	configs    map[string]string
	assign     map[int32][]int32
}

func createTopics(validateOnly bool, specs ...topicSpec) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrCreateTopicsRequest()
		req.TimeoutMillis = 30000
		req.ValidateOnly = validateOnly
		for _, s := range specs {
			t := kmsg.NewCreateTopicsRequestTopic()
			t.Topic, t.NumPartitions, t.ReplicationFactor = s.name, s.partitions, s.rf
			if t.NumPartitions == 0 {
				t.NumPartitions = 1
			}
			if t.ReplicationFactor == 0 {
				t.ReplicationFactor = 1
			}
			for p, replicas := range s.assign {
				a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
				a.Partition, a.Replicas = p, replicas
				t.ReplicaAssignment = append(t.ReplicaAssignment, a)
			}
			for k, val := range s.configs {
				c := kmsg.NewCreateTopicsRequestTopicConfig()
				c.Name, c.Value = k, kmsg.StringPtr(val)
				t.Configs = append(t.Configs, c)
			}
			req.Topics = append(req.Topics, t)
		}
		return req
	}
}

// saveTopicIDs keeps each created topic's id as "id:<topic>".
func saveTopicIDs(sd *side, r kmsg.Response) {
	for _, t := range r.(*kmsg.CreateTopicsResponse).Topics {
		sd.vars["id:"+t.Topic] = t.TopicID
	}
}

// newTopic is the setup of a script: create the topic and wait until its
// leaders serve (Metadata without errors).
func newTopic(s topicSpec) []step {
	steps := []step{
		{name: "setup-create-" + s.name, setup: true, req: createTopics(false, s), save: saveTopicIDs},
		{name: "setup-wait-" + s.name, setup: true, req: metadata(false, s.name)},
	}
	// Kafka's Metadata may name a leader before the broker has made the
	// partition its own (NOT_LEADER_OR_FOLLOWER meanwhile): wait until
	// each partition answers ListOffsets too.
	for p := int32(0); p < max(s.partitions, 1); p++ {
		steps = append(steps, step{name: fmt.Sprintf("setup-lead-%s-%d", s.name, p), setup: true, req: listOffsets(s.name, p, -1, -1, 0)})
	}
	return steps
}

func metadata(auto bool, topics ...string) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrMetadataRequest()
		req.AllowAutoTopicCreation = auto
		if topics == nil {
			req.Topics = nil
			return req
		}
		req.Topics = []kmsg.MetadataRequestTopic{}
		for _, t := range topics {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(t)
			req.Topics = append(req.Topics, rt)
		}
		return req
	}
}

// produce sends one batch to one partition.
func produce(topic string, partition int32, acks int16, b batch) func(*side) kmsg.Request {
	return produceWith(topic, partition, acks, func(*side) batch { return b })
}

// produceWith builds the batch from what earlier steps saved (producer
// ids and epochs).
func produceWith(topic string, partition int32, acks int16, mk func(*side) batch) func(*side) kmsg.Request {
	return func(sd *side) kmsg.Request {
		req := kmsg.NewPtrProduceRequest()
		req.Acks, req.TimeoutMillis = acks, 10000
		b := mk(sd)
		if b.txn {
			req.TransactionID = kmsg.StringPtr(sd.str("txnid"))
		}
		t := kmsg.NewProduceRequestTopic()
		t.Topic, t.TopicID = topic, sd.topicID(topic)
		p := kmsg.NewProduceRequestTopicPartition()
		p.Partition, p.Records = partition, b.bytes()
		t.Partitions = append(t.Partitions, p)
		req.Topics = append(req.Topics, t)
		return req
	}
}

// records produces n plain records as setup.
func records(topic string, partition int32, n int) step {
	return step{name: fmt.Sprintf("setup-produce-%s-%d", topic, partition), setup: true, req: produce(topic, partition, -1, batch{count: n})}
}

func listOffsets(topic string, partition int32, ts int64, epoch int32, isolation int8) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrListOffsetsRequest()
		req.ReplicaID, req.IsolationLevel = -1, isolation
		t := kmsg.NewListOffsetsRequestTopic()
		t.Topic = topic
		p := kmsg.NewListOffsetsRequestTopicPartition()
		p.Partition, p.Timestamp, p.CurrentLeaderEpoch = partition, ts, epoch
		t.Partitions = append(t.Partitions, p)
		req.Topics = append(req.Topics, t)
		return req
	}
}

// fetchReq fetches one partition by topic id (v13+) from offset.
func fetchReq(topic string, partition int32, offset int64, epoch int32, isolation int8) func(*side) kmsg.Request {
	return func(sd *side) kmsg.Request {
		req := kmsg.NewPtrFetchRequest()
		req.ReplicaID, req.MaxWaitMillis, req.MinBytes, req.MaxBytes = -1, 0, 0, 1<<20
		req.IsolationLevel, req.SessionEpoch = isolation, -1
		t := kmsg.NewFetchRequestTopic()
		t.Topic, t.TopicID = topic, sd.topicID(topic)
		p := kmsg.NewFetchRequestTopicPartition()
		p.Partition, p.FetchOffset, p.CurrentLeaderEpoch, p.PartitionMaxBytes = partition, offset, epoch, 1<<20
		p.LastFetchedEpoch, p.LogStartOffset = -1, -1
		t.Partitions = append(t.Partitions, p)
		req.Topics = append(req.Topics, t)
		return req
	}
}

// fetchCompare are the deterministic fields of a fetch answer.
var fetchCompare = []string{"ErrorCode", "**ErrorCode", "**HighWatermark", "**LastStableOffset", "**LogStartOffset", "**Records", "**AbortedTransactions**", "**PreferredReadReplica"}
