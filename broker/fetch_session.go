package broker

import (
	"container/list"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/config"
)

// Fetch session epochs (KIP-227): 0 opens a session, -1 closes one and
// fetches without, anything else continues one.
const (
	sessionEpochInitial int32 = 0
	sessionEpochFinal   int32 = -1
)

// defaultSessionSlots is Kafka's max.incremental.fetch.session.cache.slots.
const defaultSessionSlots = 1000

// sessionKey names a partition in a session: by topic id for v13+ sessions,
// by name before.
type sessionKey struct {
	topic     string
	topicID   [16]byte
	partition int32
}

// sessionPartition is what a session remembers of one partition: the fetch
// parameters the client last sent, and the offsets it was last told, which
// decide whether an incremental response must mention the partition.
type sessionPartition struct {
	fetchTarget
	hw, lso, logStart int64
	rotate            bool // scratch for settle
}

// fetchSession is one client's incremental fetch session.
type fetchSession struct {
	id      int32
	usesIDs bool
	elem    *list.Element // place in the cache's LRU list, under its lock

	mu    sync.Mutex
	epoch int32 // the epoch the next request must carry
	parts map[sessionKey]*sessionPartition
	order []*sessionPartition
}

// fetchSessionCache holds the sessions of all clients, bounded in number;
// creating a session when full evicts the least recently used one.
type fetchSessionCache struct {
	mu    sync.Mutex
	slots int
	byID  map[int32]*fetchSession
	lru   list.List // front: most recently used
}

func newFetchSessionCache(slots int) *fetchSessionCache {
	return &fetchSessionCache{slots: slots, byID: map[int32]*fetchSession{}}
}

// sessionSlots reads max.incremental.fetch.session.cache.slots when the
// config table knows it.
func sessionSlots(static *config.Config) int {
	const name = "max.incremental.fetch.session.cache.slots"
	if static == nil || config.LookupBroker(name) == nil {
		return defaultSessionSlots
	}
	return int(static.Int(name))
}

// open applies the request's session fields to op: it picks the targets to
// read and the session the response belongs to. A non-zero code is a
// top-level error for the whole request.
func (c *fetchSessionCache) open(op *fetchOp, r *kmsg.FetchRequest) int16 {
	if r.Version < 7 || r.SessionEpoch == sessionEpochInitial || r.SessionEpoch == sessionEpochFinal {
		if r.Version >= 7 && r.SessionID != 0 {
			c.remove(r.SessionID)
		}
		op.targets = requestTargets(r)
		if r.Version < 7 || r.SessionEpoch == sessionEpochFinal {
			return 0
		}
		if s := c.create(r.Version >= 13); s != nil {
			s.mu.Lock()
			s.update(op.targets, nil)
			s.epoch = nextSessionEpoch(sessionEpochInitial)
			op.session, op.targets = s, s.targets()
			s.mu.Unlock()
		}
		return 0
	}
	s := c.get(r.SessionID)
	if s == nil {
		return kerr.FetchSessionIDNotFound.Code
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.epoch != r.SessionEpoch:
		return kerr.InvalidFetchSessionEpoch.Code
	case s.usesIDs != (r.Version >= 13):
		return kerr.FetchSessionTopicIDError.Code
	}
	s.update(requestTargets(r), r.ForgottenTopics)
	if len(s.order) == 0 {
		c.remove(s.id) // nothing left to follow: answer without a session
		return 0
	}
	s.epoch = nextSessionEpoch(s.epoch)
	op.session, op.incremental, op.targets = s, true, s.targets()
	return 0
}

// requestTargets lists the request's partitions in request order.
func requestTargets(r *kmsg.FetchRequest) []fetchTarget {
	n := 0
	for i := range r.Topics {
		n += len(r.Topics[i].Partitions)
	}
	out := make([]fetchTarget, 0, n)
	for i := range r.Topics {
		t := &r.Topics[i]
		for _, p := range t.Partitions {
			out = append(out, fetchTarget{
				topic: t.Topic, topicID: t.TopicID, partition: p.Partition,
				offset: p.FetchOffset, maxBytes: p.PartitionMaxBytes, epoch: p.CurrentLeaderEpoch,
				lastFetchedEpoch: p.LastFetchedEpoch, followerLogStart: p.LogStartOffset,
			})
		}
	}
	return out
}

func nextSessionEpoch(e int32) int32 {
	if e == math.MaxInt32 {
		return 1
	}
	return e + 1
}

func (c *fetchSessionCache) get(id int32) *fetchSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.byID[id]
	if s != nil {
		c.lru.MoveToFront(s.elem)
	}
	return s
}

func (c *fetchSessionCache) remove(id int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.byID[id]; s != nil {
		c.lru.Remove(s.elem)
		delete(c.byID, id)
	}
}

// create makes a session with a fresh random id, evicting the least
// recently used session if the cache is full; nil when sessions are off.
func (c *fetchSessionCache) create(usesIDs bool) *fetchSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.slots <= 0 {
		return nil
	}
	for len(c.byID) >= c.slots {
		old := c.lru.Remove(c.lru.Back()).(*fetchSession)
		delete(c.byID, old.id)
	}
	s := &fetchSession{usesIDs: usesIDs, parts: map[sessionKey]*sessionPartition{}}
	for s.id == 0 || c.byID[s.id] != nil {
		s.id = rand.Int32N(math.MaxInt32) + 1
	}
	s.elem = c.lru.PushFront(s)
	c.byID[s.id] = s
	return s
}

func (s *fetchSession) key(topic string, id [16]byte, partition int32) sessionKey {
	if s.usesIDs {
		return sessionKey{topicID: id, partition: partition}
	}
	return sessionKey{topic: topic, partition: partition}
}

// update adds or changes the requested partitions and drops the forgotten
// ones; with s.mu held.
func (s *fetchSession) update(ts []fetchTarget, forgotten []kmsg.FetchRequestForgottenTopic) {
	for _, t := range ts {
		k := s.key(t.topic, t.topicID, t.partition)
		if sp := s.parts[k]; sp != nil {
			sp.offset, sp.maxBytes, sp.epoch, sp.lastFetchedEpoch, sp.followerLogStart = t.offset, t.maxBytes, t.epoch, t.lastFetchedEpoch, t.followerLogStart
			continue
		}
		sp := &sessionPartition{fetchTarget: t, hw: -1, lso: -1, logStart: -1}
		s.parts[k] = sp
		s.order = append(s.order, sp)
	}
	if len(forgotten) == 0 {
		return
	}
	for _, f := range forgotten {
		for _, p := range f.Partitions {
			delete(s.parts, s.key(f.Topic, f.TopicID, p))
		}
	}
	kept := s.order[:0]
	for _, sp := range s.order {
		if s.parts[s.key(sp.topic, sp.topicID, sp.partition)] == sp {
			kept = append(kept, sp)
		}
	}
	clear(s.order[len(kept):])
	s.order = kept
}

// settle records what the response tells the client and returns the
// results to send: all of them for a full fetch, and for an incremental one
// only the partitions with records, an error or offsets the client has not
// seen. Partitions that returned records move to the back of the session,
// so that under MaxBytes the others get their turn, as in Kafka.
func (s *fetchSession) settle(results []fetchResult, incremental bool) []fetchResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := results[:0]
	rotated := 0
	for i := range results {
		r := &results[i]
		c := r.target.cached
		changed := r.records.Len() > 0 || r.errCode != 0 || r.hw != c.hw || r.lso != c.lso || r.logStart != c.logStart
		c.hw, c.lso, c.logStart = r.hw, r.lso, r.logStart
		if incremental && r.records.Len() > 0 {
			c.rotate = true
			rotated++
		}
		if !incremental || changed {
			kept = append(kept, *r)
		} else {
			r.records.Release()
		}
	}
	if rotated > 0 {
		s.rotate()
	}
	return kept
}

// rotate moves the partitions marked rotate to the back, keeping order.
func (s *fetchSession) rotate() {
	order := make([]*sessionPartition, 0, len(s.order))
	for _, sp := range s.order {
		if !sp.rotate {
			order = append(order, sp)
		}
	}
	for _, sp := range s.order {
		if sp.rotate {
			sp.rotate = false
			order = append(order, sp)
		}
	}
	s.order = order
}

// targets copies the session's partitions, in session order, for a read.
func (s *fetchSession) targets() []fetchTarget {
	out := make([]fetchTarget, len(s.order))
	for i, sp := range s.order {
		out[i] = sp.fetchTarget
		out[i].cached = sp
	}
	return out
}
