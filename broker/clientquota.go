package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
	"spool/quota"
)

// The client quota APIs: DescribeClientQuotas is answered from this
// broker's image; AlterClientQuotas is forwarded to the active controller,
// which validates and writes the records, and answered once this broker's
// image has them, so a client reads its own change. Authorization
// (DESCRIBE_CONFIGS / ALTER_CONFIGS on the cluster) is the guard's.

func (b *Broker) handleDescribeClientQuotas(req *protocol.Request, respond func(protocol.Response)) {
	respond(protocol.Msg(quota.Describe(b.Image().Quotas, req.Msg.(*kmsg.DescribeClientQuotasRequest))))
}

func (b *Broker) handleAlterClientQuotas(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.AlterClientQuotasRequest)
	raw, err := b.controllers.Request(ctx, r)
	if err == nil {
		b.catchUpMetadata(ctx)
		return protocol.Msg(raw)
	}
	resp := r.ResponseKind().(*kmsg.AlterClientQuotasResponse)
	msg := err.Error()
	for _, e := range r.Entries {
		re := kmsg.NewAlterClientQuotasResponseEntry()
		re.ErrorCode, re.ErrorMessage = kerr.RequestTimedOut.Code, &msg
		for _, p := range e.Entity {
			ent := kmsg.NewAlterClientQuotasResponseEntryEntity()
			ent.Type, ent.Name = p.Type, p.Name
			re.Entity = append(re.Entity, ent)
		}
		resp.Entries = append(resp.Entries, re)
	}
	return protocol.Msg(resp)
}
