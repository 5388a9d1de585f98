package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleReadShareGroupState answers share-partitions' whole state: start
// offset, state epoch and the in-flight batches (see share_state_api.go).
func (b *Broker) handleReadShareGroupState(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.ReadShareGroupStateRequest)
	resp := r.ResponseKind().(*kmsg.ReadShareGroupStateResponse)
	for _, t := range r.Topics {
		rt := kmsg.NewReadShareGroupStateResponseTopic()
		rt.TopicID = t.TopicID
		for _, tp := range t.Partitions {
			rp := kmsg.NewReadShareGroupStateResponseTopicPartition()
			rp.Partition, rp.StateEpoch, rp.StartOffset = tp.Partition, -1, -1
			p, code := b.stateTarget(t.TopicID, tp.Partition)
			if code == 0 {
				st, c := b.shares.readState(r.GroupID, p)
				if code = c; code == 0 {
					rp.StateEpoch, rp.StartOffset = st.StateEpoch, st.StartOffset
					for _, sb := range st.Batches {
						bb := kmsg.NewReadShareGroupStateResponseTopicPartitionStateBatch()
						bb.FirstOffset, bb.LastOffset = sb.First, sb.Last
						bb.DeliveryState, bb.DeliveryCount = int8(sb.State), sb.DeliveryCount
						rp.StateBatches = append(rp.StateBatches, bb)
					}
				}
			}
			rp.ErrorCode = code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	respond(protocol.Msg(resp))
}
