package consumergroup

import (
	"slices"
	"time"

	"spool/broker/group"
)

// MemberState is a member's reconciliation state, with Kafka's numbers.
type MemberState int8

const (
	// Stable: the member owns its whole target assignment at its epoch.
	Stable MemberState = 0
	// UnrevokedPartitions: the member must revoke partitions first.
	UnrevokedPartitions MemberState = 1
	// UnreleasedPartitions: some target partitions are still owned by
	// other members.
	UnreleasedPartitions MemberState = 2
	// Unknown is a state this coordinator does not know (written by a
	// newer one); the member is fenced.
	Unknown MemberState = 127
)

func (s MemberState) String() string {
	switch s {
	case Stable:
		return "stable"
	case UnrevokedPartitions:
		return "unrevoked_partitions"
	case UnreleasedPartitions:
		return "unreleased_partitions"
	}
	return "unknown"
}

// Epochs a heartbeat carries to leave.
const (
	LeaveEpoch       int32 = -1 // leave the group
	LeaveStaticEpoch int32 = -2 // a static member leaves for now, keeping its instance id
)

// ClassicMetadata is kept for a member that still speaks the classic
// protocol (JoinGroup/SyncGroup/Heartbeat) inside a consumer group.
type ClassicMetadata struct {
	SessionTimeout time.Duration
	Protocols      []group.Protocol
}

// Member is one member of a consumer group.
type Member struct {
	ID               string
	InstanceID       *string
	RackID           *string
	ClientID         string
	ClientHost       string
	Topics           []string // subscribed topic names, sorted
	Regex            *string  // subscribed regular expression
	RebalanceTimeout time.Duration
	Assignor         *string
	Classic          *ClassicMetadata

	Epoch         int32
	PreviousEpoch int32
	State         MemberState
	Assigned      Assignment
	Revoking      Assignment

	// rebalanceEpoch is the epoch the rebalance timer guards.
	rebalanceEpoch int32
}

// UsesClassic reports a member that speaks the classic protocol.
func (m *Member) UsesClassic() bool { return m.Classic != nil }

// reconciledTo reports a member that owns its target at epoch.
func (m *Member) reconciledTo(epoch int32) bool {
	return m.State == Stable && m.Epoch == epoch
}

func (m *Member) clone() *Member {
	c := *m
	c.Topics = slices.Clone(m.Topics)
	c.Assigned = m.Assigned.Clone()
	c.Revoking = m.Revoking.Clone()
	return &c
}

// sameMetadata reports whether the persisted metadata of two members is
// equal (the ConsumerGroupMemberMetadata record).
func (m *Member) sameMetadata(o *Member) bool {
	return eqPtr(m.InstanceID, o.InstanceID) && eqPtr(m.RackID, o.RackID) &&
		m.ClientID == o.ClientID && m.ClientHost == o.ClientHost &&
		slices.Equal(m.Topics, o.Topics) && eqPtr(m.Regex, o.Regex) &&
		m.RebalanceTimeout == o.RebalanceTimeout && eqPtr(m.Assignor, o.Assignor) &&
		sameClassic(m.Classic, o.Classic)
}

// sameAssignmentState reports whether the persisted assignment state of
// two members is equal (the ConsumerGroupCurrentMemberAssignment record).
func (m *Member) sameAssignmentState(o *Member) bool {
	return m.Epoch == o.Epoch && m.PreviousEpoch == o.PreviousEpoch && m.State == o.State &&
		m.Assigned.Equal(o.Assigned) && m.Revoking.Equal(o.Revoking)
}

func sameClassic(a, b *ClassicMetadata) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.SessionTimeout == b.SessionTimeout && slices.EqualFunc(a.Protocols, b.Protocols,
		func(x, y group.Protocol) bool { return x.Name == y.Name && string(x.Metadata) == string(y.Metadata) })
}

func eqPtr(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func ms(v int32) time.Duration { return time.Duration(v) * time.Millisecond }
