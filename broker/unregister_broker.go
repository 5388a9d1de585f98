package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleUnregisterBroker forwards the request to the active controller,
// then waits until this broker has caught up with it.
func (b *Broker) handleUnregisterBroker(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.UnregisterBrokerRequest)
	fctx, cancel := forwardContext(ctx, 30000)
	defer cancel()
	raw, err := b.controllers.Request(fctx, r)
	if err != nil {
		resp := r.ResponseKind().(*kmsg.UnregisterBrokerResponse)
		resp.ErrorCode = kerr.RequestTimedOut.Code
		return protocol.Msg(resp)
	}
	b.catchUpMetadata(ctx)
	return protocol.Msg(raw)
}
