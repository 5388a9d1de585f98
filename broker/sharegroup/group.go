package sharegroup

import (
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Topic is what the assignor needs to know of a topic.
type Topic struct {
	ID         [16]byte
	Partitions int32
}

// Topics looks a topic up by name in the current metadata.
type Topics func(name string) (Topic, bool)

// Client names the connection a member heartbeats from.
type Client struct{ ID, Host string }

// Member is one share consumer of the group.
type Member struct {
	ID         string
	Epoch      int32
	Client     Client
	Rack       string
	Subscribed []string
	deadline   time.Time
	// assigned is the assignment last sent, topic by topic in name order.
	assigned []Assigned
}

// Assigned is a member's partitions of one topic.
type Assigned struct {
	Topic      string
	ID         [16]byte
	Partitions []int32
}

// Group is a share group's membership. The simple assignor gives every
// member every partition of the topics it subscribes to: share groups
// share partitions, and the share-partitions' locks keep members from
// getting the same records.
type Group struct {
	ID      string
	Epoch   int32
	members map[string]*Member
}

// NewGroup is an empty share group.
func NewGroup(id string) *Group { return &Group{ID: id, members: map[string]*Member{}} }

// Len counts the members.
func (g *Group) Len() int { return len(g.members) }

// Members lists the members by id.
func (g *Group) Members() []*Member {
	out := make([]*Member, 0, len(g.members))
	for _, m := range g.members {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Member finds a member.
func (g *Group) Member(id string) *Member { return g.members[id] }

// State is the group's state as ListGroups and ShareGroupDescribe name it.
func (g *Group) State() string {
	if len(g.members) == 0 {
		return "Empty"
	}
	return "Stable"
}

// Heartbeat serves one ShareGroupHeartbeat: a join (epoch 0), a heartbeat,
// or a leave (epoch -1). left names a member that left, so the caller can
// release what it holds.
func (g *Group) Heartbeat(r *kmsg.ShareGroupHeartbeatRequest, c Client, cfg Config, topics Topics, now time.Time) (resp *kmsg.ShareGroupHeartbeatResponse, left string) {
	resp = r.ResponseKind().(*kmsg.ShareGroupHeartbeatResponse)
	m := g.members[r.MemberID]
	switch {
	case r.MemberEpoch == -1:
		if m == nil {
			return heartbeatError(resp, kerr.UnknownMemberID, ""), ""
		}
		g.remove(m.ID)
		resp.MemberID, resp.MemberEpoch = &m.ID, -1
		return resp, m.ID
	case r.MemberEpoch == 0:
		if m == nil {
			if len(g.members) >= cfg.MaxSize {
				return heartbeatError(resp, kerr.GroupMaxSizeReached, "The share group has reached its maximum capacity of "+strconv.Itoa(cfg.MaxSize)+" members."), ""
			}
			m = &Member{ID: r.MemberID}
			g.members[m.ID] = m
		}
		// A rejoin (the client lost its epoch) gets its assignment again.
		m.assigned, m.Epoch = nil, 0
	case m == nil:
		return heartbeatError(resp, kerr.UnknownMemberID, ""), ""
	case r.MemberEpoch != m.Epoch:
		return heartbeatError(resp, kerr.FencedMemberEpoch, "The share group member has a stale member epoch."), ""
	}
	m.Client, m.deadline = c, now.Add(cfg.SessionTimeout)
	if r.RackID != nil {
		m.Rack = *r.RackID
	}
	if r.SubscribedTopicNames != nil {
		m.Subscribed = slices.Sorted(slices.Values(r.SubscribedTopicNames))
		m.Subscribed = slices.Compact(m.Subscribed)
	}
	target := assign(m.Subscribed, topics)
	changed := m.Epoch == 0 || !sameAssignment(m.assigned, target)
	if changed {
		g.Epoch++
		m.Epoch, m.assigned = g.Epoch, target
	}
	resp.MemberID, resp.MemberEpoch = &m.ID, m.Epoch
	resp.HeartbeatIntervalMillis = int32(cfg.HeartbeatInterval.Milliseconds())
	if changed {
		resp.Assignment = assignmentOf(target)
	}
	return resp, ""
}

// Expire removes the members whose session ran out and names them.
func (g *Group) Expire(now time.Time) []string {
	var gone []string
	for id, m := range g.members {
		if !now.Before(m.deadline) {
			gone = append(gone, id)
		}
	}
	sort.Strings(gone)
	for _, id := range gone {
		g.remove(id)
	}
	return gone
}

func (g *Group) remove(id string) {
	delete(g.members, id)
	g.Epoch++
}

// Subscribed lists the topics some member subscribes to.
func (g *Group) Subscribed() []string {
	var out []string
	for _, m := range g.members {
		out = append(out, m.Subscribed...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Assignment is the member's current assignment.
func (m *Member) Assignment() []Assigned { return m.assigned }

func assign(subscribed []string, topics Topics) []Assigned {
	var out []Assigned
	for _, name := range subscribed {
		t, ok := topics(name)
		if !ok || t.Partitions <= 0 {
			continue
		}
		a := Assigned{Topic: name, ID: t.ID, Partitions: make([]int32, t.Partitions)}
		for i := range a.Partitions {
			a.Partitions[i] = int32(i)
		}
		out = append(out, a)
	}
	return out
}

func sameAssignment(a, b []Assigned) bool {
	return slices.EqualFunc(a, b, func(x, y Assigned) bool {
		return x.ID == y.ID && slices.Equal(x.Partitions, y.Partitions)
	})
}

func assignmentOf(as []Assigned) *kmsg.ShareGroupHeartbeatResponseAssignment {
	out := kmsg.NewShareGroupHeartbeatResponseAssignment()
	out.TopicPartitions = []kmsg.ShareGroupHeartbeatResponseAssignmentTopicPartition{}
	for _, a := range as {
		tp := kmsg.NewShareGroupHeartbeatResponseAssignmentTopicPartition()
		tp.TopicID, tp.Partitions = a.ID, slices.Clone(a.Partitions)
		out.TopicPartitions = append(out.TopicPartitions, tp)
	}
	return &out
}

func heartbeatError(resp *kmsg.ShareGroupHeartbeatResponse, err *kerr.Error, msg string) *kmsg.ShareGroupHeartbeatResponse {
	resp.ErrorCode = err.Code
	if msg != "" {
		resp.ErrorMessage = &msg
	}
	return resp
}

// HeartbeatError is a response carrying only err.
func HeartbeatError(r *kmsg.ShareGroupHeartbeatRequest, err *kerr.Error, msg string) *kmsg.ShareGroupHeartbeatResponse {
	return heartbeatError(r.ResponseKind().(*kmsg.ShareGroupHeartbeatResponse), err, msg)
}

// Describe is the group as ShareGroupDescribe shows it; name gives each
// assigned topic's name.
func (g *Group) Describe() kmsg.ShareGroupDescribeResponseGroup {
	dg := kmsg.NewShareGroupDescribeResponseGroup()
	dg.GroupID, dg.GroupState = g.ID, g.State()
	dg.GroupEpoch, dg.AssignmentEpoch, dg.Assignor = g.Epoch, g.Epoch, "simple"
	for _, m := range g.Members() {
		dm := kmsg.NewShareGroupDescribeResponseGroupMember()
		dm.MemberID, dm.MemberEpoch = m.ID, m.Epoch
		dm.ClientID, dm.ClientHost = m.Client.ID, m.Client.Host
		if m.Rack != "" {
			dm.RackID = &m.Rack
		}
		dm.SubscribedTopicNames = slices.Clone(m.Subscribed)
		for _, a := range m.assigned {
			tp := kmsg.NewShareGroupDescribeResponseGroupMemberAssignmentTopicPartition()
			tp.TopicID, tp.Topic, tp.Partitions = a.ID, a.Topic, slices.Clone(a.Partitions)
			dm.Assignment.TopicPartitions = append(dm.Assignment.TopicPartitions, tp)
		}
		dg.Members = append(dg.Members, dm)
	}
	return dg
}
