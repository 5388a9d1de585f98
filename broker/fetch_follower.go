package broker

import (
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"spool/config"
	"spool/controller/metadata"
)

// readReplicas is follower fetching (KIP-392): the leader's choice of the
// replica a consumer reads from, and the count of what consumers read from
// this broker while it follows.
type readReplicas struct {
	// rackAware is replica.selector.class naming the rack-aware selector;
	// otherwise (empty, or the leader selector) consumers read the leader.
	rackAware bool
	// servedBytes counts record bytes served to consumers from replicas
	// this broker follows; redirects counts partitions the leader answered
	// with a preferred read replica instead of records.
	servedBytes, redirects atomic.Uint64
}

func rackAwareSelector(c *config.Config) bool {
	return c != nil && strings.EqualFold(strings.TrimSpace(c.Get("replica.selector.class")), config.RackAwareSelectorClass)
}

// consumerPartition finds the replica a consumer's fetch reads: the leader,
// or from v11 (which carries the client's rack) an in-sync follower, as
// Kafka serves fetches from followers only to clients that know of them.
// A follower that left the ISR answers NOT_LEADER_OR_FOLLOWER, which sends
// the consumer back to the leader instead of reading a lagging copy.
func (op *fetchOp) consumerPartition(t *metadata.Topic, id int32, clientEpoch int32) (*partition, bool, int16) {
	p, code := op.b.leaderPartition(t, id, clientEpoch)
	if code != kerr.NotLeaderForPartition.Code || op.version < 11 {
		return p, false, code
	}
	p = op.b.replicas.get(tp{t.Name, id})
	if p == nil {
		return nil, false, code
	}
	p.mu.RLock()
	inSync := slices.Contains(p.isr, op.b.cfg.NodeID) && p.leader >= 0
	p.mu.RUnlock()
	if !inSync {
		return nil, false, code
	}
	return p, true, 0
}

// preferredReadReplica is the follower the leader sends a consumer in rack
// to, or -1 to serve it here. As Kafka's RackAwareReplicaSelector: the
// leader itself when it is in the client's rack, otherwise the most
// caught-up in-sync follower of that rack (latest caught up on a tie)
// that already has the fetch offset and is reachable on the client's
// listener; the leader when there is none.
func (op *fetchOp) preferredReadReplica(img *metadata.Image, p *partition, offset int64) int32 {
	rack := op.rack
	if !op.b.readReplicas.rackAware || rack == "" || op.version < 11 {
		return -1
	}
	if self := img.Brokers[op.b.cfg.NodeID]; self != nil && self.Rack != nil && *self.Rack == rack {
		return -1
	}
	best, bestLeo, bestCaught := int32(-1), int64(-1), time.Time{}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.repl == nil {
		return -1
	}
	for id, f := range p.repl.followers {
		br := img.Brokers[id]
		if br == nil || br.Fenced || br.Rack == nil || *br.Rack != rack || !slices.Contains(p.isr, id) || f.leo < offset || f.logStart > offset {
			continue
		}
		if _, ok := br.Endpoint(op.listener); !ok {
			continue
		}
		if f.leo > bestLeo || (f.leo == bestLeo && f.lastCaughtUp.After(bestCaught)) || (f.leo == bestLeo && f.lastCaughtUp.Equal(bestCaught) && id < best) {
			best, bestLeo, bestCaught = id, f.leo, f.lastCaughtUp
		}
	}
	return best
}

// noteFollowerLogStart keeps the log start a follower reported, so the
// leader sends no consumer to a follower that no longer has its offset.
func (p *partition) noteFollowerLogStart(id int32, logStart int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.repl == nil {
		return
	}
	if f := p.repl.followers[id]; f != nil {
		f.logStart = logStart
	}
}

// redirect answers a partition with the preferred read replica and no
// records, as Kafka does, with the leader's offsets.
func (op *fetchOp) redirect(p *partition, res *fetchResult, to int32) {
	res.preferred = to
	res.hw, res.lso, res.logStart, res.p = p.HighWatermark(), p.lastStableOffset(), p.logStartOffset(), p
	op.b.readReplicas.redirects.Add(1)
}
