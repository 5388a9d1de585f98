package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/security"
)

// writeHeader must be on every change: a browser sends a custom header
// cross-origin only after a CORS preflight, which the console never
// approves, so another site cannot make a logged-in browser change the
// cluster.
const writeHeader = "X-Requested-By"

const maxWriteBody = 64 << 10

// writeFunc serves one change for principal p connecting from host.
type writeFunc func(ctx context.Context, r *http.Request, body *json.Decoder, p security.Principal, host string) (any, error)

// sessionView tells the page who it is and whether it may change things.
type sessionView struct {
	ReadOnly  bool   `json:"read_only"`
	Principal string `json:"principal"`
}

func (c *Console) session(ctx context.Context, _ *http.Request) (any, error) {
	v := sessionView{ReadOnly: c.src.ReadOnly}
	if p, ok := security.PrincipalFromContext(ctx); ok {
		v.Principal = p.String()
	}
	return v, nil
}

// write registers a change endpoint: refused while read-only, without the
// write header, from another origin, or without a principal.
func (c *Console) write(pattern string, h writeFunc) {
	c.api(pattern, func(ctx context.Context, r *http.Request) (any, error) {
		if c.src.ReadOnly {
			return nil, &apiError{http.StatusForbidden, "the console is read-only: set http.console.read.only=false to allow changes"}
		}
		if r.Header.Get(writeHeader) != "spool-console" {
			return nil, &apiError{http.StatusForbidden, "changes need the header " + writeHeader + ": spool-console"}
		}
		if o := r.Header.Get("Origin"); o != "" {
			if u, err := url.Parse(o); err != nil || u.Host != r.Host {
				return nil, &apiError{http.StatusForbidden, "changes are refused from another origin: " + o}
			}
		}
		if c.src.Unauthenticated && !c.directHost(r.Host) {
			return nil, &apiError{http.StatusForbidden, "changes without HTTP authentication are accepted only at the node's address, localhost or its host name, not at " + r.Host}
		}
		p, ok := security.PrincipalFromContext(ctx)
		if !ok {
			return nil, &apiError{http.StatusForbidden, "no authenticated principal"}
		}
		host := hostOf(r)
		dec := json.NewDecoder(io.LimitReader(r.Body, maxWriteBody))
		dec.DisallowUnknownFields()
		out, err := h(ctx, r, dec, p, host)
		fields := []zap.Field{zap.String("principal", p.String()), zap.String("remote", r.RemoteAddr), zap.String("method", r.Method), zap.String("path", r.URL.Path)}
		if err != nil {
			c.log.Info("console change refused or failed", append(fields, zap.Error(err))...)
			return nil, err
		}
		c.log.Info("console change", fields...)
		return out, nil
	})
}

// decode reads the request's JSON body into v; an empty body is an error
// unless optional.
func decode(dec *json.Decoder, v any, optional bool) error {
	if err := dec.Decode(v); err != nil {
		if optional && errors.Is(err, io.EOF) {
			return nil
		}
		return badRequest("request body: " + err.Error())
	}
	return nil
}

// authorize checks one Kafka action for p as the Kafka API would; with no
// authorizer configured everything is allowed, as in Kafka.
func (c *Console) authorize(p security.Principal, host string, op kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) bool {
	return c.src.Authorize == nil || c.src.Authorize(p, host, op, rt, name)
}

func refused(p security.Principal, op kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) error {
	return &apiError{http.StatusForbidden, fmt.Sprintf("%s may not %s %s %q", p, op, rt, name)}
}

// directHost reports whether a Host header names the node itself.
func (c *Console) directHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if net.ParseIP(host) != nil || strings.EqualFold(host, "localhost") {
		return true
	}
	for _, k := range c.src.KnownHosts {
		if strings.EqualFold(host, k) {
			return true
		}
	}
	return false
}
