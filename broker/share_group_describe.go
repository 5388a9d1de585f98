package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleShareGroupDescribe describes share groups: their members, member
// epochs and assignments. An id of another kind of group, or of no
// group, gets GROUP_ID_NOT_FOUND with Kafka's message.
func (b *Broker) handleShareGroupDescribe(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.ShareGroupDescribeRequest)
	resp := r.ResponseKind().(*kmsg.ShareGroupDescribeResponse)
	m := b.shares
	for _, id := range r.GroupIDs {
		dg := kmsg.NewShareGroupDescribeResponseGroup()
		dg.GroupID = id
		err, msg := m.coordinates(id)
		switch {
		case err != nil:
		case !m.isShareGroup(id):
			err, msg = kerr.GroupIDNotFound, "Group "+id+" not found."
		default:
			m.mu.Lock()
			if g := m.groups[id]; g != nil {
				dg = g.Describe()
			} else {
				dg.GroupState, dg.Assignor = "Empty", "simple"
			}
			m.mu.Unlock()
			dg.AuthorizedOperations = authorizedOperations(r.IncludeAuthorizedOperations, groupOperations)
		}
		if err != nil {
			dg.ErrorCode = err.Code
			if msg != "" {
				dg.ErrorMessage = &msg
			}
		}
		resp.Groups = append(resp.Groups, dg)
	}
	respond(protocol.Msg(resp))
}
