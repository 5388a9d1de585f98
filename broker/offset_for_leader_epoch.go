package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/leaderepoch"
	"spool/protocol"
)

// handleOffsetForLeaderEpoch answers where each asked-for leader epoch
// ended in the leader's log (KIP-101): consumers use it after a leader
// change to detect that their position was truncated away.
func (b *Broker) handleOffsetForLeaderEpoch(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.OffsetForLeaderEpochRequest)
	resp := r.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	img := b.Image()
	for _, t := range r.Topics {
		rt := kmsg.NewOffsetForLeaderEpochResponseTopic()
		rt.Topic = t.Topic
		topic := img.Topics.ByName(t.Topic)
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			rp.Partition, rp.LeaderEpoch, rp.EndOffset = p.Partition, leaderepoch.UndefinedEpoch, leaderepoch.UndefinedOffset
			current := p.CurrentLeaderEpoch
			if r.Version < 2 {
				current = noLeaderEpoch
			}
			part, code := b.leaderPartition(topic, p.Partition, current)
			if code != 0 {
				rp.ErrorCode = code
			} else {
				rp.LeaderEpoch, rp.EndOffset = part.epochs.EndOffsetFor(p.LeaderEpoch, part.log.LogEndOffset())
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	respond(protocol.Msg(resp))
}
