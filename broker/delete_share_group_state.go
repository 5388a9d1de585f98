package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleDeleteShareGroupState removes share-partitions' state (see
// share_state_api.go).
func (b *Broker) handleDeleteShareGroupState(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.DeleteShareGroupStateRequest)
	resp := r.ResponseKind().(*kmsg.DeleteShareGroupStateResponse)
	for _, t := range r.Topics {
		rt := kmsg.NewDeleteShareGroupStateResponseTopic()
		rt.TopicID = t.TopicID
		for _, tp := range t.Partitions {
			rp := kmsg.NewDeleteShareGroupStateResponseTopicPartition()
			rp.Partition = tp.Partition
			p, code := b.stateTarget(t.TopicID, tp.Partition)
			if code == 0 {
				code = b.shares.forget(r.GroupID, p)
			}
			rp.ErrorCode = code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	respond(protocol.Msg(resp))
}
