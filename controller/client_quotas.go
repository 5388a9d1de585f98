package controller

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
	"spool/quota"
)

// AlterClientQuotas validates the request with Kafka's rules (quota.Alter)
// against the quotas as they will be once every pending write commits,
// and writes the ClientQuotaRecords of its valid entities in one batch.
// If the write fails, every entity that was to change gets its error.
func (c *Controller) AlterClientQuotas(ctx context.Context, req *kmsg.AlterClientQuotasRequest) *kmsg.AlterClientQuotasResponse {
	hostOK := resolvedHosts(ctx, req)
	var mu sync.Mutex // the build runs on the controller's goroutine
	var resp *kmsg.AlterClientQuotasResponse
	err := c.write(ctx, func(img *metadata.Image) ([]metadata.Record, error) {
		recs, r := quota.Alter(img.Quotas, req, hostOK)
		mu.Lock()
		resp = r
		mu.Unlock()
		return recs, nil
	})
	mu.Lock()
	defer mu.Unlock()
	if resp == nil {
		_, resp = quota.Alter(nil, req, hostOK)
	}
	if err != nil {
		msg := err.Error()
		for i := range resp.Entries {
			if resp.Entries[i].ErrorCode == 0 {
				resp.Entries[i].ErrorCode, resp.Entries[i].ErrorMessage = errorCode(err), &msg
			}
		}
	}
	return resp
}

// hostLookupTimeout bounds the resolution of an ip entity's host name.
const hostLookupTimeout = 2 * time.Second

// resolvedHosts resolves the names of the request's ip entities before
// the controller's goroutine sees them (a lookup may take seconds), and
// returns the check quota.Alter asks.
func resolvedHosts(ctx context.Context, req *kmsg.AlterClientQuotasRequest) quota.HostCheck {
	ok := map[string]bool{}
	for _, e := range req.Entries {
		for _, p := range e.Entity {
			if p.Type != metadata.QuotaIP || p.Name == nil {
				continue
			}
			name := *p.Name
			if _, done := ok[name]; done {
				continue
			}
			if net.ParseIP(name) != nil {
				ok[name] = true
				continue
			}
			lctx, cancel := context.WithTimeout(ctx, hostLookupTimeout)
			addrs, err := net.DefaultResolver.LookupHost(lctx, name)
			cancel()
			ok[name] = err == nil && len(addrs) > 0
		}
	}
	return func(name string) bool { return ok[name] }
}

func (c *Controller) serveAlterClientQuotas(ctx context.Context, req *protocol.Request) protocol.Response {
	return protocol.Msg(c.AlterClientQuotas(ctx, req.Msg.(*kmsg.AlterClientQuotasRequest)))
}
