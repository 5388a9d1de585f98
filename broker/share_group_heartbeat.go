package broker

import (
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/sharegroup"
	"spool/protocol"
)

// handleShareGroupHeartbeat serves KIP-932's membership request: a join
// (epoch 0), a heartbeat, or a leave (epoch -1). A member that leaves
// has the records it holds on this broker released at once.
func (b *Broker) handleShareGroupHeartbeat(req *protocol.Request, respond func(protocol.Response)) {
	r := detach(req).(*kmsg.ShareGroupHeartbeatRequest)
	if msg := sharegroup.ValidateHeartbeat(r); msg != "" {
		respond(protocol.Msg(sharegroup.InvalidHeartbeat(r, msg)))
		return
	}
	m := b.shares
	if err, msg := m.coordinates(r.GroupID); err != nil {
		respond(protocol.Msg(sharegroup.HeartbeatError(r, err, msg)))
		return
	}
	img := b.Image()
	topics := func(name string) (sharegroup.Topic, bool) {
		t := img.Topics.ByName(name)
		if t == nil {
			return sharegroup.Topic{}, false
		}
		return sharegroup.Topic{ID: t.ID, Partitions: int32(len(t.Partitions))}, true
	}
	client := sharegroup.Client{ID: clientID(req), Host: clientHost(req)}
	m.mu.Lock()
	resp, left := m.group(r.GroupID).Heartbeat(r, client, m.cfg, topics, time.Now())
	m.mu.Unlock()
	if left != "" {
		m.releaseMember(r.GroupID, left)
	}
	respond(protocol.Msg(resp))
}
