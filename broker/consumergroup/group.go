package consumergroup

import (
	"slices"
	"time"
)

// GroupState is a consumer group's state, as ListGroups and
// ConsumerGroupDescribe name it.
type GroupState int8

const (
	Empty GroupState = iota
	Assigning
	Reconciling
	StableGroup
	Dead
)

func (s GroupState) String() string {
	switch s {
	case Empty:
		return "Empty"
	case Assigning:
		return "Assigning"
	case Reconciling:
		return "Reconciling"
	case StableGroup:
		return "Stable"
	}
	return "Dead"
}

// Group is one consumer group's membership and assignment state. Its
// committed offsets live in the caller's group.Group of the same id.
type Group struct {
	ID  string
	cfg *Config

	epoch        int32 // the group epoch, bumped when subscriptions or their topics change
	metadataHash int64 // of the subscribed topics the epoch was computed against
	targetEpoch  int32 // the epoch of the target assignment
	targetAtMs   int64
	target       map[string]Assignment // member id -> target partitions
	members      map[string]*Member
	static       map[string]string // instance id -> member id
	regexes      map[string]resolvedRegex
	// owners maps each owned partition (assigned or being revoked) to its
	// owner's epoch: a partition is free to hand out only when absent.
	owners map[Uuid]map[int32]int32

	// topics is the view of the last event that had one, for events
	// (a leave) that come without.
	topics Topics

	armed     map[TimerKey]time.Time
	writes    map[uint64]*pendingWrite
	nextWrite uint64
	lastWrite *pendingWrite
	dead      bool
}

// New returns an empty consumer group.
func New(id string, cfg *Config) *Group {
	return &Group{
		ID: id, cfg: cfg, target: map[string]Assignment{}, members: map[string]*Member{},
		static: map[string]string{}, regexes: map[string]resolvedRegex{},
		owners: map[Uuid]map[int32]int32{}, armed: map[TimerKey]time.Time{},
		writes: map[uint64]*pendingWrite{},
	}
}

// SetConfig replaces the group's settings (a group config changed).
func (g *Group) SetConfig(cfg *Config) { g.cfg = cfg }

// Epoch is the group epoch.
func (g *Group) Epoch() int32 { return g.epoch }

// TargetEpoch is the epoch of the target assignment.
func (g *Group) TargetEpoch() int32 { return g.targetEpoch }

// State derives the group's state from its members and epochs.
func (g *Group) State() GroupState {
	switch {
	case g.dead:
		return Dead
	case len(g.members) == 0:
		return Empty
	case g.epoch > g.targetEpoch:
		return Assigning
	}
	for _, m := range g.members {
		if !m.reconciledTo(g.targetEpoch) {
			return Reconciling
		}
	}
	return StableGroup
}

// Member returns a member by id.
func (g *Group) Member(id string) *Member { return g.members[id] }

// Members lists the members sorted by id.
func (g *Group) Members() []*Member {
	out := make([]*Member, 0, len(g.members))
	for _, m := range g.members {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *Member) int { return compareStr(a.ID, b.ID) })
	return out
}

// Target is a member's target assignment.
func (g *Group) Target(memberID string) Assignment { return g.target[memberID] }

// Removable reports an empty group with no write in flight: the caller
// may drop it (its offsets stay in the classic group.Group).
func (g *Group) Removable() bool { return len(g.members) == 0 && len(g.writes) == 0 }

// AllClassicExcept reports whether every member other than id speaks the
// classic protocol.
func (g *Group) AllClassicExcept(id string) bool {
	for _, m := range g.members {
		if m.ID != id && !m.UsesClassic() {
			return false
		}
	}
	return true
}

// ownerEpoch is the epoch of the member owning a partition, -1 if free.
func (g *Group) ownerEpoch(id Uuid, p int32) int32 {
	if e, ok := g.owners[id][p]; ok {
		return e
	}
	return -1
}

// setOwned records m's owned partitions; call unsetOwned with the old
// member first.
func (g *Group) setOwned(m *Member) {
	for _, a := range []Assignment{m.Assigned, m.Revoking} {
		for id, ps := range a {
			o := g.owners[id]
			if o == nil {
				o = map[int32]int32{}
				g.owners[id] = o
			}
			for _, p := range ps {
				o[p] = m.Epoch
			}
		}
	}
}

func (g *Group) unsetOwned(m *Member) {
	for _, a := range []Assignment{m.Assigned, m.Revoking} {
		for id, ps := range a {
			o := g.owners[id]
			for _, p := range ps {
				delete(o, p)
			}
			if len(o) == 0 {
				delete(g.owners, id)
			}
		}
	}
}

// putMember adds or replaces a member, keeping the indexes true.
func (g *Group) putMember(m *Member) {
	if old := g.members[m.ID]; old != nil {
		g.unsetOwned(old)
		if old.InstanceID != nil && g.static[*old.InstanceID] == old.ID {
			delete(g.static, *old.InstanceID)
		}
	}
	g.members[m.ID] = m
	if m.InstanceID != nil {
		g.static[*m.InstanceID] = m.ID
	}
	g.setOwned(m)
}

// dropMember forgets a member and its target.
func (g *Group) dropMember(id string) {
	m := g.members[id]
	if m == nil {
		return
	}
	g.unsetOwned(m)
	if m.InstanceID != nil && g.static[*m.InstanceID] == id {
		delete(g.static, *m.InstanceID)
	}
	delete(g.members, id)
	delete(g.target, id)
}

// staticMember is the member holding an instance id.
func (g *Group) staticMember(instanceID string) *Member {
	if id, ok := g.static[instanceID]; ok {
		return g.members[id]
	}
	return nil
}

func compareStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
