package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Leave removes members (one before v3, a batch from v3) and rebalances
// the rest.
func (g *Group) Leave(id ReqID, r *kmsg.LeaveGroupRequest, now time.Time) Out {
	var out Out
	resp := kmsg.NewPtrLeaveGroupResponse()
	resp.SetVersion(r.Version)
	out.reply(id, resp)
	if g.state == Dead {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return out
	}
	leaving := r.Members
	if r.Version < 3 {
		leaving = []kmsg.LeaveGroupRequestMember{{MemberID: r.MemberID}}
	}
	for _, lm := range leaving {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID = lm.MemberID, lm.InstanceID
		if err := g.leaveOne(&out, lm, now); err != nil {
			rm.ErrorCode = err.Code
		}
		resp.Members = append(resp.Members, rm)
	}
	if r.Version < 3 && len(resp.Members) == 1 {
		resp.ErrorCode, resp.Members = resp.Members[0].ErrorCode, nil
	}
	return out
}

func (g *Group) leaveOne(out *Out, lm kmsg.LeaveGroupRequestMember, now time.Time) *kerr.Error {
	if lm.InstanceID != nil {
		registered, ok := g.static[*lm.InstanceID]
		switch {
		case !ok:
			return kerr.UnknownMemberID
		case lm.MemberID != "" && lm.MemberID != registered:
			return kerr.FencedInstanceID
		}
		g.removeAndRebalance(out, g.members[registered], now)
		return nil
	}
	if _, ok := g.pending[lm.MemberID]; ok {
		delete(g.pending, lm.MemberID)
		if g.state == PreparingRebalance {
			g.maybeCompleteJoin(out, now)
		}
		return nil
	}
	m := g.members[lm.MemberID]
	if m == nil {
		return kerr.UnknownMemberID
	}
	g.removeAndRebalance(out, m, now)
	return nil
}
