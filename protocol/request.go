package protocol

import (
	"context"
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/security"
)

// Request is one request read from a connection.
type Request struct {
	Header
	// Listener is the name of the listener the connection came in on.
	Listener string
	Remote   net.Addr
	// Body is the undecoded request body. It aliases a pooled frame buffer
	// that stays valid until the response has been written.
	Body []byte
	// Msg is the kmsg request for the key with its version set, nil for a
	// key kmsg does not know (Spool's private APIs). Call Decode to fill it.
	Msg kmsg.Request
	// ConnID identifies the connection (for fetch sessions, SASL state).
	ConnID uint64

	// Principal is who the connection had authenticated as when the
	// request was read: ANONYMOUS on PLAINTEXT, the mapped certificate name
	// with mTLS, the SASL user on SASL listeners.
	Principal security.Principal
	// TokenAuthenticated: Principal logged in with a delegation token.
	TokenAuthenticated bool
	// Auth is the connection's authentication state, for the SASL
	// handlers; nil for requests that came from no connection.
	Auth *ConnAuth

	ctx  context.Context
	conn *conn
}

// Context is cancelled when the request's connection closes: the client
// went away, or the server shut down (after letting requests in flight
// answer for its grace period). Work done only for this request's answer
// should stop then.
func (r *Request) Context() context.Context {
	if r.ctx == nil {
		return context.Background()
	}
	return r.ctx
}

// WithContext returns a shallow copy of r with its context replaced (for
// tests and for handlers that narrow it).
func (r *Request) WithContext(ctx context.Context) *Request {
	r2 := *r
	r2.ctx = ctx
	return &r2
}

// badInput counts and logs a request that closes its connection, rate
// limited per connection; log is used when r came from no connection.
func (r *Request) badInput(log *zap.Logger, msg string, fields ...zap.Field) {
	if r.conn != nil {
		r.conn.badFrame(msg, fields...)
		return
	}
	log.Info(msg, fields...)
}

// Decode parses Body into Msg. A Produce request whose decoded form would
// be out of proportion to its size is refused before it is built. Only Produce decodes in place: its record
// bytes alias Body, which is appended straight to the log, and nothing of it
// outlives the response. Every other request is decoded into copies,
// because handlers keep its strings (topic names in images, member ids in
// groups, session state) long after Body's pooled buffer is reused.
func (r *Request) Decode() error {
	if r.Msg == nil {
		return errUnknownKey
	}
	if u, ok := r.Msg.(kmsg.UnsafeReadFrom); ok && r.Key == produceKey {
		if err := checkProduceBound(r.Version, r.Body); err != nil {
			return err
		}
		return u.UnsafeReadFrom(r.Body)
	}
	return r.Msg.ReadFrom(r.Body)
}

const produceKey = 0

// Handler serves requests. Serve is called on the connection's reading
// goroutine, in request order; it must call respond exactly once, then or
// later, from any goroutine. Work that must keep request order (appends)
// should happen before Serve returns; waiting (fsync, long polls) should not.
type Handler interface {
	Serve(req *Request, respond func(Response))
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(req *Request, respond func(Response))

// Serve calls f.
func (f HandlerFunc) Serve(req *Request, respond func(Response)) { f(req, respond) }
