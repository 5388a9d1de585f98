package broker

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/broker/group"
	"spool/broker/txn"
	"spool/controller/metadata"
	"spool/protocol"
)

// Coordinator key types of FindCoordinator.
const (
	coordinatorGroup       = 0
	coordinatorTransaction = 1
	coordinatorShare       = 2 // KIP-932: the key is group:topicId:partition
)

// handleFindCoordinator names the leader of a group's __consumer_offsets
// partition or a transactional id's __transaction_state partition,
// creating the topic on first use (clients retry COORDINATOR_NOT_AVAILABLE
// meanwhile).
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
	var topic, what string
	var partitionFor func(key string, n int) int32
	var create func(*metadata.Image)
	switch keyType {
	case coordinatorGroup:
		topic, what, partitionFor, create = offsetsTopic, "group", group.Partition, b.createOffsetsTopic
	case coordinatorTransaction:
		topic, what, partitionFor, create = txnStateTopic, "transactional id", txn.PartitionFor, b.createTxnStateTopic
	case coordinatorShare:
		return b.findShareCoordinator(img, c, listener)
	default:
		return fail(kerr.InvalidRequest, "unknown coordinator type "+strconv.Itoa(int(keyType)))
	}
	t := img.Topics.ByName(topic)
	if t == nil {
		create(img)
		return fail(kerr.CoordinatorNotAvailable, "creating "+topic)
	}
	p := t.Partition(partitionFor(key, len(t.Partitions)))
	if p == nil || p.Leader < 0 || !b.leaderReady(topic, p) {
		return fail(kerr.CoordinatorNotAvailable, "the "+what+"'s partition has no leader")
	}
	br := img.Brokers[p.Leader]
	if br == nil || br.Fenced {
		return fail(kerr.CoordinatorNotAvailable, "the "+what+"'s coordinator is not available")
	}
	ep, ok := br.Endpoint(listener)
	if !ok {
		return fail(kerr.CoordinatorNotAvailable, "the coordinator has no endpoint on listener "+listener)
	}
	c.NodeID, c.Host, c.Port = br.ID, ep.Host, int32(ep.Port)
	return c
}

// createOffsetsTopic asks the controller for __consumer_offsets.
func (b *Broker) createOffsetsTopic(img *metadata.Image) {
	s := b.cfg.Static
	b.createInternalTopic(img, &b.groups.creating, offsetsTopic, int32(s.Int("offsets.topic.num.partitions")),
		int(s.Int("offsets.topic.replication.factor")), map[string]string{
			"cleanup.policy": "compact",
			"segment.bytes":  strconv.FormatInt(s.Int("offsets.topic.segment.bytes"), 10),
		})
}

// createInternalTopic asks the controller for an internal topic, once at a
// time (creating guards it), in the background. The replication factor is
// capped at the number of brokers, so a single node works out of the box.
func (b *Broker) createInternalTopic(img *metadata.Image, creating *atomic.Bool, name string, partitions int32, rf int, configs map[string]string) {
	if !creating.CompareAndSwap(false, true) {
		return
	}
	rf = min(rf, max(len(img.Brokers), 1))
	req := kmsg.NewPtrCreateTopicsRequest()
	req.SetVersion(7)
	req.TimeoutMillis = int32(requestTimeout / time.Millisecond)
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = name, partitions, int16(rf)
	for k, v := range configs {
		cfg := kmsg.NewCreateTopicsRequestTopicConfig()
		cfg.Name, cfg.Value = k, kmsg.StringPtr(v)
		t.Configs = append(t.Configs, cfg)
	}
	req.Topics = append(req.Topics, t)
	go func() {
		defer creating.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		defer cancel()
		raw, err := b.controllers.Request(ctx, req)
		if err != nil {
			b.log.Warn("create "+name+" failed", zap.Error(err))
			return
		}
		for _, rt := range raw.(*kmsg.CreateTopicsResponse).Topics {
			if rt.ErrorCode != 0 && rt.ErrorCode != kerr.TopicAlreadyExists.Code {
				b.log.Warn("create "+name+" refused", zap.Error(kerr.ErrorForCode(rt.ErrorCode)))
				return
			}
		}
		b.meta.waitUntil(ctx, func(img *metadata.Image) bool { return img.Topics.ByName(name) != nil })
	}()
}
