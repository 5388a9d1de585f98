package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleAddRaftVoter forwards AddRaftVoter (KIP-853) to the active
// controller, as Kafka's brokers do, so kafka-metadata-quorum
// --bootstrap-server add-controller works.
func (b *Broker) handleAddRaftVoter(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.AddRaftVoterRequest)
	fctx, cancel := forwardContext(ctx, 30000)
	defer cancel()
	raw, err := b.controllers.Request(fctx, r)
	if err != nil {
		resp := r.ResponseKind().(*kmsg.AddRaftVoterResponse)
		resp.ErrorCode = kerr.RequestTimedOut.Code
		msg := err.Error()
		resp.ErrorMessage = &msg
		return protocol.Msg(resp)
	}
	return protocol.Msg(raw)
}
