package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/group"
	"spool/protocol"
)

// handleDescribeGroups describes each group; an unknown one is Dead, with
// GROUP_ID_NOT_FOUND from v6 on (KIP-1043) and no error before, as Kafka
// answers.
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
			if r.Version >= 6 {
				dg.ErrorCode = kerr.GroupIDNotFound.Code
			}
		}
		if dg.ErrorCode == 0 {
			dg.AuthorizedOperations = authorizedOperations(r.IncludeAuthorizedOperations, groupOperations)
		}
		resp.Groups = append(resp.Groups, dg)
	}
	respond(protocol.Msg(resp))
}
