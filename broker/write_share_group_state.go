package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleWriteShareGroupState merges written state batches into
// share-partitions (see share_state_api.go).
func (b *Broker) handleWriteShareGroupState(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.WriteShareGroupStateRequest)
	resp := r.ResponseKind().(*kmsg.WriteShareGroupStateResponse)
	for _, t := range r.Topics {
		rt := kmsg.NewWriteShareGroupStateResponseTopic()
		rt.TopicID = t.TopicID
		for _, tp := range t.Partitions {
			rp := kmsg.NewWriteShareGroupStateResponseTopicPartition()
			rp.Partition = tp.Partition
			p, code := b.stateTarget(t.TopicID, tp.Partition)
			if code == 0 {
				code = b.shares.writeState(r.GroupID, p, tp)
			}
			rp.ErrorCode = code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	respond(protocol.Msg(resp))
}
