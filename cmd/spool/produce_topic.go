package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ensureTopic checks, before anything is sent, that topic exists and has
// the partition asked for; a missing topic is created where the cluster
// allows that. Without this kgo retries an unknown topic until --timeout
// and fails every record with a bare UNKNOWN_TOPIC_OR_PARTITION.
func ensureTopic(s *session, topic string, partition int32) error {
	n, err := partitionCount(s, topic, false)
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		if n, err = partitionCount(s, topic, true); err == nil {
			fmt.Fprintf(s.errw, "spool: topic %s did not exist; the cluster created it with %s (auto.create.topics.enable)\n", topic, plural(n, "partition", "partitions"))
		} else if errors.Is(err, kerr.UnknownTopicOrPartition) {
			return fmt.Errorf("topic %s does not exist, and the cluster does not create topics on first use (auto.create.topics.enable=false); create it with `spool topic create %s`", topic, topic)
		}
	}
	if err != nil {
		return fmt.Errorf("topic %s: %w", topic, kafkaError(err, ""))
	}
	if partition >= int32(n) {
		return fmt.Errorf("topic %s has no partition %d: it has %s (0-%d)", topic, partition, plural(n, "partition", "partitions"), n-1)
	}
	return nil
}

// partitionCount asks for topic's metadata, letting the broker create it
// when create is set, and waits out the moment after a creation when the
// new partitions have no leader yet.
func partitionCount(s *session, topic string, create bool) (int, error) {
	for {
		req := kmsg.NewPtrMetadataRequest()
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = &topic
		req.Topics = append(req.Topics, rt)
		req.AllowAutoTopicCreation = create
		resp, err := req.RequestWith(s.ctx, s.cl)
		if err != nil {
			return 0, err
		}
		if len(resp.Topics) != 1 {
			return 0, fmt.Errorf("metadata: the broker answered %d topics for 1", len(resp.Topics))
		}
		t := resp.Topics[0]
		err = kerr.ErrorForCode(t.ErrorCode)
		if err == nil && len(t.Partitions) > 0 && (!create || leadersKnown(t.Partitions)) {
			return len(t.Partitions), nil
		}
		if err != nil && !errors.Is(err, kerr.LeaderNotAvailable) {
			return 0, err
		}
		select {
		case <-s.ctx.Done():
			return 0, s.ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func leadersKnown(ps []kmsg.MetadataResponseTopicPartition) bool {
	for _, p := range ps {
		if p.Leader < 0 {
			return false
		}
	}
	return true
}
