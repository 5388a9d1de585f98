package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// handleAlterUserScramCredentials forwards AlterUserScramCredentials v0 to
// the active controller, which validates it and writes the credential
// records, then waits until this broker's image has them.
func (b *Broker) handleAlterUserScramCredentials(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.AlterUserSCRAMCredentialsRequest)
	raw, err := b.controllers.Request(ctx, r)
	if err != nil {
		resp := r.ResponseKind().(*kmsg.AlterUserSCRAMCredentialsResponse)
		msg := err.Error()
		seen := map[string]bool{}
		add := func(user string) {
			if seen[user] {
				return
			}
			seen[user] = true
			rr := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
			rr.User, rr.ErrorCode, rr.ErrorMessage = user, kerr.RequestTimedOut.Code, &msg
			resp.Results = append(resp.Results, rr)
		}
		for _, d := range r.Deletions {
			add(d.Name)
		}
		for _, u := range r.Upsertions {
			add(u.Name)
		}
		return protocol.Msg(resp)
	}
	b.catchUpMetadata(ctx)
	return protocol.Msg(raw)
}
