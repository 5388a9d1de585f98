package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleAlterConfigs forwards the request to the active controller, which
// validates it and writes ConfigRecords, then waits until this broker's
// image has them.
func (b *Broker) handleAlterConfigs(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.AlterConfigsRequest)
	raw, err := b.controllers.Request(ctx, r)
	if err != nil {
		resp := r.ResponseKind().(*kmsg.AlterConfigsResponse)
		msg := err.Error()
		for _, res := range r.Resources {
			rr := kmsg.NewAlterConfigsResponseResource()
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
