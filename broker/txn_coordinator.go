package broker

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"go.uber.org/zap"

	"spool/broker/txn"
	"spool/controller/metadata"
)

// txnStateTopic holds the transaction coordinator's state.
const txnStateTopic = "__transaction_state"

// txnCoordinator runs the transaction coordinator for the
// __transaction_state partitions this broker leads: it loads their
// transactional ids when leadership arrives, feeds requests into each id's
// state machine one at a time, writes the records those ask for, answers
// once they are durable, and writes the markers that end transactions.
type txnCoordinator struct {
	b   *Broker
	log *zap.Logger

	maxTimeoutMs int32
	expirationMs int64

	mu       sync.Mutex
	shards   map[int32]*txnShard
	creating atomic.Bool

	markers *markerSender

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// txnShard is one led __transaction_state partition and its ids.
type txnShard struct {
	id int32
	// epoch is the partition's leader epoch, the coordinator epoch that
	// markers carry so partitions can refuse a stale coordinator.
	epoch  int32
	p      *partition
	loaded atomic.Bool
	// ctx ends when the shard is unloaded, stopping its marker retries
	// and waits.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	closed  bool
	entries map[string]*txnEntry
}

// txnEntry serialises the requests of one transactional id.
type txnEntry struct {
	mu   sync.Mutex
	t    *txn.Txn
	sh   *txnShard
	gone bool // unloaded or expired: look the id up again
}

func newTxnCoordinator(b *Broker) *txnCoordinator {
	s := b.cfg.Static
	c := &txnCoordinator{
		b: b, log: b.log.Named("txn"), shards: map[int32]*txnShard{},
		maxTimeoutMs: int32(s.Int("transaction.max.timeout.ms")),
		expirationMs: s.Int("transactional.id.expiration.ms"),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.markers = newMarkerSender(c)
	ms := func(name string) time.Duration { return time.Duration(s.Int(name)) * time.Millisecond }
	c.wg.Add(2)
	go func() {
		defer c.wg.Done()
		c.every(ms("transaction.abort.timed.out.transaction.cleanup.interval.ms"), c.abortTimedOut)
	}()
	go func() {
		defer c.wg.Done()
		c.every(ms("transaction.remove.expired.transaction.cleanup.interval.ms"), c.removeExpired)
	}()
	return c
}

// close unloads every shard and stops the scans and marker senders.
func (c *txnCoordinator) close() {
	c.cancel()
	c.mu.Lock()
	shards := c.shards
	c.shards = map[int32]*txnShard{}
	c.mu.Unlock()
	for _, sh := range shards {
		c.unload(sh)
	}
	c.wg.Wait()
	c.markers.close()
}

// onMetadata loads and unloads shards as leadership of __transaction_state
// partitions comes and goes.
func (c *txnCoordinator) onMetadata(_, _ *metadata.Image, ch metadata.TopicChanges) {
	followPartitions(ch, txnStateTopic, c.follow)
}

// follow reconciles one partition with its metadata (nil: deleted). A new
// leader epoch reloads: another coordinator may have written meanwhile.
func (c *txnCoordinator) follow(id int32, mp *metadata.Partition) {
	leads := mp != nil && mp.Leader == c.b.cfg.NodeID
	c.mu.Lock()
	old := c.shards[id]
	if old != nil && leads && old.epoch == mp.LeaderEpoch {
		c.mu.Unlock()
		return
	}
	delete(c.shards, id)
	var sh *txnShard
	if leads && c.ctx.Err() == nil {
		if p := c.b.replicas.get(tp{txnStateTopic, id}); p != nil {
			sh = &txnShard{id: id, epoch: mp.LeaderEpoch, p: p, entries: map[string]*txnEntry{}}
			sh.ctx, sh.cancel = context.WithCancel(c.ctx)
			c.shards[id] = sh
		}
	}
	c.mu.Unlock()
	if old != nil {
		c.unload(old)
	}
	if sh != nil {
		c.wg.Add(1)
		go func() { defer c.wg.Done(); c.load(sh) }()
	}
}

// unload forgets the shard's ids: requests waiting on them answer
// NOT_COORDINATOR, and its marker writing stops (the next coordinator
// resumes it from the log).
func (c *txnCoordinator) unload(sh *txnShard) {
	sh.cancel()
	sh.mu.Lock()
	sh.closed = true
	entries := sh.entries
	sh.entries = map[string]*txnEntry{}
	sh.mu.Unlock()
	for _, e := range entries {
		e.mu.Lock()
		e.gone = true
		e.mu.Unlock()
	}
	if len(entries) > 0 {
		c.log.Info("unloaded transactional ids", zap.Int32("partition", sh.id), zap.Int("ids", len(entries)))
	}
}

// shardFor is the loaded shard coordinating id.
func (c *txnCoordinator) shardFor(id string) (*txnShard, *kerr.Error) {
	t := c.b.Image().Topics.ByName(txnStateTopic)
	if t == nil || len(t.Partitions) == 0 {
		return nil, kerr.NotCoordinator
	}
	c.mu.Lock()
	sh := c.shards[txn.PartitionFor(id, len(t.Partitions))]
	c.mu.Unlock()
	switch {
	case sh == nil:
		return nil, kerr.NotCoordinator
	case !sh.loaded.Load():
		return nil, kerr.CoordinatorLoadInProgress
	}
	return sh, nil
}

// entry returns id's entry locked, or nil without error when the id is
// unknown. When add is set, an unknown id gets add() as its state.
func (c *txnCoordinator) entry(id string, add func() *txn.Txn) (*txnEntry, *kerr.Error) {
	for {
		sh, err := c.shardFor(id)
		if err != nil {
			return nil, err
		}
		sh.mu.Lock()
		if sh.closed {
			sh.mu.Unlock()
			return nil, kerr.NotCoordinator
		}
		e := sh.entries[id]
		if e == nil && add != nil {
			e = &txnEntry{t: add(), sh: sh}
			sh.entries[id] = e
		}
		sh.mu.Unlock()
		if e == nil {
			return nil, nil
		}
		e.mu.Lock()
		if e.gone {
			e.mu.Unlock()
			continue
		}
		return e, nil
	}
}

// forget drops an expired id from its shard; e is locked.
func (c *txnCoordinator) forget(e *txnEntry) {
	e.gone = true
	e.sh.mu.Lock()
	if e.sh.entries[e.t.ID] == e {
		delete(e.sh.entries, e.t.ID)
	}
	e.sh.mu.Unlock()
}

// loadedShards lists the shards that serve requests.
func (c *txnCoordinator) loadedShards() []*txnShard {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*txnShard, 0, len(c.shards))
	for _, sh := range c.shards {
		if sh.loaded.Load() {
			out = append(out, sh)
		}
	}
	return out
}

// loading says whether any led shard is still being loaded.
func (c *txnCoordinator) loading() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, sh := range c.shards {
		if !sh.loaded.Load() {
			return true
		}
	}
	return false
}

// list returns a snapshot of the shard's entries.
func (sh *txnShard) list() []*txnEntry {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	out := make([]*txnEntry, 0, len(sh.entries))
	for _, e := range sh.entries {
		out = append(out, e)
	}
	return out
}

// every runs f every interval until the coordinator closes.
func (c *txnCoordinator) every(interval time.Duration, f func(now time.Time)) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case now := <-t.C:
			f(now)
		}
	}
}

// createTxnStateTopic asks the controller for __transaction_state, with
// Kafka's settings: compacted, transaction.state.log.* partitions,
// replication and segment size, and min.insync.replicas from
// transaction.state.log.min.isr, capped (like the replication factor) at
// the live brokers: an uncapped minimum above the replication factor
// would refuse every coordinator write.
func (b *Broker) createTxnStateTopic(img *metadata.Image) {
	s := b.cfg.Static
	live := 0
	for _, br := range img.Brokers {
		if !br.Fenced {
			live++
		}
	}
	rf := min(int(s.Int("transaction.state.log.replication.factor")), max(live, 1))
	minISR := min(int(s.Int("transaction.state.log.min.isr")), rf)
	b.createInternalTopic(img, &b.txns.creating, txnStateTopic, int32(s.Int("transaction.state.log.num.partitions")), rf,
		map[string]string{
			"cleanup.policy":                 "compact",
			"compression.type":               "uncompressed",
			"min.insync.replicas":            strconv.Itoa(minISR),
			"segment.bytes":                  strconv.FormatInt(s.Int("transaction.state.log.segment.bytes"), 10),
			"unclean.leader.election.enable": "false",
		})
}
