package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleConsumerGroupDescribe describes KIP-848 consumer groups; a
// classic group or an unknown id gets GROUP_ID_NOT_FOUND with Kafka's
// message, which tells admin clients to fall back to DescribeGroups.
func (b *Broker) handleConsumerGroupDescribe(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.ConsumerGroupDescribeRequest)
	resp := r.ResponseKind().(*kmsg.ConsumerGroupDescribeResponse)
	topics := b.groups.topics()
	for _, id := range r.Groups {
		dg := kmsg.NewConsumerGroupDescribeResponseGroup()
		dg.Group = id
		isConsumer := false
		found, err := b.groups.readCell(id, func(cl *cell) {
			if cl.cg != nil {
				dg, isConsumer = cl.cg.Describe(topics), true
			}
		})
		var msg string
		switch {
		case err != nil:
			dg.ErrorCode = err.Code
		case !found:
			dg.ErrorCode, msg = kerr.GroupIDNotFound.Code, "Group "+id+" not found."
		case !isConsumer:
			dg.ErrorCode, msg = kerr.GroupIDNotFound.Code, "Group "+id+" is not a consumer group."
		default:
			dg.AuthorizedOperations = authorizedOperations(r.IncludeAuthorizedOperations, groupOperations)
		}
		if msg != "" {
			dg.ErrorMessage = &msg
		}
		resp.Groups = append(resp.Groups, dg)
	}
	respond(protocol.Msg(resp))
}
