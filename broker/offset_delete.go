package broker

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/group"
	"spool/protocol"
)

// handleOffsetDelete removes committed offsets of topics the group no
// longer consumes.
func (b *Broker) handleOffsetDelete(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.OffsetDeleteRequest)
	found, err := b.groups.do(r.Group, false, replyWith(respond), func(g *group.Group, id group.ReqID, now time.Time) group.Out {
		return g.DeleteOffsets(id, r, now)
	})
	if err == nil && found {
		return
	}
	resp := r.ResponseKind().(*kmsg.OffsetDeleteResponse)
	resp.ErrorCode = kerr.GroupIDNotFound.Code
	if err != nil {
		resp.ErrorCode = err.Code
	}
	respond(protocol.Msg(resp))
}
