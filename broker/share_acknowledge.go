package broker

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleShareAcknowledge applies a member's acknowledgements without
// fetching: commitSync/commitAsync of the share consumer, and the final
// acknowledgements of one closing its share session (epoch -1), after
// which what it still holds is released.
func (b *Broker) handleShareAcknowledge(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.ShareAcknowledgeRequest)
	resp := r.ResponseKind().(*kmsg.ShareAcknowledgeResponse)
	if r.GroupID == nil || *r.GroupID == "" || r.MemberID == nil || *r.MemberID == "" {
		resp.ErrorCode = kerr.InvalidRequest.Code
		respond(protocol.Msg(resp))
		return
	}
	if r.ShareSessionEpoch == shareSessionOpen {
		// Acknowledgements need a session that fetched the records.
		resp.ErrorCode = kerr.InvalidShareSessionEpoch.Code
		respond(protocol.Msg(resp))
		return
	}
	acks := map[sessionPart][]shareAck{}
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			sp := sessionPart{t.TopicID, p.Partition}
			acks[sp] = nil
			for _, a := range p.AcknowledgementBatches {
				acks[sp] = append(acks[sp], ackOf(a.FirstOffset, a.LastOffset, a.AcknowledgeTypes))
			}
		}
	}
	op := &shareFetchOp{b: b, m: b.shares, version: r.Version, listener: req.Listener, group: *r.GroupID, member: *r.MemberID}
	now := time.Now()
	parts, code := op.m.session(shareSessionKey{op.group, op.member}, r.ShareSessionEpoch, nil, nil, now)
	if code != 0 {
		resp.ErrorCode = code
		respond(protocol.Msg(resp))
		return
	}
	results := op.acknowledge(acks, now)
	if r.ShareSessionEpoch == shareSessionClose {
		op.releaseAll(parts)
	}
	resp.AcquisitionLockTimeoutMillis = int32(op.m.groupConfig(op.group).LockDuration.Milliseconds())
	for _, t := range r.Topics {
		rt := kmsg.NewShareAcknowledgeResponseTopic()
		rt.TopicID = t.TopicID
		for _, p := range t.Partitions {
			rp := kmsg.NewShareAcknowledgeResponseTopicPartition()
			rp.Partition = p.Partition
			rp.ErrorCode = results[sessionPart{t.TopicID, p.Partition}]
			rp.CurrentLeader.LeaderID, rp.CurrentLeader.LeaderEpoch = -1, -1
			if _, res := op.resolve(sessionPart{t.TopicID, p.Partition}); res.leaderID >= 0 {
				rp.CurrentLeader.LeaderID, rp.CurrentLeader.LeaderEpoch = res.leaderID, res.leaderEpoch
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	respond(protocol.Msg(resp))
}
