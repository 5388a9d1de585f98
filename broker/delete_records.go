package broker

import (
	"context"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/config"
	"spool/controller/metadata"
	"spool/protocol"
)

// deleteToHighWatermark is the offset meaning "everything visible".
const deleteToHighWatermark = -1

// handleDeleteRecords raises log start offsets. With the leader as the only
// replica Spool can answer at once; Kafka waits until every follower has
// moved its low watermark too.
func (b *Broker) handleDeleteRecords(_ context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.DeleteRecordsRequest)
	resp := r.ResponseKind().(*kmsg.DeleteRecordsResponse)
	img := b.Image()
	for _, rt := range r.Topics {
		st := kmsg.NewDeleteRecordsResponseTopic()
		st.Topic = rt.Topic
		t := img.Topics.ByName(rt.Topic)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewDeleteRecordsResponseTopicPartition()
			sp.Partition, sp.LowWatermark = rp.Partition, -1
			p, code := b.leaderPartition(t, rp.Partition, noLeaderEpoch)
			if code == 0 && !b.deletable(img, rt.Topic) {
				code = kerr.PolicyViolation.Code
			}
			if code == 0 {
				sp.LowWatermark, code = b.deleteRecordsBefore(req.Context(), img, p, rp.Offset)
			}
			sp.ErrorCode = code
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return protocol.Msg(resp)
}

// deletable reports whether the topic's cleanup.policy allows deleting
// records; Kafka refuses on compact-only topics.
func (b *Broker) deletable(img *metadata.Image, topic string) bool {
	tcfg := img.Configs[metadata.ConfigResource{Type: metadata.ConfigResourceTopic, Name: topic}]
	policy, _ := config.Layers{Static: b.cfg.Static}.Topic(tcfg, "cleanup.policy")
	for _, pol := range strings.Split(policy, ",") {
		if strings.TrimSpace(pol) == "delete" {
			return true
		}
	}
	return false
}

// deleteRecordsBefore moves p's log start to offset and returns the new low
// watermark, or an error code. On a tiered topic the remote start moves
// first (deleteRemoteRecords).
func (b *Broker) deleteRecordsBefore(ctx context.Context, img *metadata.Image, p *partition, offset int64) (int64, int16) {
	hw := p.HighWatermark()
	if offset == deleteToHighWatermark {
		offset = hw
	}
	if offset < 0 || offset > hw {
		return -1, kerr.OffsetOutOfRange.Code
	}
	if _, ok := b.tierLimits(img, p.topic); ok {
		return b.deleteRemoteRecords(ctx, p, offset)
	}
	start, err := p.log.DeleteRecordsBefore(offset)
	if err != nil {
		return -1, storageErrorCode(err)
	}
	return start, 0
}
