package broker

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/group"
	"spool/protocol"
)

// handleSyncGroup feeds a SyncGroup to the group; followers wait for the
// leader's assignment.
func (b *Broker) handleSyncGroup(req *protocol.Request, respond func(protocol.Response)) {
	r := detach(req).(*kmsg.SyncGroupRequest)
	fail := func(err *kerr.Error) {
		resp := r.ResponseKind().(*kmsg.SyncGroupResponse)
		resp.ErrorCode = err.Code
		respond(protocol.Msg(resp))
	}
	if r.Group == "" {
		fail(kerr.InvalidGroupID)
		return
	}
	found, err := b.groups.doCell(r.Group, false, replyWith(respond), b.groups.classicEvent(false, kerr.UnknownMemberID, func(g *group.Group, id group.ReqID, now time.Time) group.Out {
		return g.Sync(id, r, now)
	}))
	if err != nil {
		fail(err)
	} else if !found {
		fail(kerr.UnknownMemberID)
	}
}
