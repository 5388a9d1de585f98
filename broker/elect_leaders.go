package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleElectLeaders forwards the request to the active controller, which
// runs the elections, then waits until this broker has caught up with them.
func (b *Broker) handleElectLeaders(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.ElectLeadersRequest)
	fctx, cancel := forwardContext(ctx, r.TimeoutMillis)
	defer cancel()
	raw, err := b.controllers.Request(fctx, r)
	if err != nil {
		resp := r.ResponseKind().(*kmsg.ElectLeadersResponse)
		resp.ErrorCode = kerr.RequestTimedOut.Code
		return protocol.Msg(resp)
	}
	b.catchUpMetadata(ctx)
	return protocol.Msg(raw)
}
