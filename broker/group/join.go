package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// joinReq is a JoinGroup with its durations and protocols decoded.
type joinReq struct {
	id         ReqID
	r          *kmsg.JoinGroupRequest
	clientID   string
	clientHost string
	session    time.Duration
	rebalance  time.Duration
	protocols  []Protocol
}

// Join handles a JoinGroup from clientID at clientHost.
func (g *Group) Join(id ReqID, r *kmsg.JoinGroupRequest, clientID, clientHost string, now time.Time) Out {
	var out Out
	jr := &joinReq{id: id, r: r, clientID: clientID, clientHost: clientHost,
		session:   time.Duration(r.SessionTimeoutMillis) * time.Millisecond,
		rebalance: time.Duration(r.RebalanceTimeoutMillis) * time.Millisecond}
	if r.Version == 0 {
		jr.rebalance = jr.session // v0 has no rebalance timeout
	}
	for _, p := range r.Protocols {
		jr.protocols = append(jr.protocols, Protocol{Name: p.Name, Metadata: p.Metadata})
	}
	fail := func(err *kerr.Error) Out {
		out.reply(id, joinError(r.Version, r.MemberID, err))
		return out
	}
	switch {
	case jr.session < g.cfg.MinSessionTimeout || jr.session > g.cfg.MaxSessionTimeout:
		return fail(kerr.InvalidSessionTimeout)
	case g.state == Dead:
		// The group was deleted under the client: make it look up the
		// coordinator again, which sees a fresh group.
		return fail(kerr.CoordinatorNotAvailable)
	case !g.acceptJoining(r.MemberID):
		return fail(kerr.GroupMaxSizeReached)
	case !g.supportsProtocols(r.ProtocolType, jr.protocols):
		return fail(kerr.InconsistentGroupProtocol)
	}
	if r.MemberID == "" {
		g.joinUnknown(&out, jr, now)
	} else {
		g.joinKnown(&out, jr, now)
	}
	return out
}

// acceptJoining is Kafka's group.max.size rule: members already in the
// group (or already waiting to join) are always let back in.
func (g *Group) acceptJoining(memberID string) bool {
	m := g.members[memberID]
	switch g.state {
	case Empty, Dead:
		return true
	case PreparingRebalance:
		if m != nil && m.join != nil {
			return true
		}
		waiting := 0
		for _, m := range g.members {
			if m.join != nil {
				waiting++
			}
		}
		return waiting < g.cfg.MaxSize
	}
	return m != nil || len(g.members) < g.cfg.MaxSize
}

// joinUnknown handles a join without a member id: a static member takes
// over its instance's place; a dynamic member on v4+ first gets an id to
// come back with (KIP-394), so a client that loses the answer leaves no
// phantom member behind.
func (g *Group) joinUnknown(out *Out, jr *joinReq, now time.Time) {
	r := jr.r
	if r.InstanceID != nil {
		newID := g.cfg.NewMemberID(*r.InstanceID)
		if old, ok := g.static[*r.InstanceID]; ok {
			g.replaceStatic(out, jr, old, newID, now)
			return
		}
		g.addAndRebalance(out, jr, newID, now)
		return
	}
	newID := g.cfg.NewMemberID(jr.clientID)
	if r.Version >= 4 {
		deadline := now.Add(jr.session)
		g.pending[newID] = deadline
		g.arm(out, TimerKey{TimerPending, newID}, deadline)
		out.reply(jr.id, joinError(r.Version, newID, kerr.MemberIDRequired))
		return
	}
	g.addAndRebalance(out, jr, newID, now)
}

func (g *Group) joinKnown(out *Out, jr *joinReq, now time.Time) {
	r := jr.r
	if _, ok := g.pending[r.MemberID]; ok && r.InstanceID == nil {
		g.addAndRebalance(out, jr, r.MemberID, now)
		return
	}
	if err := g.validateMember(r.MemberID, r.InstanceID); err != nil {
		out.reply(jr.id, joinError(r.Version, r.MemberID, err))
		return
	}
	m := g.members[r.MemberID]
	switch g.state {
	case PreparingRebalance:
		g.updateAndRebalance(out, m, jr, now)
	case CompletingRebalance:
		// The member probably lost its JoinGroup answer: repeat it.
		if m.sameProtocols(jr.protocols) {
			out.reply(jr.id, g.joinResponse(m, r.Version))
			g.touch(out, m, now)
			return
		}
		g.updateAndRebalance(out, m, jr, now)
	case Stable:
		// A follower rejoining unchanged gets the current generation; the
		// leader rejoining means it wants a new assignment.
		if m.ID != g.leader && m.sameProtocols(jr.protocols) {
			out.reply(jr.id, g.joinResponse(m, r.Version))
			g.touch(out, m, now)
			return
		}
		g.updateAndRebalance(out, m, jr, now)
	default:
		out.reply(jr.id, joinError(r.Version, r.MemberID, kerr.UnknownMemberID))
	}
}

func (g *Group) addAndRebalance(out *Out, jr *joinReq, memberID string, now time.Time) {
	r := jr.r
	m := &Member{
		ID: memberID, InstanceID: r.InstanceID, ClientID: jr.clientID, ClientHost: jr.clientHost,
		SessionTimeout: jr.session, RebalanceTimeout: jr.rebalance,
		ProtocolType: r.ProtocolType, Protocols: jr.protocols,
		join: &parked{id: jr.id, version: r.Version},
	}
	delete(g.pending, memberID)
	delete(g.armed, TimerKey{TimerPending, memberID})
	g.addMember(m)
	g.touch(out, m, now)
	if g.state == PreparingRebalance && g.initialJoin {
		g.newMemberJoined = true
	}
	g.rebalanceOrComplete(out, now)
}

func (g *Group) updateAndRebalance(out *Out, m *Member, jr *joinReq, now time.Time) {
	m.Protocols, m.SessionTimeout, m.RebalanceTimeout = jr.protocols, jr.session, jr.rebalance
	m.ClientID, m.ClientHost = jr.clientID, jr.clientHost
	if m.join != nil {
		// A second join while one waits: the client gave up on the first.
		out.reply(m.join.id, joinError(m.join.version, m.ID, kerr.RebalanceInProgress))
	}
	m.join = &parked{id: jr.id, version: jr.r.Version}
	g.touch(out, m, now)
	g.rebalanceOrComplete(out, now)
}

func (g *Group) rebalanceOrComplete(out *Out, now time.Time) {
	if g.state == PreparingRebalance {
		g.maybeCompleteJoin(out, now)
		return
	}
	g.prepareRebalance(out, now)
}

// replaceStatic gives a rejoining static member a new member id and fences
// the old one (KIP-345). A stable group whose member comes back with the
// same protocols keeps its generation and assignment: no rebalance.
func (g *Group) replaceStatic(out *Out, jr *joinReq, oldID, newID string, now time.Time) {
	r := jr.r
	old := g.members[oldID]
	if old.join != nil {
		out.reply(old.join.id, joinError(old.join.version, oldID, kerr.FencedInstanceID))
	}
	if old.sync != nil {
		out.reply(old.sync.id, syncError(old.sync.version, kerr.FencedInstanceID))
	}
	m := *old
	m.ID, m.join, m.sync = newID, nil, nil
	m.ClientID, m.ClientHost = jr.clientID, jr.clientHost
	m.SessionTimeout, m.RebalanceTimeout = jr.session, jr.rebalance
	g.swapMember(oldID, &m)
	if g.state != Stable || !m.sameProtocols(jr.protocols) {
		g.updateAndRebalance(out, &m, jr, now)
		return
	}
	g.touch(out, &m, now)
	resp := g.joinResponse(&m, r.Version)
	resp.Members = nil
	if m.ID == g.leader {
		// v9 tells the leader to keep the current assignment; older
		// leaders get no members, so there is nothing to reassign.
		resp.SkipAssignment = true
		if r.Version >= 9 {
			resp.Members = g.memberList()
		}
	}
	gen := g.generation
	g.store(out, func(out *Out, err *kerr.Error, now time.Time) {
		if err != nil {
			out.reply(jr.id, joinError(r.Version, newID, err))
			return
		}
		if g.generation != gen {
			out.reply(jr.id, joinError(r.Version, newID, kerr.RebalanceInProgress))
			return
		}
		out.reply(jr.id, resp)
	})
}

// swapMember puts m in oldID's place: same position, leadership and
// pending sync.
func (g *Group) swapMember(oldID string, m *Member) {
	delete(g.members, oldID)
	g.members[m.ID] = m
	for i, id := range g.order {
		if id == oldID {
			g.order[i] = m.ID
		}
	}
	if m.InstanceID != nil {
		g.static[*m.InstanceID] = m.ID
	}
	if g.leader == oldID {
		g.leader = m.ID
	}
	if g.pendingSync[oldID] {
		delete(g.pendingSync, oldID)
		g.pendingSync[m.ID] = true
	}
	delete(g.armed, TimerKey{TimerSession, oldID})
}
