package controller

import (
	"context"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/controller/metadata"
	"spool/protocol"
)

// Kafka's election types.
const (
	electPreferred int8 = 0
	electUnclean   int8 = 1
)

// ElectLeaders runs preferred or unclean leader elections.
func (c *Controller) ElectLeaders(ctx context.Context, req *kmsg.ElectLeadersRequest) *kmsg.ElectLeadersResponse {
	resp := req.ResponseKind().(*kmsg.ElectLeadersResponse)
	err := c.write(ctx, func(img *metadata.Image) ([]metadata.Record, error) {
		resp.Topics = resp.Topics[:0]
		targets := req.Topics
		if targets == nil { // every partition
			img.Topics.Range(func(t *metadata.Topic) bool {
				rt := kmsg.NewElectLeadersRequestTopic()
				rt.Topic = t.Name
				for _, p := range t.Partitions {
					rt.Partitions = append(rt.Partitions, p.ID)
				}
				targets = append(targets, rt)
				return true
			})
		}
		var recs []metadata.Record
		for _, t := range targets {
			rt := kmsg.NewElectLeadersResponseTopic()
			rt.Topic = t.Topic
			topic := img.Topics.ByName(t.Topic)
			for _, id := range t.Partitions {
				rp := kmsg.NewElectLeadersResponseTopicPartition()
				rp.Partition = id
				var part *metadata.Partition
				if topic != nil {
					part = topic.Partition(id)
				}
				if part == nil {
					rp.ErrorCode = kerr.UnknownTopicOrPartition.Code
				} else if rec, e := elect(img, topic, part, req.ElectionType); e != nil {
					rp.ErrorCode = e.Code
				} else {
					recs = append(recs, rec)
					if pc := rec.(*metadata.PartitionChangeRecord); pc.ISR != nil {
						uncleanElection{topic.Name, id, pc.Leader, slices.Clone(part.ISR)}.warn(c.log, "ElectLeaders")
						c.uncleanElections.Add(1)
					}
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

// elect returns the change electing a new leader, or why there is none.
func elect(img *metadata.Image, t *metadata.Topic, p *metadata.Partition, typ int8) (metadata.Record, *kerr.Error) {
	usable := func(r int32) bool {
		b := img.Brokers[r]
		return b != nil && !b.Fenced && !b.InControlledShutdown
	}
	pc := metadata.NewPartitionChangeRecord(t.ID, p.ID)
	switch typ {
	case electPreferred:
		preferred := p.Replicas[0]
		if p.Leader == preferred {
			return nil, kerr.ElectionNotNeeded
		}
		if !usable(preferred) || !contains(p.ISR, preferred) {
			return nil, kerr.PreferredLeaderNotAvailable
		}
		pc.Leader = preferred
	case electUnclean:
		if p.Leader >= 0 {
			return nil, kerr.ElectionNotNeeded
		}
		// An in-sync replica that is back makes the election clean.
		for _, r := range p.ISR {
			if usable(r) {
				pc.Leader = r
				return pc, nil
			}
		}
		for _, r := range p.Replicas {
			if usable(r) {
				pc.Leader, pc.ISR = r, []int32{r}
				return pc, nil
			}
		}
		return nil, kerr.EligibleLeadersNotAvailable
	default:
		return nil, kerr.InvalidRequest
	}
	return pc, nil
}

func contains(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (c *Controller) serveElectLeaders(ctx context.Context, req *protocol.Request) protocol.Response {
	return protocol.Msg(c.ElectLeaders(ctx, req.Msg.(*kmsg.ElectLeadersRequest)))
}

// rebalanceLeaders moves leadership back to preferred replicas that are in
// sync and live (auto.leader.rebalance.enable); loop only.
func (c *Controller) rebalanceLeaders() {
	var recs []metadata.Record
	c.spec.Topics.Range(func(t *metadata.Topic) bool {
		for _, p := range t.Partitions {
			if rec, e := elect(c.spec, t, p, electPreferred); e == nil {
				recs = append(recs, rec)
			}
		}
		return true
	})
	if len(recs) > 0 {
		c.log.Info("moving leadership back to preferred replicas", zap.Int("partitions", len(recs)))
		c.propose(recs, func(error) {})
	}
}

// leaderRebalanceDue reports whether the periodic preferred-leader check
// should run now.
func (c *Controller) leaderRebalanceDue(now time.Time) bool {
	if c.cfg.LeaderRebalanceInterval <= 0 || now.Before(c.nextRebalance) {
		return false
	}
	c.nextRebalance = now.Add(c.cfg.LeaderRebalanceInterval)
	return true
}
