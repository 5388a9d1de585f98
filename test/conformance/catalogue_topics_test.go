package conformance

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// createdCompare are the deterministic fields of a CreateTopics answer,
// the created topic's configs included (v5+).
var createdCompare = []string{"**ErrorCode", "**NumPartitions", "**ReplicationFactor",
	"**Configs[*].Value", "**Configs[*].ReadOnly", "**Configs[*].Source", "**Configs[*].IsSensitive", "**Configs.len"}

// metadataCompare is a topic's shape in a Metadata answer.
var metadataCompare = []string{"ErrorCode", "**ErrorCode", "Topics[*].IsInternal", "Topics[*].Partitions.len",
	"Topics[*].Partitions[*].Leader", "Topics[*].Partitions[*].LeaderEpoch", "Topics[*].Partitions[*].Replicas**",
	"Topics[*].Partitions[*].ISR**", "Topics[*].Partitions[*].OfflineReplicas**", "Brokers.len", "Brokers[*].NodeID",
	"Brokers[*].Rack", "ControllerID"}

// badCreate is a CreateTopics step expected to fail validation.
func badCreate(name string, s topicSpec) step {
	return step{name: name, req: createTopics(false, s), compare: createdCompare}
}

func topicScripts() []script {
	long := strings.Repeat("x", 250)
	return []script{
		{name: "create-topic", steps: []step{
			{name: "create", req: createTopics(false, topicSpec{name: "ct-a", partitions: 3}), compare: createdCompare, save: saveTopicIDs},
			{name: "metadata", req: metadata(false, "ct-a"), compare: metadataCompare, wait: true},
			{name: "again", req: createTopics(false, topicSpec{name: "ct-a", partitions: 3}), compare: createdCompare},
			{name: "defaults", req: createTopics(false, topicSpec{name: "ct-b", partitions: -1, rf: -1}), compare: createdCompare},
			{name: "validate-only", req: createTopics(true, topicSpec{name: "ct-c", partitions: 2}), compare: createdCompare},
			{name: "validate-only-not-created", req: metadata(false, "ct-c"), compare: metadataCompare},
			{name: "two-topics", req: createTopics(false, topicSpec{name: "ct-d"}, topicSpec{name: "ct-e", partitions: 2}), compare: createdCompare},
			{name: "duplicate-in-request", req: createTopics(false, topicSpec{name: "ct-f"}, topicSpec{name: "ct-f"}), compare: createdCompare},
		}},
		{name: "create-topic-names", steps: []step{
			badCreate("empty", topicSpec{name: ""}),
			badCreate("dot", topicSpec{name: "."}),
			badCreate("dotdot", topicSpec{name: ".."}),
			badCreate("slash", topicSpec{name: "a/b"}),
			badCreate("space", topicSpec{name: "a b"}),
			badCreate("colon", topicSpec{name: "a:b"}),
			badCreate("too-long", topicSpec{name: long}),
			badCreate("max-length", topicSpec{name: long[:249]}),
			badCreate("unicode", topicSpec{name: "tópico"}),
			badCreate("dots-and-underscores", topicSpec{name: "ct.g_h-1"}),
		}},
		{name: "create-topic-counts", steps: []step{
			badCreate("zero-partitions", topicSpec{name: "cc-a", partitions: 0}),
			{name: "negative-partitions", req: func(sd *side) kmsg.Request {
				r := createTopics(false, topicSpec{name: "cc-b"})(sd).(*kmsg.CreateTopicsRequest)
				r.Topics[0].NumPartitions = -7
				return r
			}, compare: createdCompare},
			{name: "zero-rf", req: func(sd *side) kmsg.Request {
				r := createTopics(false, topicSpec{name: "cc-c"})(sd).(*kmsg.CreateTopicsRequest)
				r.Topics[0].ReplicationFactor = 0
				return r
			}, compare: createdCompare},
			badCreate("rf-above-brokers", topicSpec{name: "cc-d", rf: 3}),
			badCreate("assignment", topicSpec{name: "cc-e", partitions: -1, rf: -1, assign: map[int32][]int32{0: {1}, 1: {1}}}),
			badCreate("assignment-unknown-broker", topicSpec{name: "cc-f", partitions: -1, rf: -1, assign: map[int32][]int32{0: {7}}}),
			badCreate("assignment-and-count", topicSpec{name: "cc-g", partitions: 2, rf: -1, assign: map[int32][]int32{0: {1}}}),
			badCreate("assignment-gap", topicSpec{name: "cc-h", partitions: -1, rf: -1, assign: map[int32][]int32{0: {1}, 2: {1}}}),
			badCreate("assignment-duplicate-replica", topicSpec{name: "cc-i", partitions: -1, rf: -1, assign: map[int32][]int32{0: {1, 1}}}),
		}},
		{name: "create-topic-configs", steps: []step{
			badCreate("unknown-config", topicSpec{name: "cf-a", configs: map[string]string{"no.such.config": "1"}}),
			badCreate("segment-bytes-below-min", topicSpec{name: "cf-b", configs: map[string]string{"segment.bytes": "1000"}}),
			badCreate("segment-bytes-min", topicSpec{name: "cf-c", configs: map[string]string{"segment.bytes": "1048576"}}),
			badCreate("cleanup-policy-bogus", topicSpec{name: "cf-d", configs: map[string]string{"cleanup.policy": "bogus"}}),
			badCreate("cleanup-policy-both", topicSpec{name: "cf-e", configs: map[string]string{"cleanup.policy": "compact,delete"}}),
			badCreate("retention-not-a-number", topicSpec{name: "cf-f", configs: map[string]string{"retention.ms": "abc"}}),
			badCreate("retention-below-minus-one", topicSpec{name: "cf-g", configs: map[string]string{"retention.ms": "-2"}}),
			badCreate("min-isr-zero", topicSpec{name: "cf-h", configs: map[string]string{"min.insync.replicas": "0"}}),
			badCreate("compression-unknown", topicSpec{name: "cf-i", configs: map[string]string{"compression.type": "brotli"}}),
			badCreate("compression-zstd", topicSpec{name: "cf-j", configs: map[string]string{"compression.type": "zstd"}}),
			badCreate("timestamp-type-bogus", topicSpec{name: "cf-k", configs: map[string]string{"message.timestamp.type": "WallClock"}}),
			badCreate("max-message-bytes-negative", topicSpec{name: "cf-l", configs: map[string]string{"max.message.bytes": "-1"}}),
			badCreate("dirty-ratio-above-one", topicSpec{name: "cf-m", configs: map[string]string{"min.cleanable.dirty.ratio": "1.5"}}),
			badCreate("broker-only-key", topicSpec{name: "cf-n", configs: map[string]string{"log.retention.ms": "1000"}}),
			badCreate("null-value", topicSpec{name: "cf-o", configs: map[string]string{"retention.ms": ""}}),
			badCreate("several-valid", topicSpec{name: "cf-p", configs: map[string]string{"retention.ms": "3600000", "cleanup.policy": "compact", "max.message.bytes": "2048"}}),
			badCreate("internal-segment-bytes", topicSpec{name: "cf-r", configs: map[string]string{"internal.segment.bytes": "1000"}}),
			badCreate("bool-bogus", topicSpec{name: "cf-q", configs: map[string]string{"unclean.leader.election.enable": "maybe"}}),
		}},
		{name: "delete-topics", steps: append(newTopic(topicSpec{name: "dt-a"}),
			step{name: "delete", req: deleteTopics("dt-a")},
			step{name: "gone", req: metadata(false, "dt-a"), compare: metadataCompare, wait: false},
			step{name: "delete-again", req: deleteTopics("dt-a")},
			step{name: "unknown", req: deleteTopics("dt-never")},
			step{name: "unknown-id", req: func(*side) kmsg.Request {
				req := kmsg.NewPtrDeleteTopicsRequest()
				req.TimeoutMillis = 30000
				t := kmsg.NewDeleteTopicsRequestTopic()
				t.TopicID = [16]byte{1, 2, 3}
				req.Topics = append(req.Topics, t)
				return req
			}},
		)},
		{name: "create-partitions", steps: append(newTopic(topicSpec{name: "cp-a"}),
			step{name: "grow", req: createPartitions(false, "cp-a", 3)},
			step{name: "grown", req: metadata(false, "cp-a"), compare: metadataCompare, wait: true},
			step{name: "same-count", req: createPartitions(false, "cp-a", 3)},
			step{name: "shrink", req: createPartitions(false, "cp-a", 2)},
			step{name: "unknown-topic", req: createPartitions(false, "cp-never", 2)},
			step{name: "validate-only", req: createPartitions(true, "cp-a", 5)},
			step{name: "validate-only-unchanged", req: metadata(false, "cp-a"), compare: metadataCompare},
			step{name: "duplicate-topic", req: func(sd *side) kmsg.Request {
				r := createPartitions(false, "cp-a", 6)(sd).(*kmsg.CreatePartitionsRequest)
				r.Topics = append(r.Topics, r.Topics[0])
				return r
			}},
			step{name: "bad-assignment-length", req: func(sd *side) kmsg.Request {
				r := createPartitions(false, "cp-a", 5)(sd).(*kmsg.CreatePartitionsRequest)
				a := kmsg.NewCreatePartitionsRequestTopicAssignment()
				a.Replicas = []int32{1}
				r.Topics[0].Assignment = []kmsg.CreatePartitionsRequestTopicAssignment{a}
				return r
			}},
		)},
		{name: "metadata", steps: append(newTopic(topicSpec{name: "md-a", partitions: 2}),
			step{name: "no-topics", req: metadata(false, []string{}...), compare: []string{"ErrorCode", "Topics.len", "Brokers.len", "Brokers[*].NodeID", "ControllerID"}},
			step{name: "all-topics", req: metadata(false), compare: []string{"ErrorCode", "Topics[md-a].ErrorCode", "Topics[md-a].Partitions.len", "Brokers.len"}},
			step{name: "unknown-topic", req: metadata(false, "md-never"), compare: metadataCompare},
			step{name: "invalid-name", req: metadata(false, "md/bad"), compare: metadataCompare},
			step{name: "mixed", req: metadata(false, "md-a", "md-never2"), compare: metadataCompare},
			step{name: "unknown-topic-id", req: func(*side) kmsg.Request {
				req := kmsg.NewPtrMetadataRequest()
				t := kmsg.NewMetadataRequestTopic()
				t.TopicID = [16]byte{9, 9, 9}
				req.Topics = append(req.Topics, t)
				return req
			}, compare: metadataCompare},
			step{name: "auto-create", req: metadata(true, "md-auto"), compare: []string{"ErrorCode"}},
			step{name: "auto-created", req: metadata(false, "md-auto"), compare: metadataCompare, wait: true},
		)},
	}
}

func deleteTopics(names ...string) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrDeleteTopicsRequest()
		req.TimeoutMillis = 30000
		for _, n := range names {
			t := kmsg.NewDeleteTopicsRequestTopic()
			t.Topic = kmsg.StringPtr(n)
			req.Topics = append(req.Topics, t)
			req.TopicNames = append(req.TopicNames, n)
		}
		return req
	}
}

func createPartitions(validateOnly bool, topic string, count int32) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrCreatePartitionsRequest()
		req.TimeoutMillis, req.ValidateOnly = 30000, validateOnly
		t := kmsg.NewCreatePartitionsRequestTopic()
		t.Topic, t.Count = topic, count
		req.Topics = append(req.Topics, t)
		return req
	}
}
