package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleIncrementalAlterConfigs forwards the request to the active
// controller, which applies the operations and writes ConfigRecords, then
// waits until this broker's image has them.
func (b *Broker) handleIncrementalAlterConfigs(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.IncrementalAlterConfigsRequest)
	raw, err := b.controllers.Request(ctx, r)
	if err != nil {
		resp := r.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
		msg := err.Error()
		for _, res := range r.Resources {
			rr := kmsg.NewIncrementalAlterConfigsResponseResource()
			rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
			rr.ErrorCode, rr.ErrorMessage = kerr.RequestTimedOut.Code, &msg
			resp.Resources = append(resp.Resources, rr)
		}
		return protocol.Msg(resp)
	}
	if !r.ValidateOnly {
		b.catchUpMetadata(ctx)
	}
	return protocol.Msg(raw)
}
