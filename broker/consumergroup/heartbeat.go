package consumergroup

import (
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/group"
)

// Heartbeat handles a ConsumerGroupHeartbeat that ValidateHeartbeat
// accepted: it joins, rejoins, updates or removes a member, bumps the
// group epoch when subscriptions or their topics change, computes a new
// target assignment when one is due, and moves the member one step from
// what it owns towards its target. The answer waits for the records.
func (g *Group) Heartbeat(id group.ReqID, r *kmsg.ConsumerGroupHeartbeatRequest, c Client, topics Topics, now time.Time) Out {
	if r.MemberEpoch == LeaveEpoch || r.MemberEpoch == LeaveStaticEpoch {
		return g.leave(id, r, now)
	}
	var out Out
	g.topics = topics
	resp := r.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
	memberID := r.MemberID
	if memberID == "" {
		memberID = g.cfg.newID()
	}
	var recs []group.Record
	old, f := g.memberFor(memberID, r.InstanceID, r.MemberEpoch, owned(r.Topics), false, &recs)
	if f != nil {
		return failHeartbeat(id, resp, f)
	}
	upd := old.clone()
	upd.InstanceID = orKeep(r.InstanceID, upd.InstanceID)
	upd.RackID = orKeep(r.RackID, upd.RackID)
	if r.RebalanceTimeoutMillis != -1 {
		upd.RebalanceTimeout = ms(r.RebalanceTimeoutMillis)
	}
	upd.Assignor = orKeep(r.ServerAssignor, upd.Assignor)
	if r.SubscribedTopicNames != nil {
		upd.Topics = normalizeTopics(r.SubscribedTopicNames)
	}
	if r.SubscribedTopicRegex != nil {
		upd.Regex = r.SubscribedTopicRegex
	}
	upd.ClientID, upd.ClientHost, upd.Classic = c.ID, c.Host, nil
	bump, f := g.subscribe(old, upd, topics, now, &recs)
	if f != nil {
		return failHeartbeat(id, resp, f)
	}
	g.putMember(upd)
	g.bumpIfChanged(bump, topics, &recs)
	g.maybeAssign(topics, now, &recs, &out)
	m := g.reconcile(upd, owned(r.Topics), now, &recs, &out)
	g.arm(&out, TimerKey{TimerSession, m.ID}, now.Add(g.cfg.SessionTimeout))

	resp.MemberID = &m.ID
	resp.MemberEpoch = m.Epoch
	resp.HeartbeatIntervalMillis = int32(g.cfg.HeartbeatInterval.Milliseconds())
	full := r.MemberEpoch == 0 || (r.RebalanceTimeoutMillis != -1 && r.SubscribedTopicNames != nil && r.Topics != nil)
	if full || !m.Assigned.Equal(old.Assigned) {
		resp.Assignment = responseAssignment(m.Assigned)
	}
	g.write(&out, recs, func(o *Out, err *kerr.Error) {
		if err != nil {
			*resp = *r.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
			resp.ErrorCode = err.Code
		}
		o.reply(id, resp)
	})
	return out
}

func failHeartbeat(id group.ReqID, resp *kmsg.ConsumerGroupHeartbeatResponse, f *Failure) Out {
	var out Out
	resp.ErrorCode = f.Err.Code
	resp.ErrorMessage = &f.Msg
	out.reply(id, resp)
	return out
}

// HeartbeatError answers a heartbeat that reaches no group.
func HeartbeatError(r *kmsg.ConsumerGroupHeartbeatRequest, f *Failure) *kmsg.ConsumerGroupHeartbeatResponse {
	resp := r.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
	resp.ErrorCode = f.Err.Code
	if f.Msg != "" {
		resp.ErrorMessage = &f.Msg
	}
	return resp
}

// UnknownGroup is the failure for a heartbeat other than a join to a
// group that does not exist, with Kafka's message.
func UnknownGroup(r *kmsg.ConsumerGroupHeartbeatRequest) *Failure {
	if r.MemberEpoch < 0 {
		return fail(kerr.GroupIDNotFound, "Group %s not found.", r.Group)
	}
	return fail(kerr.GroupIDNotFound, "Consumer group %s not found.", r.Group)
}

// memberFor finds or creates the member a request speaks for (Kafka's
// getOrMaybeSubscribe*Member), replacing a static member that rejoins
// under a new id. classic says the request is a classic JoinGroup.
func (g *Group) memberFor(memberID string, instanceID *string, epoch int32, owned []OwnedTopic, classic bool, recs *[]group.Record) (*Member, *Failure) {
	if len(g.members) >= g.cfg.MaxSize && g.members[memberID] == nil {
		return nil, fail(kerr.GroupMaxSizeReached, "The consumer group has reached its maximum capacity of %d members.", g.cfg.MaxSize)
	}
	join := epoch == 0 || classic
	if instanceID == nil {
		m := g.members[memberID]
		if m == nil {
			if !join {
				return nil, fail(kerr.UnknownMemberID, "Member %s is not a member of group %s.", memberID, g.ID)
			}
			return &Member{ID: memberID, Assigned: Assignment{}, Revoking: Assignment{}}, nil
		}
		if !classic && epoch != 0 {
			if f := checkEpoch(m, epoch, owned); f != nil {
				return nil, f
			}
		}
		return m, nil
	}
	existing := g.staticMember(*instanceID)
	if !join {
		if existing == nil {
			return nil, fail(kerr.UnknownMemberID, "Instance id %s is unknown.", *instanceID)
		}
		if existing.ID != memberID {
			return nil, fail(kerr.FencedInstanceID, "Static member %s with instance id %s was fenced by member %s.", memberID, *instanceID, existing.ID)
		}
		if f := checkEpoch(existing, epoch, owned); f != nil {
			return nil, f
		}
		return existing, nil
	}
	if existing == nil {
		if m := g.members[memberID]; m != nil {
			return m, nil
		}
		return &Member{ID: memberID, Assigned: Assignment{}, Revoking: Assignment{}}, nil
	}
	if existing.ID == memberID {
		return existing, nil
	}
	if !classic && !existing.UsesClassic() && existing.Epoch != LeaveStaticEpoch {
		return nil, fail(kerr.UnreleasedInstanceID, "Static member %s with instance id %s cannot join the group because the instance id is owned by %s member.", memberID, *instanceID, existing.ID)
	}
	return g.replaceStatic(existing, memberID, recs), nil
}

// replaceStatic moves a static member's assignment to its new member id.
func (g *Group) replaceStatic(old *Member, newID string, recs *[]group.Record) *Member {
	m := old.clone()
	m.ID, m.Epoch, m.PreviousEpoch = newID, 0, 0
	target := g.target[old.ID]
	*recs = append(*recs, g.removalRecords(old)...)
	g.dropMember(old.ID)
	*recs = append(*recs, memberRecord(g.ID, m), targetMemberRecord(g.ID, newID, target), currentRecord(g.ID, m))
	g.target[newID] = target
	g.putMember(m)
	return m
}

// checkEpoch is Kafka's member epoch check: a member may come back with
// its previous epoch if it owns no more than its assignment (the answer
// that bumped its epoch may have been lost).
func checkEpoch(m *Member, epoch int32, owned []OwnedTopic) *Failure {
	switch {
	case epoch > m.Epoch:
		return fail(kerr.FencedMemberEpoch, "The consumer group member has a greater member epoch (%d) than the one known by the group coordinator (%d). The member must abandon all its partitions and rejoin.", epoch, m.Epoch)
	case epoch < m.Epoch && (epoch != m.PreviousEpoch || owned == nil || !subsetOf(owned, m.Assigned)):
		return fail(kerr.FencedMemberEpoch, "The consumer group member has a smaller member epoch (%d) than the one known by the group coordinator (%d). The member must abandon all its partitions and rejoin.", epoch, m.Epoch)
	}
	return nil
}

func orKeep(v, cur *string) *string {
	if v != nil {
		s := *v
		return &s
	}
	return cur
}

func normalizeTopics(ts []string) []string {
	out := slices.Clone(ts)
	slices.Sort(out)
	return slices.Compact(out)
}

// owned converts the partitions a heartbeat reports; nil stays nil
// (unknown: the member did not say).
func owned(ts []kmsg.ConsumerGroupHeartbeatRequestTopic) []OwnedTopic {
	if ts == nil {
		return nil
	}
	out := make([]OwnedTopic, 0, len(ts))
	for _, t := range ts {
		out = append(out, OwnedTopic{TopicID: t.TopicID, Partitions: t.Partitions})
	}
	return out
}

func responseAssignment(a Assignment) *kmsg.ConsumerGroupHeartbeatResponseAssignment {
	ra := kmsg.NewConsumerGroupHeartbeatResponseAssignment()
	ra.Topics = []kmsg.ConsumerGroupHeartbeatResponseAssignmentTopic{}
	for _, id := range a.topicIDs() {
		t := kmsg.NewConsumerGroupHeartbeatResponseAssignmentTopic()
		t.TopicID, t.Partitions = id, slices.Clone(a[id])
		ra.Topics = append(ra.Topics, t)
	}
	return &ra
}
