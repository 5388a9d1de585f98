package broker

import (
	"os"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleDeleteShareGroupOffsets forgets an empty share group's
// share-partitions of the named topics (kafka-share-groups
// --delete-offsets): a later fetch starts them again as
// share.auto.offset.reset says.
func (b *Broker) handleDeleteShareGroupOffsets(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.DeleteShareGroupOffsetsRequest)
	resp := r.ResponseKind().(*kmsg.DeleteShareGroupOffsetsResponse)
	if code, msg := b.shares.checkIdle(r.GroupID); code != 0 {
		resp.ErrorCode, resp.ErrorMessage = code, msg
		respond(protocol.Msg(resp))
		return
	}
	img := b.Image()
	for _, t := range r.Topics {
		rt := kmsg.NewDeleteShareGroupOffsetsResponseTopic()
		rt.Topic = t.Topic
		mt := img.Topics.ByName(t.Topic)
		if mt == nil {
			rt.ErrorCode = kerr.UnknownTopicOrPartition.Code
			resp.Topics = append(resp.Topics, rt)
			continue
		}
		rt.TopicID = mt.ID
		for id := range mt.Partitions {
			if p, code := b.leaderPartition(mt, int32(id), noLeaderEpoch); code == 0 {
				rt.ErrorCode = firstCode(rt.ErrorCode, b.shares.forget(r.GroupID, p))
			}
		}
		resp.Topics = append(resp.Topics, rt)
	}
	respond(protocol.Msg(resp))
}

// forget drops group's share-partition on p and its state file.
func (m *shareManager) forget(group string, p *partition) int16 {
	m.mu.Lock()
	delete(m.parts, shareKey{group, p.topicID, p.id})
	m.mu.Unlock()
	if err := os.Remove(shareStatePath(p, group)); err != nil && !os.IsNotExist(err) {
		return kerr.KafkaStorageError.Code
	}
	return 0
}
