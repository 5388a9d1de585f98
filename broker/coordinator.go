package broker

import (
	"bytes"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/broker/consumergroup"
	"spool/broker/group"
	"spool/controller/metadata"
	"spool/protocol"
)

// offsetsTopic holds committed offsets and group metadata.
const offsetsTopic = "__consumer_offsets"

// coordinator runs the group coordinator for the __consumer_offsets
// partitions this broker leads: it loads their groups when leadership
// arrives, feeds requests and timers into each group's state machine one
// at a time, writes the records those ask for, and answers once the
// records are durable.
type coordinator struct {
	b   *Broker
	log *zap.Logger
	cfg group.Config
	// ccfg is the KIP-848 consumer groups' settings.
	ccfg consumergroup.Config

	mu     sync.Mutex
	shards map[int32]*shard

	nextReq atomic.Uint64
	// rebalances counts generations completed (rebalance.go bumps the
	// generation once per rebalance).
	rebalances atomic.Uint64
	// loads sums shard loads into one log line (coordinator_load.go).
	loads    loadSummary
	waiting  sync.Map // group.ReqID -> func(group.Reply)
	creating atomic.Bool

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// shard is one led __consumer_offsets partition and its groups.
type shard struct {
	id     int32
	epoch  int32
	p      *partition
	loaded atomic.Bool

	mu     sync.Mutex
	closed bool
	cells  map[string]*cell
	// installed is set once the loaded groups are in cells; markers that
	// end transactions before then wait in early.
	installed bool
	early     []txnOutcome
	// txnGroups lists, per producer id, the groups that may hold its
	// pending transactional offsets.
	txnGroups map[int64]map[string]struct{}
}

// cell serialises the events of one group. g holds the group's offsets
// (and its members when it is a classic group); cg is set while the group
// is a KIP-848 consumer group.
type cell struct {
	mu   sync.Mutex
	g    *group.Group
	cg   *consumergroup.Group
	sh   *shard
	gone bool // unloaded or forgotten: look the group up again
	// timers are the consumer group's, by key.
	timers map[consumergroup.TimerKey]*time.Timer
}

func newCoordinator(b *Broker) *coordinator {
	s := b.cfg.Static
	ms := func(name string) time.Duration { return time.Duration(s.Int(name)) * time.Millisecond }
	cfg := group.DefaultConfig()
	cfg.MinSessionTimeout = ms("group.min.session.timeout.ms")
	cfg.MaxSessionTimeout = ms("group.max.session.timeout.ms")
	cfg.InitialRebalanceDelay = ms("group.initial.rebalance.delay.ms")
	cfg.MaxSize = int(s.Int("group.max.size"))
	cfg.OffsetsRetention = time.Duration(s.Int("offsets.retention.minutes")) * time.Minute
	c := &coordinator{b: b, log: b.log.Named("groups"), cfg: cfg, ccfg: consumerGroupConfig(s), shards: map[int32]*shard{}}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.wg.Add(1)
	go func() { defer c.wg.Done(); c.runExpiry(ctx, ms("offsets.retention.check.interval.ms")) }()
	return c
}

// close unloads every group, answering waiting requests, and stops.
func (c *coordinator) close() {
	c.cancel()
	c.mu.Lock()
	shards := c.shards
	c.shards = map[int32]*shard{}
	c.mu.Unlock()
	for _, sh := range shards {
		c.unload(sh)
	}
	c.wg.Wait()
}

// onMetadata loads and unloads groups as leadership of __consumer_offsets
// partitions comes and goes.
// Every shard of the change is registered before any starts loading, so
// a load that finishes early does not see "nothing loading" and close the
// load summary while the rest are still to come.
func (c *coordinator) onMetadata(_, _ *metadata.Image, ch metadata.TopicChanges) {
	var loads []*shard
	followPartitions(ch, offsetsTopic, func(id int32, mp *metadata.Partition) {
		if sh := c.follow(id, mp); sh != nil {
			loads = append(loads, sh)
		}
	})
	for _, sh := range loads {
		c.wg.Add(1)
		go func() { defer c.wg.Done(); c.load(sh) }()
	}
}

// follow reconciles one partition with its metadata (nil: deleted) and
// returns the shard to load, if any. A new leader epoch reloads, since
// another leader may have written meanwhile.
func (c *coordinator) follow(id int32, mp *metadata.Partition) *shard {
	leads := mp != nil && mp.Leader == c.b.cfg.NodeID
	c.mu.Lock()
	old := c.shards[id]
	if old != nil && leads && old.epoch == mp.LeaderEpoch {
		c.mu.Unlock()
		return nil
	}
	delete(c.shards, id)
	var sh *shard
	if leads {
		if p := c.b.replicas.get(tp{offsetsTopic, id}); p != nil {
			sh = &shard{id: id, epoch: mp.LeaderEpoch, p: p, cells: map[string]*cell{}, txnGroups: map[int64]map[string]struct{}{}}
			c.shards[id] = sh
		}
	}
	c.mu.Unlock()
	if old != nil {
		c.unload(old)
	}
	return sh
}

// unload answers everything waiting on the shard's groups with
// NOT_COORDINATOR and forgets them.
func (c *coordinator) unload(sh *shard) {
	sh.mu.Lock()
	sh.closed = true
	cells := sh.cells
	sh.cells = map[string]*cell{}
	sh.mu.Unlock()
	for _, cl := range cells {
		cl.mu.Lock()
		out := cl.g.Close(time.Now())
		replies := out.Replies
		if cl.cg != nil {
			replies = append(replies, cl.cg.Close(time.Now()).Replies...)
			cl.stopConsumerTimers()
		}
		cl.gone = true
		cl.mu.Unlock()
		c.send(replies)
	}
	if len(cells) > 0 {
		c.log.Info("unloaded groups", zap.Int32("partition", sh.id), zap.Int("groups", len(cells)))
	}
}

// lookup finds the cell of groupID, creating the group if create. It
// returns nil without error for a group that does not exist.
func (c *coordinator) lookup(groupID string, create bool) (*cell, *kerr.Error) {
	img := c.b.Image()
	t := img.Topics.ByName(offsetsTopic)
	if t == nil || len(t.Partitions) == 0 {
		return nil, kerr.NotCoordinator
	}
	c.mu.Lock()
	sh := c.shards[group.Partition(groupID, len(t.Partitions))]
	c.mu.Unlock()
	if sh == nil {
		return nil, kerr.NotCoordinator
	}
	if !sh.loaded.Load() {
		return nil, kerr.CoordinatorLoadInProgress
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.closed {
		return nil, kerr.NotCoordinator
	}
	cl := sh.cells[groupID]
	if cl == nil && create {
		cl = &cell{g: group.New(groupID, &c.cfg, time.Now()), sh: sh}
		sh.cells[groupID] = cl
	}
	return cl, nil
}

// event is one input to a group's state machine.
type event func(g *group.Group, id group.ReqID, now time.Time) group.Out

// cellEvent is an input that may look at both halves of a cell; an error
// answers the request instead of a reply.
type cellEvent func(cl *cell, id group.ReqID, now time.Time) (group.Out, *kerr.Error)

// do feeds ev to groupID's state machine; respond gets the answer to ev's
// request. found is false (and respond unused) when the group does not
// exist and create is false.
func (c *coordinator) do(groupID string, create bool, respond func(group.Reply), ev event) (found bool, err *kerr.Error) {
	return c.doCell(groupID, create, respond, func(cl *cell, id group.ReqID, now time.Time) (group.Out, *kerr.Error) {
		return ev(cl.g, id, now), nil
	})
}

// doCell is do for an event that sees the whole cell; ev's error is
// returned as err, and respond is then unused.
func (c *coordinator) doCell(groupID string, create bool, respond func(group.Reply), ev cellEvent) (found bool, err *kerr.Error) {
	for {
		cl, err := c.lookup(groupID, create)
		if err != nil || cl == nil {
			return false, err
		}
		cl.mu.Lock()
		if cl.gone {
			cl.mu.Unlock()
			continue
		}
		id := group.ReqID(c.nextReq.Add(1))
		c.waiting.Store(id, respond)
		gen := cl.generations()
		out, evErr := ev(cl, id, time.Now())
		if evErr != nil {
			c.waiting.Delete(id)
		}
		replies := c.apply(cl, out)
		c.countRebalance(cl, gen)
		c.forgetIfEmpty(cl)
		if evErr != nil {
			cl.mu.Unlock()
			c.send(replies)
			return true, evErr
		}
		cl.mu.Unlock()
		c.send(replies)
		return true, nil
	}
}

// read runs f on groupID's group under its lock; found is false when the
// group does not exist.
func (c *coordinator) read(groupID string, f func(g *group.Group)) (found bool, err *kerr.Error) {
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
		f(cl.g)
		cl.mu.Unlock()
		return true, nil
	}
}

// forgetIfEmpty drops a group that holds nothing (a failed first join, a
// deleted group) so the shard does not keep it.
func (c *coordinator) forgetIfEmpty(cl *cell) {
	if !cl.g.Removable() || cl.cg != nil {
		return
	}
	cl.sh.mu.Lock()
	if cl.sh.cells[cl.g.ID] == cl {
		delete(cl.sh.cells, cl.g.ID)
	}
	cl.sh.mu.Unlock()
	cl.gone = true
}

// send delivers replies to the requests waiting for them.
func (c *coordinator) send(replies []group.Reply) {
	for _, r := range replies {
		if f, ok := c.waiting.LoadAndDelete(r.To); ok {
			f.(func(group.Reply))(r)
		}
	}
}

// detach decodes the request again from a private copy of its body: the
// mux's decoding aliases a pooled frame buffer that is reused once the
// response is written, and groups keep what requests carry (ids,
// subscriptions, assignments, topic names) long after.
func detach(req *protocol.Request) kmsg.Request {
	m := kmsg.RequestForKey(req.Key)
	m.SetVersion(req.Version)
	if err := m.ReadFrom(bytes.Clone(req.Body)); err != nil {
		return req.Msg // already decoded once from the same bytes
	}
	return m
}

// replyWith turns a group reply into a protocol response.
func replyWith(respond func(protocol.Response)) func(group.Reply) {
	return func(r group.Reply) { respond(protocol.Msg(r.Msg)) }
}

// clientHost is the member's address as Kafka shows it ("/127.0.0.1").
func clientHost(req *protocol.Request) string {
	if req.Remote == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(req.Remote.String())
	if err != nil {
		return "/" + req.Remote.String()
	}
	return "/" + host
}

func clientID(req *protocol.Request) string {
	if req.ClientID == nil {
		return ""
	}
	return *req.ClientID
}
