package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleDescribeQuorum forwards DescribeQuorum to the active controller, the
// only node that knows every voter's progress, as Kafka's brokers do
// (KIP-836), so kafka-metadata-quorum --bootstrap-server works.
func (b *Broker) handleDescribeQuorum(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.DescribeQuorumRequest)
	fctx, cancel := forwardContext(ctx, 30000)
	defer cancel()
	raw, err := b.controllers.Request(fctx, r)
	if err != nil {
		resp := r.ResponseKind().(*kmsg.DescribeQuorumResponse)
		resp.ErrorCode = kerr.RequestTimedOut.Code
		if r.Version >= 2 {
			msg := err.Error()
			resp.ErrorMessage = &msg
		}
		return protocol.Msg(resp)
	}
	return protocol.Msg(raw)
}
