package broker

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/group"
	"spool/protocol"
)

func (b *Broker) handleLeaveGroup(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.LeaveGroupRequest)
	resp := r.ResponseKind().(*kmsg.LeaveGroupResponse)
	if r.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		respond(protocol.Msg(resp))
		return
	}
	found, err := b.groups.doCell(r.Group, false, replyWith(respond), b.groups.classicEvent(false, kerr.UnknownMemberID, func(g *group.Group, id group.ReqID, now time.Time) group.Out {
		return g.Leave(id, r, now)
	}))
	switch {
	case err != nil:
		resp.ErrorCode = err.Code
	case found:
		return
	case r.Version < 3:
		resp.ErrorCode = kerr.UnknownMemberID.Code
	default:
		// Kafka answers each member of an unknown group, not the request.
		for _, m := range r.Members {
			rm := kmsg.NewLeaveGroupResponseMember()
			rm.MemberID, rm.InstanceID, rm.ErrorCode = m.MemberID, m.InstanceID, kerr.UnknownMemberID.Code
			resp.Members = append(resp.Members, rm)
		}
	}
	respond(protocol.Msg(resp))
}
