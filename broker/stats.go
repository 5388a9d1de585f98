package broker

import (
	"context"
	"errors"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"spool/broker/consumergroup"
	"spool/broker/group"
	"spool/broker/txn"
	"spool/controller/metadata"
	"spool/storage"
)

// Stats is what the operator endpoints report about the broker: its
// standing with the controller, its partitions, its logs, its traffic and
// its coordinators. Stats builds it on demand, from the image, the hosted
// partitions and the counters the request paths keep.
type Stats struct {
	Standing

	Partitions, Leaders                    int
	UnderReplicated, UnderMinISR, AtMinISR int
	ISRShrinks, ISRExpands                 uint64

	Topics  []TopicStats
	Traffic []TopicTraffic

	GroupsByState map[string]int
	Share         ShareStats
	Rebalances    uint64
	Lag           []GroupLag
	TxnsByState   map[string]int

	Cleaner CleanerTotals
	// FollowerFetchBytes are record bytes served to consumers from
	// replicas this broker follows; PreferredReplicaRedirects counts
	// partitions this broker, leading, sent to a follower instead (KIP-392).
	FollowerFetchBytes, PreferredReplicaRedirects uint64
	// Tiered is the remote tier's traffic and backlog; nil when tiered
	// storage is off.
	Tiered *TieredStats
	// Flushes times the flushes of the partition logs.
	Flushes *storage.FlushStats
}

// Standing is the broker's standing with the controller: what readiness
// is made of.
type Standing struct {
	NodeID int32
	// Registered: the controller accepted the registration (epoch > 0);
	// Fenced: the current image fences it (or does not know its epoch);
	// Serving: it serves clients.
	Registered, Fenced, Serving bool
	// MetadataOffset is the image's last applied offset, MetadataHighWatermark
	// the next offset the controller had when it last answered, and
	// LastMetadataFetch when it last answered.
	MetadataOffset, MetadataHighWatermark int64
	LastMetadataFetch                     time.Time
}

// Standing reads the broker's standing without walking its partitions.
func (b *Broker) Standing() Standing {
	img := b.Image()
	s := Standing{NodeID: b.cfg.NodeID, Registered: b.life.epoch.Load() > 0, MetadataOffset: img.Offset, MetadataHighWatermark: b.meta.hw.Load()}
	if ms := b.meta.lastFetch.Load(); ms > 0 {
		s.LastMetadataFetch = time.UnixMilli(ms)
	}
	if br := img.Brokers[b.cfg.NodeID]; br == nil || br.Fenced || br.Epoch != b.life.epoch.Load() {
		s.Fenced = true
	}
	select {
	case <-b.life.unfenced:
		s.Serving = true
	default:
	}
	return s
}

// TopicStats are the logs of one topic hosted here.
type TopicStats struct {
	Topic    string
	Size     int64
	Segments int
	Replicas int // hosted replicas
}

// GroupLag is a group's lag on a partition this broker leads.
type GroupLag struct {
	Group     string
	Topic     string
	Partition int32
	Lag       int64
}

// CleanerTotals add up the log cleaner's work on this broker's logs since
// start, and how dirty the compacted logs are now.
type CleanerTotals struct {
	Cleans, Failures                        uint64
	BytesBefore, BytesAfter, RecordsDropped uint64
	Seconds                                 float64
	MaxDirtyRatio                           float64
	CleanableBytes                          int64
}

// cleanerCounters count the cleaner's finished cleans.
type cleanerCounters struct {
	cleans, failures, before, after, dropped, nanos atomic.Uint64
}

func (c *cleanerCounters) add(res storage.CleanResult, err error) {
	if err != nil {
		if !errors.Is(err, storage.ErrClosed) && !errors.Is(err, context.Canceled) && !errors.Is(err, storage.ErrCleanAborted) {
			c.failures.Add(1)
		}
		return
	}
	if res.Segments == 0 {
		return
	}
	c.cleans.Add(1)
	c.before.Add(uint64(res.BytesBefore))
	c.after.Add(uint64(res.BytesAfter))
	c.dropped.Add(uint64(res.RecordsDropped))
	c.nanos.Add(uint64(res.Duration))
}

// isrCounters count ISR changes of the partitions this broker leads.
type isrCounters struct {
	shrinks, expands atomic.Uint64
}

// Stats snapshots the broker. It walks every hosted partition and group,
// which is fine at scrape intervals and never on a request path.
func (b *Broker) Stats() Stats {
	img := b.Image()
	s := Stats{
		Standing:   b.Standing(),
		ISRShrinks: b.isrCount.shrinks.Load(), ISRExpands: b.isrCount.expands.Load(),
		FollowerFetchBytes: b.readReplicas.servedBytes.Load(), PreferredReplicaRedirects: b.readReplicas.redirects.Load(),
		Traffic: b.topicStats.snapshot(), Rebalances: b.groups.rebalances.Load(), Flushes: &b.flushes,
		Cleaner: CleanerTotals{
			Cleans: b.cleanerCount.cleans.Load(), Failures: b.cleanerCount.failures.Load(),
			BytesBefore: b.cleanerCount.before.Load(), BytesAfter: b.cleanerCount.after.Load(),
			RecordsDropped: b.cleanerCount.dropped.Load(), Seconds: float64(b.cleanerCount.nanos.Load()) / 1e9,
		},
	}
	b.partitionStats(img, &s)
	s.GroupsByState, s.Lag = b.groupStats()
	s.Share = b.shares.stats()
	s.TxnsByState = b.txnStats()
	s.Tiered = b.tieredStats(img)
	return s
}

func (b *Broker) partitionStats(img *metadata.Image, s *Stats) {
	topics := map[string]*TopicStats{}
	minISR := map[string]int{}
	for _, p := range b.replicas.all() {
		s.Partitions++
		ts := topics[p.topic]
		if ts == nil {
			ts = &TopicStats{Topic: p.topic}
			topics[p.topic] = ts
		}
		ts.Replicas++
		ts.Size += p.log.Size()
		ts.Segments += p.log.NumSegments()
		if p.log.Config().Compact {
			cs := p.log.CleanerStatsBelow(p.lastStableOffset())
			s.Cleaner.MaxDirtyRatio = max(s.Cleaner.MaxDirtyRatio, cs.DirtyRatio)
			s.Cleaner.CleanableBytes += cs.CleanableBytes
		}
		p.mu.RLock()
		leader, isr, replicas := p.isLeader, len(p.isr), len(p.replicas)
		p.mu.RUnlock()
		if !leader {
			continue
		}
		s.Leaders++
		if isr < replicas {
			s.UnderReplicated++
		}
		min, ok := minISR[p.topic]
		if !ok {
			min = b.produceConfig(img, p.topic).minInsync
			minISR[p.topic] = min
		}
		switch {
		case isr < min:
			s.UnderMinISR++
		case isr == min:
			s.AtMinISR++
		}
	}
	for _, ts := range topics {
		s.Topics = append(s.Topics, *ts)
	}
	sort.Slice(s.Topics, func(i, j int) bool { return s.Topics[i].Topic < s.Topics[j].Topic })
}

// groupStats counts groups by state and computes each group's lag on the
// partitions this broker leads: the high watermark minus the committed
// offset, as lag exporters compute it.
func (b *Broker) groupStats() (map[string]int, []GroupLag) {
	states := map[string]int{}
	var lag []GroupLag
	for _, cl := range b.groups.cells() {
		cl.mu.Lock()
		if cl.gone {
			cl.mu.Unlock()
			continue
		}
		switch {
		case cl.cg != nil:
			if st := cl.cg.State().String(); st != "Dead" {
				states[st]++
			}
		case cl.g.State() != group.Dead:
			states[cl.g.State().String()]++
		}
		id := cl.g.Listing().Group
		for tpart, off := range cl.g.Offsets() {
			p := b.replicas.get(tp{tpart.Topic, tpart.Partition})
			if p == nil {
				continue
			}
			if leader, _ := p.leadership(); !leader {
				continue
			}
			lag = append(lag, GroupLag{Group: id, Topic: tpart.Topic, Partition: tpart.Partition, Lag: max(p.HighWatermark()-off.Offset, 0)})
		}
		cl.mu.Unlock()
	}
	slices.SortFunc(lag, func(a, b GroupLag) int {
		if a.Group != b.Group {
			return compareStrings(a.Group, b.Group)
		}
		if a.Topic != b.Topic {
			return compareStrings(a.Topic, b.Topic)
		}
		return int(a.Partition - b.Partition)
	})
	return states, lag
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// txnStats counts the transactional ids this broker coordinates by state;
// nil while a shard is still loading.
func (b *Broker) txnStats() map[string]int {
	all, _ := txn.NewListFilter(nil, nil, -1)
	list, err := b.txns.list(&all)
	if err != nil {
		return nil
	}
	out := map[string]int{}
	for _, t := range list {
		out[t.TransactionState]++
	}
	return out
}

// generations is the classic generation and the KIP-848 group epoch (-1
// for a classic group): each rebalance moves one of them.
func (cl *cell) generations() [2]int32 {
	g := [2]int32{cl.g.Generation(), -1}
	if cl.cg != nil {
		g[1] = cl.cg.Epoch()
	}
	return g
}

// countRebalance counts a rebalance when an event moved the group to a new
// generation or group epoch; cl is locked.
func (c *coordinator) countRebalance(cl *cell, before [2]int32) {
	after := cl.generations()
	if after[0] != before[0] || after[1] > before[1] && after[1] > 0 {
		c.rebalances.Add(1)
	}
}

// countEpoch counts a rebalance of a KIP-848 group: an event that bumped
// its group epoch.
func (c *coordinator) countEpoch(cg *consumergroup.Group, before int32) {
	if cg.Epoch() > before {
		c.rebalances.Add(1)
	}
}

// count adds a consumer fetch's answer to its topics' counters; follower
// fetches are replication, not client traffic.
func (op *fetchOp) count(results []fetchResult) {
	if op.replicaID >= 0 {
		return
	}
	for i := range results {
		r := &results[i]
		name := r.target.topic
		if r.p != nil {
			name = r.p.topic
		}
		op.b.topicStats.get(name).fetched(r.records.Len(), r.errCode != 0)
		if r.fromFollower {
			op.b.readReplicas.servedBytes.Add(uint64(r.records.Len()))
		}
	}
}

// onISRChange is a metadata publisher: it counts ISR shrinks and expands of
// the partitions this broker leads (Kafka's IsrShrinksPerSec and
// IsrExpandsPerSec), logs the changes (metadata_changes.go) and drops the
// traffic counters of deleted topics.
func (b *Broker) onISRChange(prev, next *metadata.Image, ch metadata.TopicChanges) {
	self := b.cfg.NodeID
	for _, ct := range ch.Changed {
		old := prev.Topics.ByID(ct.Topic.ID)
		if old == nil {
			continue
		}
		for _, id := range ct.Partitions {
			np, op := ct.Topic.Partition(id), old.Partition(id)
			if np == nil || op == nil || np.Leader != self || op.Leader != self {
				continue
			}
			for _, r := range op.ISR {
				if !slices.Contains(np.ISR, r) {
					b.isrCount.shrinks.Add(1)
					break
				}
			}
			for _, r := range np.ISR {
				if !slices.Contains(op.ISR, r) {
					b.isrCount.expands.Add(1)
					break
				}
			}
		}
	}
	b.logChanges(prev, next, ch)
	if len(ch.Deleted) > 0 {
		b.topicStats.forget(func(name string) bool { return next.Topics.ByName(name) != nil })
	}
}
