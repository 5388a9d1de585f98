package broker

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/group"
	"spool/protocol"
)

func (b *Broker) handleHeartbeat(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.HeartbeatRequest)
	answer := func(err *kerr.Error) {
		resp := r.ResponseKind().(*kmsg.HeartbeatResponse)
		if err != nil {
			resp.ErrorCode = err.Code
		}
		respond(protocol.Msg(resp))
	}
	if r.Group == "" {
		answer(kerr.InvalidGroupID)
		return
	}
	found, err := b.groups.doCell(r.Group, false, replyWith(respond), b.groups.classicEvent(false, kerr.UnknownMemberID, func(g *group.Group, id group.ReqID, now time.Time) group.Out {
		return g.Heartbeat(id, r, now)
	}))
	switch {
	case err == kerr.CoordinatorLoadInProgress:
		// As Kafka does: the member's session restarts once the group
		// is loaded, so nothing is lost by answering yes.
		answer(nil)
	case err != nil:
		answer(err)
	case !found:
		answer(kerr.UnknownMemberID)
	}
}
