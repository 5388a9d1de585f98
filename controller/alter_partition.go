package controller

import (
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
)

// AlterPartition applies ISR changes a partition leader asks for. Each
// partition is checked on its own against the current (speculative) image:
// the leader must be the requester at the current leader and partition
// epochs, and every new ISR member must be a live replica.
func (c *Controller) AlterPartition(ctx context.Context, req *kmsg.AlterPartitionRequest, conn session) *kmsg.AlterPartitionResponse {
	resp := req.ResponseKind().(*kmsg.AlterPartitionResponse)
	err := c.write(ctx, func(img *metadata.Image) ([]metadata.Record, error) {
		resp.Topics = resp.Topics[:0]
		b := img.Brokers[req.BrokerID]
		if b == nil || b.Epoch != req.BrokerEpoch || !c.brokers.owns(b.ID, conn) {
			return nil, kerr.StaleBrokerEpoch
		}
		var recs []metadata.Record
		for _, t := range req.Topics {
			rt := kmsg.NewAlterPartitionResponseTopic()
			rt.Topic, rt.TopidID = t.Topic, t.TopicID // kmsg spells it TopidID
			topic := img.Topics.ByID(t.TopicID)
			if req.Version < 2 {
				topic = img.Topics.ByName(t.Topic)
			}
			for _, p := range t.Partitions {
				rp, rec := alterOne(img, topic, req, &p)
				if rec != nil {
					recs = append(recs, rec)
				}
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return recs, nil
	})
	resp.ErrorCode = errorCode(err)
	return resp
}

func alterOne(img *metadata.Image, topic *metadata.Topic, req *kmsg.AlterPartitionRequest, p *kmsg.AlterPartitionRequestTopicPartition) (kmsg.AlterPartitionResponseTopicPartition, metadata.Record) {
	rp := kmsg.NewAlterPartitionResponseTopicPartition()
	rp.Partition = p.Partition
	fail := func(e *kerr.Error) (kmsg.AlterPartitionResponseTopicPartition, metadata.Record) {
		rp.ErrorCode = e.Code
		return rp, nil
	}
	if topic == nil {
		if req.Version >= 2 {
			return fail(kerr.UnknownTopicID)
		}
		return fail(kerr.UnknownTopicOrPartition)
	}
	part := topic.Partition(p.Partition)
	if part == nil {
		return fail(kerr.UnknownTopicOrPartition)
	}
	switch {
	case p.LeaderEpoch < part.LeaderEpoch:
		return fail(kerr.FencedLeaderEpoch)
	case part.Leader != req.BrokerID || p.LeaderEpoch > part.LeaderEpoch:
		return fail(kerr.InvalidRequest)
	case p.PartitionEpoch != part.PartitionEpoch:
		return fail(kerr.InvalidUpdateVersion)
	}
	isr := p.NewISR
	if req.Version >= 3 {
		isr = isr[:0:0]
		for _, e := range p.NewEpochISR {
			isr = append(isr, e.BrokerID)
		}
	}
	if !slices.Contains(isr, part.Leader) {
		return fail(kerr.InvalidRequest)
	}
	for _, r := range isr {
		if !slices.Contains(part.Replicas, r) {
			return fail(kerr.InvalidRequest)
		}
		if b := img.Brokers[r]; r != part.Leader && (b == nil || b.Fenced || b.InControlledShutdown) {
			return fail(kerr.IneligibleReplica)
		}
	}
	pc := metadata.NewPartitionChangeRecord(topic.ID, part.ID)
	pc.ISR = slices.Clone(isr)
	reassignCompletion(img, topic, part, pc)
	rp.LeaderID, rp.LeaderEpoch, rp.ISR = part.Leader, part.LeaderEpoch, pc.ISR
	if pc.Leader != metadata.NoLeaderChange {
		rp.LeaderID, rp.LeaderEpoch = pc.Leader, part.LeaderEpoch+1
	}
	rp.PartitionEpoch = part.PartitionEpoch + 1
	rp.LeaderRecoveryState = part.LeaderRecoveryState
	return rp, pc
}

func (c *Controller) serveAlterPartition(ctx context.Context, req *protocol.Request) protocol.Response {
	return protocol.Msg(c.AlterPartition(ctx, req.Msg.(*kmsg.AlterPartitionRequest), sessionOf(req)))
}
