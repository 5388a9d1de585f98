package broker

import (
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"go.uber.org/zap"

	"spool/broker/consumergroup"
	"spool/broker/group"
	"spool/config"
	"spool/controller/metadata"
)

// consumerGroupConfig is the KIP-848 groups' settings from the broker's
// group.consumer.* configs.
func consumerGroupConfig(s *config.Config) consumergroup.Config {
	ms := func(name string) time.Duration { return time.Duration(s.Int(name)) * time.Millisecond }
	cfg := consumergroup.DefaultConfig()
	cfg.SessionTimeout = ms("group.consumer.session.timeout.ms")
	cfg.HeartbeatInterval = ms("group.consumer.heartbeat.interval.ms")
	cfg.AssignmentInterval = ms("group.consumer.assignment.interval.ms")
	cfg.MaxSize = int(s.Int("group.consumer.max.size"))
	cfg.Assignors = nil
	for _, a := range s.List("group.consumer.assignors") {
		// Kafka's class names name the same two assignors.
		name := strings.ToLower(strings.TrimSuffix(a[strings.LastIndex(a, ".")+1:], "Assignor"))
		cfg.Assignors = append(cfg.Assignors, name)
	}
	return cfg
}

// groupConfig is groupID's settings: the broker's, with the group's own
// configs (resource type GROUP) from the image applied. It is looked up
// on every request to the group, so a change applies from the group's
// next heartbeat, as in Kafka.
func (c *coordinator) groupConfig(groupID string) *consumergroup.Config {
	own := c.b.Image().Configs[metadata.ConfigResource{Type: metadata.ConfigResourceGroup, Name: groupID}]
	if len(own) == 0 {
		return &c.ccfg
	}
	cfg := c.ccfg
	for name, v := range own {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue // the controller only stores values of the key's type
		}
		d := time.Duration(n) * time.Millisecond
		switch name {
		case "consumer.session.timeout.ms":
			cfg.SessionTimeout = d
		case "consumer.heartbeat.interval.ms":
			cfg.HeartbeatInterval = d
		case "consumer.assignment.interval.ms":
			cfg.AssignmentInterval = d
		}
	}
	return &cfg
}

// consumerProtocolEnabled reports whether group.coordinator.rebalance.protocols
// lists the consumer protocol.
func consumerProtocolEnabled(s *config.Config) bool {
	for _, p := range s.List("group.coordinator.rebalance.protocols") {
		if strings.EqualFold(p, "consumer") {
			return true
		}
	}
	return false
}

// imageTopics is a metadata image as the consumer groups see topics.
type imageTopics struct{ img *metadata.Image }

func topicOf(t *metadata.Topic) consumergroup.Topic {
	return consumergroup.Topic{ID: t.ID, Name: t.Name, Partitions: int32(len(t.Partitions))}
}

func (it imageTopics) ByName(name string) (consumergroup.Topic, bool) {
	if t := it.img.Topics.ByName(name); t != nil {
		return topicOf(t), true
	}
	return consumergroup.Topic{}, false
}

func (it imageTopics) ByID(id consumergroup.Uuid) (consumergroup.Topic, bool) {
	if t := it.img.Topics.ByID(id); t != nil {
		return topicOf(t), true
	}
	return consumergroup.Topic{}, false
}

func (it imageTopics) Each(fn func(consumergroup.Topic) bool) {
	it.img.Topics.Range(func(t *metadata.Topic) bool { return fn(topicOf(t)) })
}

// Version is the image's offset: it moves with every metadata change, a
// superset of topic changes, which only costs a regex an extra resolution.
func (it imageTopics) Version() int64 { return it.img.Offset }

func (c *coordinator) topics() consumergroup.Topics { return imageTopics{c.b.Image()} }

// consumerEvent is one input to a consumer group.
type consumerEvent func(cg *consumergroup.Group, id group.ReqID, now time.Time) consumergroup.Out

// doConsumer feeds ev to groupID's consumer group. With join set, a group
// id that is free (unknown, or a classic group without members) becomes a
// consumer group; a classic group with members is refused with Kafka's
// error. found is false when there is no consumer group and join is not
// set.
func (c *coordinator) doConsumer(groupID string, join bool, respond func(group.Reply), ev consumerEvent) (found bool, f *consumergroup.Failure) {
	for {
		cl, err := c.lookup(groupID, join)
		if err != nil {
			return true, &consumergroup.Failure{Err: err}
		}
		if cl == nil {
			return false, nil
		}
		cl.mu.Lock()
		if cl.gone {
			cl.mu.Unlock()
			continue
		}
		created := false
		if cl.cg == nil {
			switch {
			case !join:
				cl.mu.Unlock()
				return false, nil
			case cl.g.State() != group.Empty:
				cl.mu.Unlock()
				return true, &consumergroup.Failure{Err: kerr.GroupIDNotFound, Msg: "Group " + groupID + " is not a consumer group."}
			}
			cl.cg, created = consumergroup.New(groupID, &c.ccfg), true
		}
		cg := cl.cg
		cg.SetConfig(c.groupConfig(groupID))
		id := group.ReqID(c.nextReq.Add(1))
		c.waiting.Store(id, respond)
		before := cg.Epoch()
		replies := c.applyConsumer(cl, cg, ev(cg, id, time.Now()))
		c.countEpoch(cg, before)
		if created && cg.Epoch() == 0 && cg.Removable() {
			// The join failed before the group wrote anything: as in
			// Kafka, the group it created is rolled back.
			cl.cg = nil
			c.forgetIfEmpty(cl)
		}
		cl.mu.Unlock()
		c.send(replies)
		return true, nil
	}
}

// applyConsumer carries out a consumer group's Out with cl locked, as
// apply does for a classic group, and returns the replies to send.
func (c *coordinator) applyConsumer(cl *cell, cg *consumergroup.Group, out consumergroup.Out) []group.Reply {
	var replies []group.Reply
	reload := false
	for {
		replies = append(replies, out.Replies...)
		reload = reload || out.Reload
		for _, t := range out.Timers {
			c.setConsumerTimer(cl, cg, t)
		}
		var next consumergroup.Out
		for _, w := range out.Writes {
			_, upTo, err := c.appendRecords(cl, w.Records, nil)
			if err != nil {
				next = mergeConsumerOut(next, cg.WriteDone(w.ID, err, time.Now()))
				continue
			}
			wid := w.ID
			c.whenDurable(cl, upTo, func(err *kerr.Error) {
				c.onConsumer(cl, cg, func(now time.Time) consumergroup.Out { return cg.WriteDone(wid, err, now) })
			})
		}
		if len(next.Writes)+len(next.Replies)+len(next.Timers) == 0 && !next.Reload {
			break
		}
		out = next
	}
	if reload {
		// A write failed: the group is ahead of its log. Load the
		// partition again so it serves what the log holds.
		c.log.Warn("consumer group write failed; reloading its partition", zap.String("group", cg.ID), zap.Int32("partition", cl.sh.id))
		go c.reload(cl.sh)
	}
	return replies
}

func mergeConsumerOut(a, b consumergroup.Out) consumergroup.Out {
	a.Writes = append(a.Writes, b.Writes...)
	a.Replies = append(a.Replies, b.Replies...)
	a.Timers = append(a.Timers, b.Timers...)
	a.Reload = a.Reload || b.Reload
	return a
}

// setConsumerTimer sets, moves or (zero At) cancels one of the consumer
// group's timers.
func (c *coordinator) setConsumerTimer(cl *cell, cg *consumergroup.Group, t consumergroup.Timer) {
	if old := cl.timers[t.Key]; old != nil {
		old.Stop()
		delete(cl.timers, t.Key)
	}
	if t.At.IsZero() {
		return
	}
	if cl.timers == nil {
		cl.timers = map[consumergroup.TimerKey]*time.Timer{}
	}
	key, at := t.Key, t.At
	cl.timers[key] = time.AfterFunc(time.Until(at), func() {
		c.onConsumer(cl, cg, func(now time.Time) consumergroup.Out {
			if now.Before(at) {
				now = at // the runtime timer may fire a hair early
			}
			return cg.Fire(key, c.topics(), now)
		})
	})
}

// stopConsumerTimers cancels every timer of the cell's consumer group.
func (cl *cell) stopConsumerTimers() {
	for k, t := range cl.timers {
		t.Stop()
		delete(cl.timers, k)
	}
}

// onConsumer runs an event that answers no new request on cg, unless the
// cell was unloaded or no longer holds cg.
func (c *coordinator) onConsumer(cl *cell, cg *consumergroup.Group, f func(now time.Time) consumergroup.Out) {
	cl.mu.Lock()
	if cl.gone || cl.cg != cg {
		cl.mu.Unlock()
		return
	}
	before := cg.Epoch()
	replies := c.applyConsumer(cl, cg, f(time.Now()))
	c.countEpoch(cg, before)
	cl.mu.Unlock()
	c.send(replies)
}

// endConsumerGroup deletes the cell's consumer group, which must be empty,
// writing its tombstones; the id is then a classic group's again.
func (c *coordinator) endConsumerGroup(cl *cell) []group.Reply {
	cg := cl.cg
	replies := c.applyConsumer(cl, cg, cg.Delete())
	cl.stopConsumerTimers()
	cl.cg = nil
	return replies
}

// classicEvent runs a classic-protocol event on a cell. A consumer group
// with members refuses it (refuse is the error: a JoinGroup is told the
// group speaks another protocol, the others that they are not members);
// an empty consumer group gives its id back to the classic protocol, as
// in Kafka, when join is set.
func (c *coordinator) classicEvent(join bool, refuse *kerr.Error, ev event) cellEvent {
	return func(cl *cell, id group.ReqID, now time.Time) (group.Out, *kerr.Error) {
		if cl.cg != nil {
			if !join || cl.cg.State() != consumergroup.Empty {
				return group.Out{}, refuse
			}
			c.send(c.endConsumerGroup(cl))
		}
		return ev(cl.g, id, now), nil
	}
}

// reload loads a led partition again from its log, as a new leader epoch
// would.
func (c *coordinator) reload(old *shard) {
	c.mu.Lock()
	if c.shards[old.id] != old {
		c.mu.Unlock()
		return
	}
	sh := &shard{id: old.id, epoch: old.epoch, p: old.p, cells: map[string]*cell{}, txnGroups: map[int64]map[string]struct{}{}}
	c.shards[old.id] = sh
	c.mu.Unlock()
	c.unload(old)
	c.wg.Add(1)
	go func() { defer c.wg.Done(); c.load(sh) }()
}

// readCell runs f on groupID's cell under its lock; found is false when
// the group does not exist.
func (c *coordinator) readCell(groupID string, f func(cl *cell)) (found bool, err *kerr.Error) {
	for {
		cl, err := c.lookup(groupID, false)
		if err != nil || cl == nil {
			return false, err
		}
		cl.mu.Lock()
		if cl.gone {
			cl.mu.Unlock()
			continue
		}
		f(cl)
		cl.mu.Unlock()
		return true, nil
	}
}
