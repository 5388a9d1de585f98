package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/sharegroup"
	"spool/protocol"
)

// handleReadShareGroupStateSummary answers share-partitions' start
// offsets and state epochs, and (v1) how many in-flight records are done
// (see share_state_api.go).
func (b *Broker) handleReadShareGroupStateSummary(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.ReadShareGroupStateSummaryRequest)
	resp := r.ResponseKind().(*kmsg.ReadShareGroupStateSummaryResponse)
	for _, t := range r.Topics {
		rt := kmsg.NewReadShareGroupStateSummaryResponseTopic()
		rt.TopicID = t.TopicID
		for _, tp := range t.Partitions {
			rp := kmsg.NewReadShareGroupStateSummaryResponseTopicPartition()
			rp.Partition, rp.StateEpoch, rp.StartOffset, rp.LeaderEpoch = tp.Partition, -1, -1, -1
			p, code := b.stateTarget(t.TopicID, tp.Partition)
			if code == 0 {
				st, c := b.shares.readState(r.GroupID, p)
				if code = c; code == 0 {
					_, rp.LeaderEpoch = p.leadership()
					rp.StateEpoch, rp.StartOffset = st.StateEpoch, st.StartOffset
					for _, sb := range st.Batches {
						if sb.State == sharegroup.Acknowledged || sb.State == sharegroup.Archived {
							rp.DeliveryCompleteCount += int32(sb.Last - sb.First + 1)
						}
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
