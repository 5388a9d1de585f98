package broker

import (
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/consumergroup"
	"spool/broker/group"
	"spool/protocol"
)

// handleConsumerGroupHeartbeat serves KIP-848's one consumer-protocol
// request: a join, a heartbeat, a subscription change or a leave. The
// answer goes out once the group's records are durable.
func (b *Broker) handleConsumerGroupHeartbeat(req *protocol.Request, respond func(protocol.Response)) {
	r := detach(req).(*kmsg.ConsumerGroupHeartbeatRequest)
	if f := consumergroup.ValidateHeartbeat(r, &b.groups.ccfg); f != nil {
		respond(protocol.Msg(consumergroup.HeartbeatError(r, f)))
		return
	}
	client := consumergroup.Client{ID: clientID(req), Host: clientHost(req)}
	join := r.MemberEpoch == 0
	found, f := b.groups.doConsumer(r.Group, join, replyWith(respond), func(cg *consumergroup.Group, id group.ReqID, now time.Time) consumergroup.Out {
		return cg.Heartbeat(id, r, client, b.groups.topics(), now)
	})
	switch {
	case f != nil:
		respond(protocol.Msg(consumergroup.HeartbeatError(r, f)))
	case !found:
		respond(protocol.Msg(consumergroup.HeartbeatError(r, consumergroup.UnknownGroup(r))))
	}
}
