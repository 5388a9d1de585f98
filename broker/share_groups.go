package broker

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"go.uber.org/zap"

	"spool/broker/group"
	"spool/broker/sharegroup"
	"spool/config"
	"spool/controller/metadata"
)

// shareKey names one share-partition: a share group's view of one
// partition.
type shareKey struct {
	group     string
	topicID   [16]byte
	partition int32
}

// shareManager runs share groups (KIP-932) on this broker: the
// memberships of the share groups it coordinates, the share-partitions
// of the partitions it leads, and the share sessions of the members
// fetching from it. One ticker expires acquisition locks, members and
// idle sessions.
type shareManager struct {
	b   *Broker
	log *zap.Logger
	cfg sharegroup.Config
	// tick is how often locks and sessions are checked; a lock outlives
	// its duration by at most this much.
	tick time.Duration

	mu       sync.Mutex
	groups   map[string]*sharegroup.Group
	parts    map[shareKey]*sharePart
	sessions map[shareSessionKey]*shareSession
	// known lists share groups found in state files; scanned the
	// partitions whose directories were read for them.
	known   map[string]struct{}
	scanned map[*partition]struct{}

	counts shareCounts

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func shareGroupConfig(s *config.Config) sharegroup.Config {
	ms := func(name string) time.Duration { return time.Duration(s.Int(name)) * time.Millisecond }
	cfg := sharegroup.DefaultConfig()
	cfg.SessionTimeout = ms("group.share.session.timeout.ms")
	cfg.HeartbeatInterval = ms("group.share.heartbeat.interval.ms")
	cfg.MaxSize = int(s.Int("group.share.max.size"))
	cfg.LockDuration = ms("group.share.record.lock.duration.ms")
	cfg.DeliveryLimit = int16(s.Int("group.share.delivery.count.limit"))
	cfg.MaxRecordLocks = int(s.Int("group.share.partition.max.record.locks"))
	return cfg
}

func newShareManager(b *Broker) *shareManager {
	m := &shareManager{
		b: b, log: b.log.Named("shares"), cfg: shareGroupConfig(b.cfg.Static), tick: 100 * time.Millisecond,
		groups: map[string]*sharegroup.Group{}, parts: map[shareKey]*sharePart{}, sessions: map[shareSessionKey]*shareSession{},
		known: map[string]struct{}{}, scanned: map[*partition]struct{}{},
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.wg.Add(1)
	go func() { defer m.wg.Done(); m.run(ctx) }()
	return m
}

func (m *shareManager) close() {
	m.cancel()
	m.wg.Wait()
}

func (m *shareManager) run(ctx context.Context) {
	t := time.NewTicker(m.tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			m.expire(now)
		}
	}
}

// expire removes members whose session ran out and idle share sessions,
// releasing what they hold, then releases records whose lock ran out.
func (m *shareManager) expire(now time.Time) {
	m.mu.Lock()
	type gone struct{ group, member string }
	var left []gone
	for id, g := range m.groups {
		for _, member := range g.Expire(now) {
			left = append(left, gone{id, member})
		}
		if g.Len() == 0 && !m.hasPartitions(id) {
			delete(m.groups, id)
		}
	}
	for k, s := range m.sessions {
		if now.Sub(s.used) >= m.cfg.SessionTimeout {
			delete(m.sessions, k)
			left = append(left, gone(k))
		}
	}
	parts := make([]*sharePart, 0, len(m.parts))
	for _, sp := range m.parts {
		parts = append(parts, sp)
	}
	m.mu.Unlock()
	for _, l := range left {
		m.releaseMember(l.group, l.member)
	}
	for _, sp := range parts {
		sp.expireLocks(m, now)
	}
}

// hasPartitions reports share-partitions of group on this broker; m.mu
// is held.
func (m *shareManager) hasPartitions(group string) bool {
	for k := range m.parts {
		if k.group == group {
			return true
		}
	}
	return false
}

// releaseMember makes what member holds in group's share-partitions here
// available again.
func (m *shareManager) releaseMember(group, member string) {
	m.mu.Lock()
	var parts []*sharePart
	for k, sp := range m.parts {
		if k.group == group {
			parts = append(parts, sp)
		}
	}
	m.mu.Unlock()
	for _, sp := range parts {
		sp.releaseMember(m, member)
	}
}

// coordinates checks that this broker is groupID's coordinator and that
// the id does not name a classic or consumer group.
func (m *shareManager) coordinates(groupID string) (*kerr.Error, string) {
	c := m.b.groups
	cl, err := c.lookup(groupID, false)
	if err != nil {
		return err, ""
	}
	if cl != nil {
		cl.mu.Lock()
		other := !cl.gone && (cl.cg != nil || cl.g.State() != group.Empty)
		cl.mu.Unlock()
		if other {
			return kerr.GroupIDNotFound, notShareGroup(groupID)
		}
	}
	return nil, ""
}

// group finds or creates a share group; m.mu is held.
func (m *shareManager) group(id string) *sharegroup.Group {
	g := m.groups[id]
	if g == nil {
		g = sharegroup.NewGroup(id)
		m.groups[id] = g
	}
	return g
}

// groupConfig is group's settings: the broker's group.share.* configs
// with the group's own share.* configs (resource type GROUP) applied. It
// is read on every use, so a change applies at once.
func (m *shareManager) groupConfig(group string) sharegroup.Config {
	cfg := m.cfg
	own := m.b.Image().Configs[metadata.ConfigResource{Type: metadata.ConfigResourceGroup, Name: group}]
	for name, v := range own {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue // share.auto.offset.reset: see startOffset
		}
		switch name {
		case "share.record.lock.duration.ms":
			cfg.LockDuration = time.Duration(n) * time.Millisecond
		case "share.delivery.count.limit":
			cfg.DeliveryLimit = int16(n)
		}
	}
	return cfg
}

// startOffset is where group starts a share-partition of p it never
// fetched, as its share.auto.offset.reset says.
func (m *shareManager) startOffset(group string, p *partition) (int64, error) {
	own := m.b.Image().Configs[metadata.ConfigResource{Type: metadata.ConfigResourceGroup, Name: group}]
	strategy, d, err := config.ParseShareReset(own["share.auto.offset.reset"])
	if own["share.auto.offset.reset"] == "" || err != nil {
		strategy = "latest" // the controller stores only valid values
	}
	switch strategy {
	case "earliest":
		return p.log.LogStartOffset(), nil
	case "by_duration":
		off, _, ok, err := p.log.OffsetForTimestamp(time.Now().Add(-d).UnixMilli())
		if err != nil {
			return 0, err
		}
		if ok {
			return off, nil
		}
	}
	return p.HighWatermark(), nil
}
