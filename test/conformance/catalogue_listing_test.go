package conformance

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func describeTopicPartitions(limit int32, cursor *kmsg.DescribeTopicPartitionsRequestCursor, topics ...string) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrDescribeTopicPartitionsRequest()
		req.ResponsePartitionLimit, req.Cursor = limit, cursor
		for _, t := range topics {
			rt := kmsg.NewDescribeTopicPartitionsRequestTopic()
			rt.Topic = t
			req.Topics = append(req.Topics, rt)
		}
		return req
	}
}

// describedPartitionsCompare are a DescribeTopicPartitions answer's
// deterministic fields (ids differ between servers).
var describedPartitionsCompare = []string{"**ErrorCode", "Topics.len", "Topics[*].IsInternal", "Topics[*].Partitions.len",
	"Topics[*].Partitions[*].LeaderID", "Topics[*].Partitions[*].LeaderEpoch", "Topics[*].Partitions[*].Replicas**",
	"Topics[*].Partitions[*].ISR**", "Topics[*].Partitions[*].EligibleLeaderReplicas**", "NextCursor**"}

func listConfigResources(types ...int8) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrListConfigResourcesRequest()
		req.ResourceTypes = types
		return req
	}
}

// listsTopic holds a ListConfigResources answer that names topic.
func listsTopic(topic string) func(kmsg.Response) error {
	return func(r kmsg.Response) error {
		for _, c := range r.(*kmsg.ListConfigResourcesResponse).ConfigResources {
			if c.Type == 2 && c.Name == topic {
				return nil
			}
		}
		return fmt.Errorf("topic %s not listed", topic)
	}
}

var listedConfigsCompare = []string{"ErrorCode", "ConfigResources.len", "ConfigResources[*].Type"}

func listingScripts() []script {
	cursor := func(topic string, p int32) *kmsg.DescribeTopicPartitionsRequestCursor {
		return &kmsg.DescribeTopicPartitionsRequestCursor{Topic: topic, Partition: p}
	}
	return []script{
		{name: "describe-topic-partitions", steps: append(append(newTopic(topicSpec{name: "dtp-a", partitions: 3}), newTopic(topicSpec{name: "dtp-b", partitions: 2})...),
			step{name: "topics", req: describeTopicPartitions(2000, nil, "dtp-b", "dtp-a"), compare: describedPartitionsCompare},
			step{name: "unknown-topic", req: describeTopicPartitions(2000, nil, "dtp-a", "dtp-never"), compare: describedPartitionsCompare},
			step{name: "internal-topic", req: describeTopicPartitions(1, nil, "__consumer_offsets"), compare: []string{"**ErrorCode", "Topics[*].IsInternal", "Topics[*].Partitions.len", "NextCursor**"}, wait: true},
			step{name: "page-1", req: describeTopicPartitions(2, nil, "dtp-a", "dtp-b"), compare: describedPartitionsCompare},
			step{name: "page-2", req: describeTopicPartitions(2, cursor("dtp-a", 2), "dtp-a", "dtp-b"), compare: describedPartitionsCompare},
			step{name: "page-3", req: describeTopicPartitions(2, cursor("dtp-b", 1), "dtp-a", "dtp-b"), compare: describedPartitionsCompare},
			step{name: "page-at-topic-end", req: describeTopicPartitions(3, nil, "dtp-a", "dtp-b"), compare: describedPartitionsCompare},
			step{name: "limit-zero", req: describeTopicPartitions(0, nil, "dtp-a"), compare: describedPartitionsCompare},
			step{name: "list-topics", req: listConfigResources(2), compare: []string{"ErrorCode"}, check: listsTopic("dtp-a")},
			step{name: "list-all-types", req: listConfigResources(), compare: []string{"ErrorCode"}, check: listsTopic("dtp-b")},
		)},
		{name: "list-config-resources", steps: []step{
			{name: "setup-group-config", setup: true, req: incrementalAlter(groupResource, "lcr-g", false, set("consumer.session.timeout.ms", "50000"))},
			{name: "groups", settle: true, req: listConfigResources(32), compare: listedConfigsCompare, check: func(r kmsg.Response) error {
				for _, c := range r.(*kmsg.ListConfigResourcesResponse).ConfigResources {
					if c.Name == "lcr-g" {
						return nil
					}
				}
				return fmt.Errorf("group lcr-g not listed")
			}},
			{name: "brokers", req: listConfigResources(4), compare: append(listedConfigsCompare, "ConfigResources[*].Name")},
			{name: "broker-loggers", req: listConfigResources(8), compare: listedConfigsCompare},
			{name: "client-metrics", req: listConfigResources(16), compare: listedConfigsCompare},
			{name: "unknown-type", req: listConfigResources(7), compare: listedConfigsCompare},
			{name: "v0-client-metrics", req: listConfigResources(), version: v(0), compare: listedConfigsCompare},
		}},
	}
}
