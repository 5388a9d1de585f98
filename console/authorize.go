package console

import (
	"context"
	"net"
	"net/http"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/security"
)

// may reports whether the HTTP user may do op on the resource, decided as
// the Kafka API decides the same read: the console reads with the node's
// identity, so without this check any HTTP user would see what the ACLs
// hide from them. With no authorizer configured everything is allowed; a
// request with no principal is allowed nothing.
func (c *Console) may(ctx context.Context, r *http.Request, op kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) bool {
	if c.src.Authorize == nil {
		return true
	}
	p, ok := security.PrincipalFromContext(ctx)
	if !ok {
		return false
	}
	return c.src.Authorize(p, hostOf(r), op, rt, name)
}

// mustMay is may as an error naming what was refused.
func (c *Console) mustMay(ctx context.Context, r *http.Request, op kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) error {
	if c.may(ctx, r, op, rt, name) {
		return nil
	}
	p, _ := security.PrincipalFromContext(ctx)
	return refused(p, op, rt, name)
}

func hostOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
