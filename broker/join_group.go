package broker

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/group"
	"spool/protocol"
)

// handleJoinGroup feeds a JoinGroup to the group; the answer usually waits
// for the rebalance's join phase to end.
func (b *Broker) handleJoinGroup(req *protocol.Request, respond func(protocol.Response)) {
	r := detach(req).(*kmsg.JoinGroupRequest)
	fail := func(err *kerr.Error) {
		resp := r.ResponseKind().(*kmsg.JoinGroupResponse)
		resp.ErrorCode, resp.Generation, resp.MemberID = err.Code, -1, r.MemberID
		respond(protocol.Msg(resp))
	}
	if r.Group == "" {
		fail(kerr.InvalidGroupID)
		return
	}
	cid, host := clientID(req), clientHost(req)
	// A consumer group with members speaks the other protocol; an empty
	// one gives its id to the classic group.
	found, err := b.groups.doCell(r.Group, true, replyWith(respond), b.groups.classicEvent(true, kerr.InconsistentGroupProtocol, func(g *group.Group, id group.ReqID, now time.Time) group.Out {
		return g.Join(id, r, cid, host, now)
	}))
	if err != nil {
		fail(err)
	} else if !found {
		fail(kerr.UnknownMemberID)
	}
}
