package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Sync handles a SyncGroup. Followers wait for the leader's assignment;
// the leader's is persisted with the group before anyone is answered, so a
// new coordinator knows the generation.
func (g *Group) Sync(id ReqID, r *kmsg.SyncGroupRequest, now time.Time) Out {
	var out Out
	fail := func(err *kerr.Error) Out {
		out.reply(id, syncError(r.Version, err))
		return out
	}
	if g.state == Dead {
		return fail(kerr.CoordinatorNotAvailable)
	}
	if err := g.validateMember(r.MemberID, r.InstanceID); err != nil {
		return fail(err)
	}
	if r.Generation != g.generation {
		return fail(kerr.IllegalGeneration)
	}
	if r.ProtocolType != nil && *r.ProtocolType != g.protocolType || r.Protocol != nil && *r.Protocol != g.protocol {
		return fail(kerr.InconsistentGroupProtocol)
	}
	m := g.members[r.MemberID]
	switch g.state {
	case PreparingRebalance:
		return fail(kerr.RebalanceInProgress)
	case Stable:
		delete(g.pendingSync, m.ID)
		g.touch(&out, m, now)
		out.reply(id, g.syncResponse(m, r.Version))
		return out
	case CompletingRebalance:
	default:
		return fail(kerr.UnknownMemberID)
	}
	if m.sync != nil {
		out.reply(m.sync.id, syncError(m.sync.version, kerr.RebalanceInProgress))
	}
	m.sync = &parked{id: id, version: r.Version}
	delete(g.pendingSync, m.ID)
	g.touch(&out, m, now)
	if m.ID == g.leader {
		g.assign(&out, r.GroupAssignment)
	}
	return out
}

// assign records the leader's assignment and persists it; members the
// leader left out get an empty assignment.
func (g *Group) assign(out *Out, as []kmsg.SyncGroupRequestGroupAssignment) {
	byMember := make(map[string][]byte, len(as))
	for _, a := range as {
		byMember[a.MemberID] = a.MemberAssignment
	}
	for _, m := range g.members {
		m.Assignment = byMember[m.ID]
		if m.Assignment == nil {
			m.Assignment = []byte{}
		}
	}
	gen := g.generation
	g.store(out, func(out *Out, err *kerr.Error, now time.Time) {
		if g.state != CompletingRebalance || g.generation != gen {
			return // a new rebalance already answered the waiting syncs
		}
		if err != nil {
			g.resetAssignments(out, err)
			g.prepareRebalance(out, now)
			return
		}
		for _, id := range g.order {
			if m := g.members[id]; m.sync != nil {
				out.reply(m.sync.id, g.syncResponse(m, m.sync.version))
				m.sync = nil
			}
		}
		g.setState(Stable, now)
	})
}

func (g *Group) syncResponse(m *Member, version int16) *kmsg.SyncGroupResponse {
	resp := kmsg.NewPtrSyncGroupResponse()
	resp.SetVersion(version)
	pt, p := g.protocolType, g.protocol
	resp.ProtocolType, resp.Protocol = &pt, &p
	resp.MemberAssignment = m.Assignment
	if resp.MemberAssignment == nil {
		resp.MemberAssignment = []byte{}
	}
	return resp
}
