package consumergroup

import (
	"fmt"
	"time"

	"spool/broker/group"
)

// Loader rebuilds the consumer groups of one __consumer_offsets partition
// by replaying its records in log order; records of other kinds (offsets,
// classic groups) are left to group.Loader.
type Loader struct {
	cfg    func(groupID string) *Config
	groups map[string]*Group
}

// NewLoader starts a replay; cfg gives each group its settings.
func NewLoader(cfg func(groupID string) *Config) *Loader {
	return &Loader{cfg: cfg, groups: map[string]*Group{}}
}

func (l *Loader) group(id string) *Group {
	g := l.groups[id]
	if g == nil {
		g = New(id, l.cfg(id))
		l.groups[id] = g
	}
	return g
}

func (l *Loader) member(g *Group, id string) *Member {
	m := g.members[id]
	if m == nil {
		m = &Member{ID: id, Assigned: Assignment{}, Revoking: Assignment{}}
		g.members[id] = m
	}
	return m
}

// Apply replays one record; it ignores records that are not a consumer
// group's.
func (l *Loader) Apply(r group.Record) error {
	if !IsConsumerGroupRecord(r.Key) {
		return nil
	}
	k, err := parseKey(r.Key)
	if err != nil {
		return fmt.Errorf("replay consumer group record: %w", err)
	}
	if r.Value == nil {
		l.applyTombstone(k)
		return nil
	}
	g := l.group(k.group)
	switch k.typ {
	case TypeGroupMetadata:
		g.epoch, g.metadataHash, err = readGroupEpoch(r.Value)
	case TypeMemberMetadata:
		err = readMember(r.Value, l.member(g, k.second))
	case TypeTargetAssignmentMetadata:
		g.targetEpoch, g.targetAtMs, err = readTargetEpoch(r.Value)
	case TypeTargetAssignmentMember:
		var a Assignment
		if a, err = readTargetMember(r.Value); err == nil {
			g.target[k.second] = a
		}
	case TypeCurrentMemberAssignment:
		err = readCurrent(r.Value, l.member(g, k.second))
	case TypeRegularExpression:
		var rr resolvedRegex
		if rr, err = readRegex(r.Value); err == nil {
			g.regexes[k.second] = rr
		}
	}
	if err != nil {
		return fmt.Errorf("replay consumer group %s: %w", k.group, err)
	}
	return nil
}

func (l *Loader) applyTombstone(k parsedKey) {
	g := l.groups[k.group]
	if g == nil {
		return
	}
	switch k.typ {
	case TypeGroupMetadata:
		delete(l.groups, k.group)
	case TypeMemberMetadata:
		delete(g.members, k.second)
	case TypeTargetAssignmentMember:
		delete(g.target, k.second)
	case TypeCurrentMemberAssignment:
		if m := g.members[k.second]; m != nil {
			m.Epoch, m.PreviousEpoch, m.State = 0, 0, Stable
			m.Assigned, m.Revoking = Assignment{}, Assignment{}
		}
	case TypeRegularExpression:
		delete(g.regexes, k.second)
	}
}

// Groups ends the replay: the loaded groups and, for each, the timers to
// set. Members of a loaded group must heartbeat within their session
// timeout from now, as after any coordinator move.
func (l *Loader) Groups(now time.Time) (map[string]*Group, map[string]Out) {
	outs := map[string]Out{}
	for id, g := range l.groups {
		members := g.members
		g.members, g.static, g.owners = map[string]*Member{}, map[string]string{}, map[Uuid]map[int32]int32{}
		var out Out
		for _, m := range members {
			g.putMember(m)
			g.arm(&out, TimerKey{TimerSession, m.ID}, now.Add(g.sessionTimeout(m)))
			if m.State == UnrevokedPartitions && !m.UsesClassic() {
				m.rebalanceEpoch = m.Epoch
				g.arm(&out, TimerKey{TimerRebalance, m.ID}, now.Add(m.RebalanceTimeout))
			}
		}
		if g.epoch > g.targetEpoch {
			g.arm(&out, TimerKey{Kind: TimerAssign}, now)
		}
		outs[id] = out
	}
	return l.groups, outs
}

// sessionTimeout is the member's: the classic protocol's own, or the
// group's.
func (g *Group) sessionTimeout(m *Member) time.Duration {
	if m.Classic != nil {
		return m.Classic.SessionTimeout
	}
	return g.cfg.SessionTimeout
}
