package protocol

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"time"

	"go.uber.org/zap"

	"spool/security"
)

// tlsHandshakeTimeout bounds a TLS handshake; a peer that stalls it (or a
// plaintext client on a TLS port) is dropped.
const tlsHandshakeTimeout = 10 * time.Second

// ConnAuth is a connection's authentication state: its principal and, on
// SASL listeners, the SASL session. Only the connection's reading
// goroutine touches it; handlers run there (SASL handlers answer at once)
// and copy the principal into each Request.
type ConnAuth struct {
	Listener  *security.Listener
	Principal security.Principal
	// TokenAuthenticated: the SASL client logged in with a delegation
	// token (KIP-48).
	TokenAuthenticated bool
	// SASL is nil unless the listener is SASL_PLAINTEXT or SASL_SSL.
	SASL *security.Session
}

// SetSecurity makes connections accepted on listener name use sec (TLS,
// SASL, principals). Call it before Serve; a listener without one is
// PLAINTEXT.
func (s *Server) SetSecurity(name string, sec *security.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.security == nil {
		s.security = map[string]*security.Listener{}
	}
	s.security[name] = sec
}

func (s *Server) listenerSecurity(name string) *security.Listener {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.security[name]
}

// secure runs the TLS handshake when the listener needs one and sets up
// the connection's principal; false closes the connection.
func (c *conn) secure() bool {
	sec := c.srv.listenerSecurity(c.listener)
	c.auth = &ConnAuth{Listener: sec, Principal: security.Anonymous}
	if sec == nil {
		return true
	}
	if sec.TLS != nil {
		tc := tls.Server(c.nc, sec.TLS)
		ctx, cancel := context.WithTimeout(context.Background(), tlsHandshakeTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			c.srv.Stats.TLSFailed.Add(1)
			c.log.Debug("TLS handshake failed; closing connection", zap.Error(err))
			return false
		}
		c.nc = tc
		if sec.SASL == nil {
			p, err := sec.CertPrincipal(tc.ConnectionState())
			if err != nil {
				c.srv.Stats.AuthFailed.Add(1)
				c.log.Info("client certificate maps to no principal; closing connection", zap.Error(err))
				return false
			}
			c.auth.Principal = p
		}
	}
	if sec.SASL != nil {
		c.auth.SASL = security.NewSession(sec.SASL)
	}
	return true
}

// maxFrame is the largest frame the connection accepts now: a SASL client
// that has not authenticated gets sasl.server.max.receive.size.
func (c *conn) maxFrame() int {
	if s := c.auth.SASL; s != nil && !s.Authenticated() && c.auth.Listener.SASL.MaxReceive > 0 {
		return min(c.srv.MaxRequestSize, c.auth.Listener.SASL.MaxReceive)
	}
	return c.srv.MaxRequestSize
}

// admit reports whether a request may be served on this connection now.
// Before SASL authentication only ApiVersions, SaslHandshake and
// SaslAuthenticate are; an authenticated session past its lifetime may
// only re-authenticate (KIP-368), anything else closes the connection as
// Kafka does.
func (c *conn) admit(key int16) bool {
	s := c.auth.SASL
	if s == nil {
		return true
	}
	switch {
	case !s.Authenticated() && !security.AllowedBeforeAuth(key):
		c.log.Info("request before SASL authentication; closing connection", zap.Int16("api_key", key))
		return false
	case s.Expired(time.Now()) && key != saslHandshakeKey && key != saslAuthenticateKey:
		c.log.Info("SASL session expired without re-authentication; closing connection",
			zap.String("principal", s.Principal()), zap.Int16("api_key", key))
		return false
	}
	return true
}

const (
	saslHandshakeKey    = 17
	saslAuthenticateKey = 36
)

// rawToken serves one raw SASL token (the flow after SaslHandshake v0):
// the answer is a length-prefixed token with no Kafka header, and any
// failure closes the connection.
func (c *conn) rawToken(frame *[]byte) bool {
	res := c.auth.SASL.Authenticate(*frame, time.Now())
	c.srv.freeFrame(frame)
	if res.Code != 0 {
		c.srv.Stats.AuthFailed.Add(1)
		c.log.Info("SASL authentication failed; closing connection", zap.String("mechanism", c.auth.SASL.Mechanism()), zap.Error(res.Err))
		return false
	}
	if res.Done {
		c.auth.Principal, c.auth.TokenAuthenticated = security.User(res.Principal), res.TokenAuthenticated
	}
	out := make([]byte, 4+len(res.Token))
	binary.BigEndian.PutUint32(out, uint32(len(res.Token)))
	copy(out[4:], res.Token)
	s := &slot{done: make(chan struct{}), resp: Response{Frame: out}}
	s.answered.Store(true)
	close(s.done)
	select {
	case c.slots <- s:
		return true
	case <-c.closing:
		return false
	}
}

// Authenticated records a successful SaslAuthenticate on the request's
// connection: later requests carry the new principal.
func (r *Request) Authenticated(principal string, token bool) {
	if r.Auth != nil {
		r.Auth.Principal, r.Auth.TokenAuthenticated = security.User(principal), token
	}
}

// MayRequestTokens is Kafka's allowTokenRequests (KIP-48): delegation
// token requests need a client that proved who it is with its own
// credentials, so not over PLAINTEXT, not over SSL without a client
// certificate, and not with a delegation token.
func (r *Request) MayRequestTokens() bool {
	switch {
	case r.TokenAuthenticated || r.Auth == nil || r.Auth.Listener == nil:
		return false
	case r.Auth.SASL != nil:
		return true
	}
	return r.Auth.Listener.TLS != nil && r.Principal != security.Anonymous
}
