package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleInitializeShareGroupState starts share-partitions at a start
// offset under a state epoch (see share_state_api.go).
func (b *Broker) handleInitializeShareGroupState(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.InitializeShareGroupStateRequest)
	resp := r.ResponseKind().(*kmsg.InitializeShareGroupStateResponse)
	for _, t := range r.Topics {
		rt := kmsg.NewInitializeShareGroupStateResponseTopic()
		rt.TopicID = t.TopicID
		for _, tp := range t.Partitions {
			rp := kmsg.NewInitializeShareGroupStateResponseTopicPartition()
			rp.Partition = tp.Partition
			p, code := b.stateTarget(t.TopicID, tp.Partition)
			if code == 0 {
				code = b.shares.initializeState(r.GroupID, p, tp.StateEpoch, tp.StartOffset)
			}
			rp.ErrorCode = code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	respond(protocol.Msg(resp))
}
