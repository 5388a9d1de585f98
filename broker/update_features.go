package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleUpdateFeatures forwards feature updates to the active controller,
// then waits until this broker has caught up with it.
func (b *Broker) handleUpdateFeatures(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.UpdateFeaturesRequest)
	fctx, cancel := forwardContext(ctx, r.TimeoutMillis)
	defer cancel()
	raw, err := b.controllers.Request(fctx, r)
	if err != nil {
		resp := r.ResponseKind().(*kmsg.UpdateFeaturesResponse)
		resp.ErrorCode = kerr.RequestTimedOut.Code
		return protocol.Msg(resp)
	}
	b.catchUpMetadata(ctx)
	return protocol.Msg(raw)
}
