package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleListPartitionReassignments asks the active controller, whose image
// is the newest, which reassignments are in progress.
func (b *Broker) handleListPartitionReassignments(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.ListPartitionReassignmentsRequest)
	fctx, cancel := forwardContext(ctx, r.TimeoutMillis)
	defer cancel()
	raw, err := b.controllers.Request(fctx, r)
	if err != nil {
		resp := r.ResponseKind().(*kmsg.ListPartitionReassignmentsResponse)
		resp.ErrorCode = kerr.RequestTimedOut.Code
		return protocol.Msg(resp)
	}
	return protocol.Msg(raw)
}
