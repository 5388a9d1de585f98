package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// prepareRebalance starts a join phase: members must rejoin within the
// rebalance timeout. The first rebalance of an empty group also waits
// group.initial.rebalance.delay.ms for more members, so a fleet of
// consumers starting together rebalances once.
func (g *Group) prepareRebalance(out *Out, now time.Time) {
	if g.state == CompletingRebalance {
		g.resetAssignments(out, kerr.RebalanceInProgress)
	}
	g.pendingSync = map[string]bool{}
	wasEmpty := g.state == Empty
	g.setState(PreparingRebalance, now)
	g.joinStarted = now
	g.newMemberJoined = false
	g.initialJoin = wasEmpty && g.cfg.InitialRebalanceDelay > 0
	if g.initialJoin {
		g.joinDeadline = now.Add(min(g.cfg.InitialRebalanceDelay, g.rebalanceTimeout()))
	} else {
		g.joinDeadline = now.Add(g.rebalanceTimeout())
	}
	g.arm(out, TimerKey{TimerJoin, ""}, g.joinDeadline)
	g.maybeCompleteJoin(out, now)
}

// resetAssignments answers waiting SyncGroups with err and forgets the
// assignment of the generation being abandoned.
func (g *Group) resetAssignments(out *Out, err *kerr.Error) {
	for _, id := range g.order {
		m := g.members[id]
		m.Assignment = nil
		if m.sync != nil {
			out.reply(m.sync.id, syncError(m.sync.version, err))
			m.sync = nil
		}
	}
}

// maybeCompleteJoin ends the join phase early once every member and every
// member id handed out has joined, except during the initial delay.
func (g *Group) maybeCompleteJoin(out *Out, now time.Time) {
	if g.state != PreparingRebalance || g.initialJoin || len(g.pending) > 0 {
		return
	}
	for _, m := range g.members {
		if m.join == nil {
			return
		}
	}
	g.completeJoin(out, now)
}

// completeJoin ends the join phase: dynamic members that did not rejoin
// are removed (static ones keep their place), the next generation starts
// and every waiting JoinGroup is answered, the leader with the members'
// metadata.
func (g *Group) completeJoin(out *Out, now time.Time) {
	for _, id := range append([]string(nil), g.order...) {
		if m := g.members[id]; m.join == nil && m.InstanceID == nil {
			g.dropMember(out, m)
		}
	}
	g.pending = map[string]time.Time{}
	if len(g.members) > 0 && !g.electJoinedLeader() {
		// Only static members that have not rejoined remain: wait another
		// round for them or for their sessions to expire.
		g.joinDeadline = now.Add(g.rebalanceTimeout())
		g.initialJoin = false
		g.arm(out, TimerKey{TimerJoin, ""}, g.joinDeadline)
		return
	}
	g.generation++
	g.initialJoin = false
	if len(g.members) == 0 {
		g.protocol, g.leader = "", ""
		g.setState(Empty, now)
		g.store(out, nil)
		return
	}
	g.protocol = g.selectProtocol()
	g.setState(CompletingRebalance, now)
	g.syncDeadline = now.Add(g.rebalanceTimeout())
	for _, id := range g.order {
		m := g.members[id]
		g.pendingSync[id] = true
		if m.join != nil {
			out.reply(m.join.id, g.joinResponse(m, m.join.version))
			m.join = nil
		}
		g.touch(out, m, now)
	}
	g.arm(out, TimerKey{TimerSync, ""}, g.syncDeadline)
}

// electJoinedLeader keeps the leader if it rejoined, else picks the first
// member that did; false if none did.
func (g *Group) electJoinedLeader() bool {
	if m := g.members[g.leader]; m != nil && m.join != nil {
		return true
	}
	for _, id := range g.order {
		if g.members[id].join != nil {
			g.leader = id
			return true
		}
	}
	return false
}

// joinResponse is the answer for m in the current generation.
func (g *Group) joinResponse(m *Member, version int16) *kmsg.JoinGroupResponse {
	resp := kmsg.NewPtrJoinGroupResponse()
	resp.SetVersion(version)
	pt, proto := g.protocolType, g.protocol
	resp.Generation, resp.ProtocolType, resp.Protocol = g.generation, &pt, &proto
	resp.LeaderID, resp.MemberID = g.leader, m.ID
	if m.ID == g.leader {
		resp.Members = g.memberList()
	}
	return resp
}

func (g *Group) memberList() []kmsg.JoinGroupResponseMember {
	out := make([]kmsg.JoinGroupResponseMember, 0, len(g.order))
	for _, id := range g.order {
		m := g.members[id]
		jm := kmsg.NewJoinGroupResponseMember()
		jm.MemberID, jm.InstanceID, jm.ProtocolMetadata = m.ID, m.InstanceID, m.metadataFor(g.protocol)
		out = append(out, jm)
	}
	return out
}

// dropMember answers m's waiting requests with UNKNOWN_MEMBER_ID and
// removes it.
func (g *Group) dropMember(out *Out, m *Member) {
	if m.join != nil {
		out.reply(m.join.id, joinError(m.join.version, m.ID, kerr.UnknownMemberID))
		m.join = nil
	}
	if m.sync != nil {
		out.reply(m.sync.id, syncError(m.sync.version, kerr.UnknownMemberID))
		m.sync = nil
	}
	g.removeMember(m.ID)
}

// removeAndRebalance removes a member that left or expired and moves the
// group on: a new rebalance, or an earlier end to the current join phase.
func (g *Group) removeAndRebalance(out *Out, m *Member, now time.Time) {
	g.dropMember(out, m)
	switch g.state {
	case Stable, CompletingRebalance:
		g.prepareRebalance(out, now)
	case PreparingRebalance:
		g.maybeCompleteJoin(out, now)
	}
}

func joinError(version int16, memberID string, err *kerr.Error) *kmsg.JoinGroupResponse {
	resp := kmsg.NewPtrJoinGroupResponse()
	resp.SetVersion(version)
	resp.ErrorCode, resp.Generation, resp.MemberID = err.Code, -1, memberID
	return resp
}

func syncError(version int16, err *kerr.Error) *kmsg.SyncGroupResponse {
	resp := kmsg.NewPtrSyncGroupResponse()
	resp.SetVersion(version)
	resp.ErrorCode = err.Code
	return resp
}
