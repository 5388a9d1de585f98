package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/group"
	"spool/protocol"
)

// handleDescribeGroups describes each classic group; an unknown one is
// Dead, with GROUP_ID_NOT_FOUND from v6 on (KIP-1043) and no error before,
// as Kafka answers. A KIP-848 consumer group is Dead to it in the same way.
func (b *Broker) handleDescribeGroups(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.DescribeGroupsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, id := range r.Groups {
		var dg kmsg.DescribeGroupsResponseGroup
		if b.cfg.Authorizer.Enabled() && !b.allowed(req, aclDescribe, groupRT, id) {
			dg = group.DescribeUnknown(id)
			dg.State, dg.ErrorCode = "", groupRefused
			resp.Groups = append(resp.Groups, dg)
			continue
		}
		isConsumer := false
		found, err := b.groups.readCell(id, func(cl *cell) { dg, isConsumer = cl.g.Describe(), cl.cg != nil })
		switch {
		case isConsumer:
			// As Kafka: a consumer group is Dead to DescribeGroups, and
			// from v6 an error says why.
			dg = group.DescribeUnknown(id)
			if r.Version >= 6 {
				msg := "Group " + id + " is not a classic group."
				dg.ErrorCode, dg.ErrorMessage = kerr.GroupIDNotFound.Code, &msg
			}
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
			dg.AuthorizedOperations = b.authorizedOps(req, r.IncludeAuthorizedOperations, groupRT, id, groupOperations)
		}
		resp.Groups = append(resp.Groups, dg)
	}
	respond(protocol.Msg(resp))
}
