package broker

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/controller/metadata"
	"spool/protocol"
)

// handleDescribeShareGroupOffsets answers each share-partition's start
// offset and lag (kafka-share-groups --describe). A group's
// share-partitions are read where they live, on the partitions' leader:
// partitions this broker does not lead answer start offset -1.
func (b *Broker) handleDescribeShareGroupOffsets(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.DescribeShareGroupOffsetsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeShareGroupOffsetsResponse)
	img := b.Image()
	for _, g := range r.Groups {
		rg := kmsg.NewDescribeShareGroupOffsetsResponseGroup()
		rg.GroupID = g.GroupID
		if err, msg := b.shares.coordinates(g.GroupID); err != nil {
			rg.ErrorCode = err.Code
			if msg != "" {
				rg.ErrorMessage = &msg
			}
			resp.Groups = append(resp.Groups, rg)
			continue
		}
		topics := g.Topics
		if topics == nil {
			topics = b.shares.groupTopics(img, g.GroupID)
		}
		for _, t := range topics {
			rg.Topics = append(rg.Topics, b.describeShareTopic(img, g.GroupID, t))
		}
		resp.Groups = append(resp.Groups, rg)
	}
	respond(protocol.Msg(resp))
}

func (b *Broker) describeShareTopic(img *metadata.Image, group string, t kmsg.DescribeShareGroupOffsetsRequestGroupTopic) kmsg.DescribeShareGroupOffsetsResponseGroupTopic {
	rt := kmsg.NewDescribeShareGroupOffsetsResponseGroupTopic()
	rt.Topic = t.Topic
	mt := img.Topics.ByName(t.Topic)
	if mt != nil {
		rt.TopicID = mt.ID
	}
	for _, id := range t.Partitions {
		rp := kmsg.NewDescribeShareGroupOffsetsResponseGroupTopicPartition()
		rp.Partition, rp.StartOffset, rp.LeaderEpoch, rp.Lag = id, -1, -1, -1
		if mt == nil || mt.Partition(id) == nil {
			rp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			rt.Partitions = append(rt.Partitions, rp)
			continue
		}
		rp.LeaderEpoch = mt.Partition(id).LeaderEpoch
		if p, code := b.leaderPartition(mt, id, noLeaderEpoch); code == 0 {
			start, lag, ok, err := b.shares.peek(group, p)
			switch {
			case err != nil:
				b.shares.log.Warn("share state unreadable", zap.String("group", group), zap.Error(err))
				rp.ErrorCode = kerr.KafkaStorageError.Code
			case ok:
				rp.StartOffset, rp.Lag = start, lag
			}
		}
		rt.Partitions = append(rt.Partitions, rp)
	}
	return rt
}

// groupTopics lists every partition of the topics group's members
// subscribe to or that it has share-partitions of here.
func (m *shareManager) groupTopics(img *metadata.Image, group string) []kmsg.DescribeShareGroupOffsetsRequestGroupTopic {
	m.mu.Lock()
	var names []string
	if g := m.groups[group]; g != nil {
		names = g.Subscribed()
	}
	for k := range m.parts {
		if t := img.Topics.ByID(k.topicID); k.group == group && t != nil {
			names = append(names, t.Name)
		}
	}
	m.mu.Unlock()
	slices.Sort(names)
	var out []kmsg.DescribeShareGroupOffsetsRequestGroupTopic
	for _, name := range slices.Compact(names) {
		t := img.Topics.ByName(name)
		if t == nil {
			continue
		}
		rt := kmsg.NewDescribeShareGroupOffsetsRequestGroupTopic()
		rt.Topic = name
		for i := range t.Partitions {
			rt.Partitions = append(rt.Partitions, int32(i))
		}
		out = append(out, rt)
	}
	return out
}
