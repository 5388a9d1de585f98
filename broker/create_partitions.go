package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
)

// handleCreatePartitions forwards the request to the active controller and
// waits until the new partitions are in this broker's image, so the
// client's next Metadata request sees them.
func (b *Broker) handleCreatePartitions(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.CreatePartitionsRequest)
	raw, err := b.controllers.Request(ctx, r)
	if err != nil {
		resp := r.ResponseKind().(*kmsg.CreatePartitionsResponse)
		msg := err.Error()
		for _, t := range r.Topics {
			rt := kmsg.NewCreatePartitionsResponseTopic()
			rt.Topic, rt.ErrorCode, rt.ErrorMessage = t.Topic, kerr.RequestTimedOut.Code, &msg
			resp.Topics = append(resp.Topics, rt)
		}
		return protocol.Msg(resp)
	}
	resp := raw.(*kmsg.CreatePartitionsResponse)
	if !r.ValidateOnly {
		want := map[string]int32{}
		for i, t := range resp.Topics {
			if t.ErrorCode == 0 && i < len(r.Topics) {
				want[t.Topic] = r.Topics[i].Count
			}
		}
		b.meta.waitUntil(ctx, func(img *metadata.Image) bool {
			for name, n := range want {
				// A topic deleted meanwhile will never show its partitions.
				if t := img.Topics.ByName(name); t != nil && int32(len(t.Partitions)) < n {
					return false
				}
			}
			return true
		})
	}
	return protocol.Msg(resp)
}
