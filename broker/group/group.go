package group

import (
	"bytes"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Protocol is one assignment protocol a member supports, with its metadata
// (for "consumer", the subscription).
type Protocol struct {
	Name     string
	Metadata []byte
}

// Member is one member of a classic group.
type Member struct {
	ID               string
	InstanceID       *string
	ClientID         string
	ClientHost       string
	SessionTimeout   time.Duration
	RebalanceTimeout time.Duration
	ProtocolType     string
	Protocols        []Protocol
	Assignment       []byte

	join     *parked // a JoinGroup waiting for the join phase to end
	sync     *parked // a SyncGroup waiting for the leader's assignment
	deadline time.Time
}

// parked is a request whose answer waits for the group.
type parked struct {
	id      ReqID
	version int16
}

// metadataFor returns the member's metadata for protocol.
func (m *Member) metadataFor(protocol string) []byte {
	for _, p := range m.Protocols {
		if p.Name == protocol {
			return p.Metadata
		}
	}
	return nil
}

// sameProtocols reports whether ps is exactly what the member announced.
func (m *Member) sameProtocols(ps []Protocol) bool {
	return slices.EqualFunc(m.Protocols, ps, func(a, b Protocol) bool {
		return a.Name == b.Name && bytes.Equal(a.Metadata, b.Metadata)
	})
}

// Offset is a committed offset.
type Offset struct {
	Offset      int64
	LeaderEpoch int32
	Metadata    string
	CommitMs    int64
	// LogOffset is where the record that committed it sits in
	// __consumer_offsets, -1 when unknown. Of two commits of a partition
	// the one later in the log wins, whichever became visible first: a
	// transaction's offsets only apply when its marker arrives.
	LogOffset int64
}

// TopicPartition names a partition in a group's offsets.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Group is one classic group: its membership, rebalance state and
// committed offsets.
type Group struct {
	ID  string
	cfg *Config

	state        State
	stateSince   time.Time
	generation   int32
	protocolType string
	protocol     string
	leader       string
	members      map[string]*Member
	order        []string          // member ids in join order, for deterministic choices
	static       map[string]string // instance id -> member id
	pending      map[string]time.Time
	pendingSync  map[string]bool
	offsets      map[TopicPartition]Offset
	// txnOffsets are transactional offset commits waiting for their
	// transaction's marker, by producer id; OffsetFetch does not see them.
	txnOffsets map[int64]map[TopicPartition]Offset
	// tombstoned is the log offset of the newest durable offset tombstone
	// per partition while writes are in flight: a commit written before
	// it may become durable after it, and must not come back.
	tombstoned map[TopicPartition]int64

	// initialJoin is set while the first rebalance of an empty group waits
	// for more members (group.initial.rebalance.delay.ms).
	initialJoin     bool
	joinStarted     time.Time
	newMemberJoined bool
	joinDeadline    time.Time
	syncDeadline    time.Time

	armed     map[TimerKey]time.Time
	writes    map[uint64]*pendingWrite
	nextWrite uint64
}

// New returns an empty group.
func New(id string, cfg *Config, now time.Time) *Group {
	return &Group{
		ID: id, cfg: cfg, state: Empty, stateSince: now,
		members: map[string]*Member{}, static: map[string]string{},
		pending: map[string]time.Time{}, pendingSync: map[string]bool{},
		offsets: map[TopicPartition]Offset{}, txnOffsets: map[int64]map[TopicPartition]Offset{},
		armed: map[TimerKey]time.Time{}, writes: map[uint64]*pendingWrite{},
	}
}

// State is the group's current state.
func (g *Group) State() State { return g.state }

// Generation is the current generation id.
func (g *Group) Generation() int32 { return g.generation }

// ProtocolType is the group's protocol type ("consumer"), empty for a
// group that only commits offsets.
func (g *Group) ProtocolType() string { return g.protocolType }

// Protocol is the selected protocol, empty outside a generation.
func (g *Group) Protocol() string { return g.protocol }

// Leader is the leader's member id.
func (g *Group) Leader() string { return g.leader }

// Members lists the members in join order.
func (g *Group) Members() []*Member {
	out := make([]*Member, 0, len(g.order))
	for _, id := range g.order {
		out = append(out, g.members[id])
	}
	return out
}

// Offsets is the committed offsets; callers must not modify it.
func (g *Group) Offsets() map[TopicPartition]Offset { return g.offsets }

// Removable reports a group that holds nothing worth keeping: it never
// completed a rebalance, has no members, no offsets and no transactional
// offsets awaiting a marker. The caller may forget it.
func (g *Group) Removable() bool {
	if g.state == Dead {
		return len(g.writes) == 0
	}
	return g.state == Empty && g.generation == 0 && len(g.members) == 0 && len(g.pending) == 0 &&
		len(g.offsets) == 0 && len(g.txnOffsets) == 0 && len(g.writes) == 0
}

func (g *Group) setState(s State, now time.Time) {
	g.state, g.stateSince = s, now
}

// validateMember is Kafka's check of a member id and instance id.
func (g *Group) validateMember(memberID string, instanceID *string) *kerr.Error {
	if instanceID != nil {
		registered, ok := g.static[*instanceID]
		if !ok {
			return kerr.UnknownMemberID
		}
		if registered != memberID {
			return kerr.FencedInstanceID
		}
		return nil
	}
	if _, ok := g.members[memberID]; !ok {
		return kerr.UnknownMemberID
	}
	return nil
}

func (g *Group) addMember(m *Member) {
	if len(g.members) == 0 {
		g.protocolType = m.ProtocolType
	}
	g.members[m.ID] = m
	g.order = append(g.order, m.ID)
	if m.InstanceID != nil {
		g.static[*m.InstanceID] = m.ID
	}
	if g.leader == "" {
		g.leader = m.ID
	}
}

// removeMember forgets a member; parked requests must be answered first.
func (g *Group) removeMember(id string) {
	m := g.members[id]
	if m == nil {
		return
	}
	delete(g.members, id)
	g.order = slices.DeleteFunc(g.order, func(s string) bool { return s == id })
	if m.InstanceID != nil && g.static[*m.InstanceID] == id {
		delete(g.static, *m.InstanceID)
	}
	delete(g.pendingSync, id)
	delete(g.armed, TimerKey{TimerSession, id})
	if g.leader == id {
		g.leader = ""
		if len(g.order) > 0 {
			g.leader = g.order[0]
		}
	}
}

// rebalanceTimeout is the longest rebalance timeout of the members.
func (g *Group) rebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.RebalanceTimeout)
	}
	return d
}

// candidateProtocols are the protocols every member supports.
func (g *Group) candidateProtocols() []string {
	var out []string
	for i, id := range g.order {
		m := g.members[id]
		if i == 0 {
			for _, p := range m.Protocols {
				out = append(out, p.Name)
			}
			continue
		}
		out = slices.DeleteFunc(out, func(name string) bool { return !m.supports(name) })
	}
	return out
}

func (m *Member) supports(name string) bool {
	return slices.ContainsFunc(m.Protocols, func(p Protocol) bool { return p.Name == name })
}

// supportsProtocols is Kafka's check that a joining member can be part of
// the group.
func (g *Group) supportsProtocols(protocolType string, ps []Protocol) bool {
	if len(g.members) == 0 {
		return protocolType != "" && len(ps) > 0
	}
	if protocolType != g.protocolType {
		return false
	}
	cands := g.candidateProtocols()
	return slices.ContainsFunc(ps, func(p Protocol) bool { return slices.Contains(cands, p.Name) })
}

// selectProtocol is Kafka's rule: among the protocols every member
// supports, each member votes for the one it lists first; the most votes
// win. Ties go to the protocol that received a vote earliest in join order.
func (g *Group) selectProtocol() string {
	cands := g.candidateProtocols()
	votes := map[string]int{}
	var first []string
	for _, id := range g.order {
		for _, p := range g.members[id].Protocols {
			if slices.Contains(cands, p.Name) {
				if votes[p.Name] == 0 {
					first = append(first, p.Name)
				}
				votes[p.Name]++
				break
			}
		}
	}
	best := ""
	for _, name := range first {
		if best == "" || votes[name] > votes[best] {
			best = name
		}
	}
	return best
}
