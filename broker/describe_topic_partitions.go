package broker

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
)

// handleDescribeTopicPartitions (KIP-966) answers topics and their
// partitions in name order, at most ResponsePartitionLimit partitions
// (capped by max.request.partition.size.limit) per answer, with a cursor
// naming where the next page starts. No topic list means every topic the
// principal may describe; a listed topic it may not describe gets
// TOPIC_AUTHORIZATION_FAILED, an unknown one UNKNOWN_TOPIC_OR_PARTITION.
func (b *Broker) handleDescribeTopicPartitions(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.DescribeTopicPartitionsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeTopicPartitionsResponse)
	img := b.Image()
	limit := min(r.ResponsePartitionLimit, int32(b.cfg.Static.Int("max.request.partition.size.limit")))
	if limit < 1 {
		limit = 1
	}
	names, refused := b.describedTopicNames(req, img, r)
	for i, name := range names {
		first := int32(0)
		if r.Cursor != nil && name == r.Cursor.Topic {
			first = max(r.Cursor.Partition, 0)
		}
		rt, next := b.describedTopic(req, img, name, first, limit)
		resp.Topics = append(resp.Topics, rt)
		limit -= int32(len(rt.Partitions))
		switch {
		case next >= 0:
			resp.NextCursor = &kmsg.DescribeTopicPartitionsResponseNextCursor{Topic: name, Partition: next}
		case limit == 0 && i+1 < len(names):
			resp.NextCursor = &kmsg.DescribeTopicPartitionsResponseNextCursor{Topic: names[i+1]}
		}
		if resp.NextCursor != nil {
			break
		}
	}
	// As Kafka answers: the topics the principal may not describe last.
	for _, name := range refused {
		rt := kmsg.NewDescribeTopicPartitionsResponseTopic()
		rt.Topic, rt.ErrorCode = kmsg.StringPtr(name), kerr.TopicAuthorizationFailed.Code
		rt.AuthorizedOperations = authorizedOperationsUnset
		resp.Topics = append(resp.Topics, rt)
	}
	respond(protocol.Msg(resp))
}

// describedTopicNames are the topics of the answer, sorted, from the
// cursor's topic on, and apart the listed ones the principal may not
// describe.
func (b *Broker) describedTopicNames(req *protocol.Request, img *metadata.Image, r *kmsg.DescribeTopicPartitionsRequest) (names, refused []string) {
	if len(r.Topics) == 0 {
		img.Topics.Range(func(t *metadata.Topic) bool {
			if b.allowed(req, aclDescribe, topicRT, t.Name) {
				names = append(names, t.Name)
			}
			return true
		})
	} else {
		for _, t := range r.Topics {
			if b.allowed(req, aclDescribe, topicRT, t.Topic) {
				names = append(names, t.Topic)
			} else {
				refused = append(refused, t.Topic)
			}
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if r.Cursor != nil {
		i, _ := slices.BinarySearch(names, r.Cursor.Topic)
		names = names[i:]
	}
	return names, refused
}

// describedTopic answers one topic from partition first, at most limit
// partitions; next is the partition the next page starts at, -1 when the
// topic is done.
func (b *Broker) describedTopic(req *protocol.Request, img *metadata.Image, name string, first, limit int32) (kmsg.DescribeTopicPartitionsResponseTopic, int32) {
	rt := kmsg.NewDescribeTopicPartitionsResponseTopic()
	rt.Topic = kmsg.StringPtr(name)
	t := img.Topics.ByName(name)
	if t == nil {
		rt.ErrorCode = kerr.UnknownTopicOrPartition.Code
		rt.AuthorizedOperations = b.authorizedOps(req, true, topicRT, name, topicOperations)
		return rt, -1
	}
	rt.TopicID, rt.IsInternal = t.ID, isInternal(name)
	rt.AuthorizedOperations = b.authorizedOps(req, true, topicRT, name, topicOperations)
	mt := b.topicMetadata(t, 12)
	for _, mp := range mt.Partitions {
		if mp.Partition < first {
			continue
		}
		if int32(len(rt.Partitions)) == limit {
			return rt, mp.Partition
		}
		p := kmsg.NewDescribeTopicPartitionsResponseTopicPartition()
		p.ErrorCode, p.Partition, p.LeaderID, p.LeaderEpoch = mp.ErrorCode, mp.Partition, mp.Leader, mp.LeaderEpoch
		p.Replicas, p.ISR, p.OfflineReplicas = mp.Replicas, mp.ISR, mp.OfflineReplicas
		// Spool has no eligible leader replicas (KIP-966's ELR).
		p.EligibleLeaderReplicas, p.LastKnownELR = []int32{}, []int32{}
		rt.Partitions = append(rt.Partitions, p)
	}
	return rt, -1
}
