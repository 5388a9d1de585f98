package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
)

// handleDeleteTopics forwards the request to the active controller and waits
// until the deletions are in this broker's image.
func (b *Broker) handleDeleteTopics(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.DeleteTopicsRequest)
	fctx, cancel := forwardContext(ctx, r.TimeoutMillis)
	defer cancel()
	raw, err := b.controllers.Request(fctx, r)
	if err != nil {
		msg := err.Error()
		resp := r.ResponseKind().(*kmsg.DeleteTopicsResponse)
		for _, name := range r.TopicNames {
			rt := kmsg.NewDeleteTopicsResponseTopic()
			n := name
			rt.Topic, rt.ErrorCode, rt.ErrorMessage = &n, kerr.RequestTimedOut.Code, &msg
			resp.Topics = append(resp.Topics, rt)
		}
		for _, t := range r.Topics {
			rt := kmsg.NewDeleteTopicsResponseTopic()
			rt.Topic, rt.TopicID, rt.ErrorCode, rt.ErrorMessage = t.Topic, t.TopicID, kerr.RequestTimedOut.Code, &msg
			resp.Topics = append(resp.Topics, rt)
		}
		return protocol.Msg(resp)
	}
	resp := raw.(*kmsg.DeleteTopicsResponse)
	b.meta.waitUntil(ctx, func(img *metadata.Image) bool {
		for _, t := range resp.Topics {
			if t.ErrorCode == 0 && img.Topics.ByID(t.TopicID) != nil {
				return false
			}
		}
		return true
	})
	return protocol.Msg(resp)
}
