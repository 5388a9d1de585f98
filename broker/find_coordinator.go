package broker

import (
	"context"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/broker/group"
	"spool/controller/metadata"
	"spool/protocol"
)

// Coordinator key types of FindCoordinator.
const (
	coordinatorGroup       = 0
	coordinatorTransaction = 1
)

// handleFindCoordinator names the leader of a group's __consumer_offsets
// partition, creating the topic on first use (clients retry
// COORDINATOR_NOT_AVAILABLE meanwhile).
func (b *Broker) handleFindCoordinator(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.FindCoordinatorRequest)
	resp := r.ResponseKind().(*kmsg.FindCoordinatorResponse)
	img := b.Image()
	if r.Version < 4 {
		c := b.findCoordinator(img, r.CoordinatorType, r.CoordinatorKey, req.Listener)
		resp.ErrorCode, resp.ErrorMessage = c.ErrorCode, c.ErrorMessage
		resp.NodeID, resp.Host, resp.Port = c.NodeID, c.Host, c.Port
	} else {
		for _, key := range r.CoordinatorKeys {
			resp.Coordinators = append(resp.Coordinators, b.findCoordinator(img, r.CoordinatorType, key, req.Listener))
		}
	}
	respond(protocol.Msg(resp))
}

func (b *Broker) findCoordinator(img *metadata.Image, keyType int8, key, listener string) kmsg.FindCoordinatorResponseCoordinator {
	c := kmsg.NewFindCoordinatorResponseCoordinator()
	c.Key, c.NodeID, c.Port = key, -1, -1
	fail := func(err *kerr.Error, msg string) kmsg.FindCoordinatorResponseCoordinator {
		c.ErrorCode, c.ErrorMessage = err.Code, &msg
		return c
	}
	switch keyType {
	case coordinatorGroup:
	case coordinatorTransaction:
		// Transactions are not served yet: clients see the answer Kafka
		// gives while it cannot reach __transaction_state.
		return fail(kerr.CoordinatorNotAvailable, "transactions are not supported by this broker yet")
	default:
		return fail(kerr.InvalidRequest, "unknown coordinator type "+strconv.Itoa(int(keyType)))
	}
	t := img.Topics.ByName(offsetsTopic)
	if t == nil {
		b.createOffsetsTopic(img)
		return fail(kerr.CoordinatorNotAvailable, "creating "+offsetsTopic)
	}
	p := t.Partition(group.Partition(key, len(t.Partitions)))
	if p == nil || p.Leader < 0 || !b.leaderReady(offsetsTopic, p) {
		return fail(kerr.CoordinatorNotAvailable, "the group's partition has no leader")
	}
	br := img.Brokers[p.Leader]
	if br == nil || br.Fenced {
		return fail(kerr.CoordinatorNotAvailable, "the group's coordinator is not available")
	}
	ep, ok := br.Endpoint(listener)
	if !ok {
		return fail(kerr.CoordinatorNotAvailable, "the coordinator has no endpoint on listener "+listener)
	}
	c.NodeID, c.Host, c.Port = br.ID, ep.Host, int32(ep.Port)
	return c
}

// createOffsetsTopic asks the controller for __consumer_offsets, once at
// a time, in the background.
func (b *Broker) createOffsetsTopic(img *metadata.Image) {
	if !b.groups.creating.CompareAndSwap(false, true) {
		return
	}
	s := b.cfg.Static
	rf := min(int(s.Int("offsets.topic.replication.factor")), max(len(img.Brokers), 1))
	req := kmsg.NewPtrCreateTopicsRequest()
	req.SetVersion(7)
	req.TimeoutMillis = int32(requestTimeout / time.Millisecond)
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = offsetsTopic, int32(s.Int("offsets.topic.num.partitions")), int16(rf)
	for k, v := range map[string]string{
		"cleanup.policy": "compact",
		"segment.bytes":  strconv.FormatInt(s.Int("offsets.topic.segment.bytes"), 10),
	} {
		cfg := kmsg.NewCreateTopicsRequestTopicConfig()
		cfg.Name, cfg.Value = k, kmsg.StringPtr(v)
		t.Configs = append(t.Configs, cfg)
	}
	req.Topics = append(req.Topics, t)
	go func() {
		defer b.groups.creating.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		defer cancel()
		raw, err := b.controllers.Request(ctx, req)
		if err != nil {
			b.log.Warn("create "+offsetsTopic+" failed", zap.Error(err))
			return
		}
		for _, rt := range raw.(*kmsg.CreateTopicsResponse).Topics {
			if rt.ErrorCode != 0 && rt.ErrorCode != kerr.TopicAlreadyExists.Code {
				b.log.Warn("create "+offsetsTopic+" refused", zap.Error(kerr.ErrorForCode(rt.ErrorCode)))
				return
			}
		}
		b.meta.waitUntil(ctx, func(img *metadata.Image) bool { return img.Topics.ByName(offsetsTopic) != nil })
	}()
}
