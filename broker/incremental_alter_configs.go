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
	if resp := b.refuseBadKeystores(r); resp != nil {
		return protocol.Msg(resp)
	}
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

// refuseBadKeystores answers the whole request with INVALID_CONFIG on the
// resources whose keystore change this broker cannot use (nothing is
// written), or returns nil to forward it.
func (b *Broker) refuseBadKeystores(r *kmsg.IncrementalAlterConfigsRequest) *kmsg.IncrementalAlterConfigsResponse {
	var resp *kmsg.IncrementalAlterConfigsResponse
	msgs := make([]string, len(r.Resources))
	for i, res := range r.Resources {
		if res.ResourceType != kmsg.ConfigResourceTypeBroker {
			continue
		}
		set := map[string]*string{}
		for _, c := range res.Configs {
			switch c.Op {
			case kmsg.IncrementalAlterConfigOpSet:
				set[c.Name] = c.Value
			case kmsg.IncrementalAlterConfigOpDelete:
				set[c.Name] = nil
			}
		}
		if msgs[i] = b.checkKeystore(res.ResourceName, set); msgs[i] != "" {
			resp = r.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
		}
	}
	if resp == nil {
		return nil
	}
	for i, res := range r.Resources {
		rr := kmsg.NewIncrementalAlterConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
		rr.ErrorCode = kerr.InvalidRequest.Code
		msg := "not applied: another resource of the request was refused"
		if msgs[i] != "" {
			rr.ErrorCode, msg = kerr.InvalidConfig.Code, msgs[i]
		}
		rr.ErrorMessage = &msg
		resp.Resources = append(resp.Resources, rr)
	}
	return resp
}
