package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleAlterShareGroupOffsets moves the start offset of an empty share
// group's share-partitions (kafka-share-groups --reset-offsets): nothing
// is left in flight and the next fetch reads from the new start. An
// offset outside the partition's log answers OFFSET_OUT_OF_RANGE.
func (b *Broker) handleAlterShareGroupOffsets(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.AlterShareGroupOffsetsRequest)
	resp := r.ResponseKind().(*kmsg.AlterShareGroupOffsetsResponse)
	if code, msg := b.shares.checkIdle(r.GroupID); code != 0 {
		resp.ErrorCode, resp.ErrorMessage = code, msg
		respond(protocol.Msg(resp))
		return
	}
	img := b.Image()
	for _, t := range r.Topics {
		rt := kmsg.NewAlterShareGroupOffsetsResponseTopic()
		rt.Topic = t.Topic
		mt := img.Topics.ByName(t.Topic)
		if mt != nil {
			rt.TopicID = mt.ID
		}
		for _, tp := range t.Partitions {
			rp := kmsg.NewAlterShareGroupOffsetsResponseTopicPartition()
			rp.Partition = tp.Partition
			p, code := b.leaderPartition(mt, tp.Partition, noLeaderEpoch)
			if code == 0 {
				code = b.shares.reset(r.GroupID, p, tp.StartOffset)
			}
			rp.ErrorCode = code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	respond(protocol.Msg(resp))
}

// checkIdle lets offsets of groupID change only while it is a share
// group (or no group) without members, coordinated here.
func (m *shareManager) checkIdle(groupID string) (int16, *string) {
	if err, msg := m.coordinates(groupID); err != nil {
		if msg == "" {
			return err.Code, nil
		}
		return err.Code, &msg
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if g := m.groups[groupID]; g != nil && g.Len() > 0 {
		msg := "The group is not empty."
		return kerr.NonEmptyGroup.Code, &msg
	}
	return 0, nil
}

// reset starts group's share-partition on p again at start.
func (m *shareManager) reset(group string, p *partition, start int64) int16 {
	if start < p.log.LogStartOffset() || start > p.HighWatermark() {
		return kerr.OffsetOutOfRange.Code
	}
	sp, err := m.part(group, p)
	if err != nil {
		return kerr.KafkaStorageError.Code
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.sp.Reset(start)
	if err := sp.persist(); err != nil {
		return kerr.KafkaStorageError.Code
	}
	return 0
}
