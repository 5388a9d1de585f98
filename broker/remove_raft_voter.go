package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleRemoveRaftVoter forwards RemoveRaftVoter (KIP-853) to the active
// controller, so kafka-metadata-quorum --bootstrap-server
// remove-controller works.
func (b *Broker) handleRemoveRaftVoter(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.RemoveRaftVoterRequest)
	fctx, cancel := forwardContext(ctx, 30000)
	defer cancel()
	raw, err := b.controllers.Request(fctx, r)
	if err != nil {
		resp := r.ResponseKind().(*kmsg.RemoveRaftVoterResponse)
		resp.ErrorCode = kerr.RequestTimedOut.Code
		msg := err.Error()
		resp.ErrorMessage = &msg
		return protocol.Msg(resp)
	}
	return protocol.Msg(raw)
}
