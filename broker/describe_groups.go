package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/group"
	"spool/protocol"
)

// handleDescribeGroups describes each group; an unknown one is Dead with
// no error, as Kafka answers before v6.
func (b *Broker) handleDescribeGroups(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.DescribeGroupsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, id := range r.Groups {
		var dg kmsg.DescribeGroupsResponseGroup
		found, err := b.groups.read(id, func(g *group.Group) { dg = g.Describe() })
		switch {
		case err != nil:
			dg = group.DescribeUnknown(id)
			dg.State, dg.ErrorCode = "", err.Code
		case !found:
			dg = group.DescribeUnknown(id)
		}
		if dg.ErrorCode == 0 {
			dg.AuthorizedOperations = authorizedOperations(r.IncludeAuthorizedOperations, groupOperations)
		}
		resp.Groups = append(resp.Groups, dg)
	}
	respond(protocol.Msg(resp))
}
