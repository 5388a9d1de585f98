package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
)

// handleCreateTopics forwards the request to the active controller, which
// validates and creates, then waits until the created topics are in this
// broker's image, so the client's next Metadata request sees them.
func (b *Broker) handleCreateTopics(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.CreateTopicsRequest)
	fctx, cancel := forwardContext(ctx, r.TimeoutMillis)
	defer cancel()
	raw, err := b.controllers.Request(fctx, r)
	if err != nil {
		resp := r.ResponseKind().(*kmsg.CreateTopicsResponse)
		msg := err.Error()
		for _, t := range r.Topics {
			rt := kmsg.NewCreateTopicsResponseTopic()
			rt.Topic, rt.ErrorCode, rt.ErrorMessage = t.Topic, kerr.RequestTimedOut.Code, &msg
			resp.Topics = append(resp.Topics, rt)
		}
		return protocol.Msg(resp)
	}
	resp := raw.(*kmsg.CreateTopicsResponse)
	if !r.ValidateOnly {
		b.meta.waitUntil(ctx, func(img *metadata.Image) bool {
			for _, t := range resp.Topics {
				// By name: responses below v7 carry no topic id.
				if t.ErrorCode == 0 && img.Topics.ByName(t.Topic) == nil {
					return false
				}
			}
			return true
		})
	}
	return protocol.Msg(resp)
}
