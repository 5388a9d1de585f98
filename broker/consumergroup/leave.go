package consumergroup

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/group"
)

// leave handles a heartbeat with epoch -1 (leave) or -2 (a static member
// leaves for now: it keeps its instance id and partitions until its
// session ends or it comes back).
func (g *Group) leave(id group.ReqID, r *kmsg.ConsumerGroupHeartbeatRequest, now time.Time) Out {
	resp := r.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
	var m *Member
	if r.InstanceID == nil {
		if m = g.members[r.MemberID]; m == nil {
			return failHeartbeat(id, resp, fail(kerr.UnknownMemberID, "Member %s is not a member of group %s.", r.MemberID, g.ID))
		}
	} else {
		if m = g.staticMember(*r.InstanceID); m == nil {
			return failHeartbeat(id, resp, fail(kerr.UnknownMemberID, "Instance id %s is unknown.", *r.InstanceID))
		}
		if m.ID != r.MemberID {
			return failHeartbeat(id, resp, fail(kerr.FencedInstanceID, "Static member %s with instance id %s was fenced by member %s.", r.MemberID, *r.InstanceID, m.ID))
		}
	}
	resp.MemberID = &m.ID
	resp.MemberEpoch = r.MemberEpoch
	reply := func(o *Out, err *kerr.Error) {
		if err != nil {
			resp.ErrorCode = err.Code
		}
		o.reply(id, resp)
	}
	if r.MemberEpoch == LeaveStaticEpoch {
		var out Out
		next := m.clone()
		next.Epoch, next.Revoking = LeaveStaticEpoch, Assignment{}
		g.putMember(next)
		g.disarm(&out, TimerKey{TimerRebalance, m.ID})
		g.write(&out, []group.Record{currentRecord(g.ID, next)}, reply)
		return out
	}
	return g.fence(m, nil, now, reply)
}
