package security

import (
	"slices"
	"time"
)

// Kafka error codes the SASL exchange answers with (KIP-152).
const (
	codeNone                     int16 = 0
	CodeUnsupportedSaslMechanism int16 = 33
	CodeIllegalSaslState         int16 = 34
	CodeSaslAuthenticationFailed int16 = 58
)

// SASLConfig is one SASL listener's server side: its enabled mechanisms
// and re-authentication window.
type SASLConfig struct {
	Mechanisms map[string]Mechanism
	Enabled    []string
	// MaxReauth is connections.max.reauth.ms per mechanism; zero turns
	// KIP-368 off.
	MaxReauth map[string]time.Duration
	// MaxReceive is sasl.server.max.receive.size: the largest frame an
	// unauthenticated client may send.
	MaxReceive int
}

type sessionState uint8

const (
	stateHandshake    sessionState = iota // expecting SaslHandshake
	stateAuthenticate                     // expecting tokens
	stateDone                             // authenticated
	stateFailed
)

// Session is one connection's SASL state (Kafka's SaslServerAuthenticator
// without the socket): handshake, token exchange, re-authentication. It is
// owned by the connection's reading goroutine, where SASL requests are
// served, and is not safe for concurrent use.
type Session struct {
	cfg       *SASLConfig
	state     sessionState
	mech      string
	ex        Exchange
	raw       bool // a v0 handshake: tokens come as raw frames
	principal string
	// tokenAuth: the principal logged in with a delegation token, which
	// may not ask for more tokens (KIP-48).
	tokenAuth bool
	expires   time.Time // zero: the session never expires
	// reauth: a re-authentication is in progress on an authenticated
	// connection; requests keep flowing meanwhile.
	reauth bool
}

// NewSession starts the SASL state of a new connection.
func NewSession(cfg *SASLConfig) *Session { return &Session{cfg: cfg} }

// HandshakeResult is what SaslHandshake answers.
type HandshakeResult struct {
	Code       int16
	Mechanisms []string
	// Close: the connection must be closed once the answer is written.
	Close bool
}

// Handshake handles SaslHandshake v0/v1 for mechanism mech.
func (s *Session) Handshake(version int16, mech string, now time.Time) HandshakeResult {
	res := HandshakeResult{Mechanisms: slices.Clone(s.cfg.Enabled)}
	switch {
	case s.state == stateDone && version >= 1 && !s.reauth:
		// KIP-368: an authenticated client starts over with the same
		// mechanism; requests already in flight are unaffected.
		if mech != s.mech {
			return HandshakeResult{Code: CodeUnsupportedSaslMechanism, Mechanisms: res.Mechanisms, Close: true}
		}
		s.reauth = true
	case s.state != stateHandshake:
		s.state = stateFailed
		return HandshakeResult{Code: CodeIllegalSaslState, Mechanisms: res.Mechanisms, Close: true}
	}
	m, ok := s.cfg.Mechanisms[mech]
	if !ok || !slices.Contains(s.cfg.Enabled, mech) {
		s.state = stateFailed
		return HandshakeResult{Code: CodeUnsupportedSaslMechanism, Mechanisms: res.Mechanisms, Close: true}
	}
	s.mech, s.ex = mech, m.Start()
	if s.state != stateDone {
		s.state = stateAuthenticate
	}
	s.raw = version == 0
	return res
}

// AuthResult is what SaslAuthenticate (or a raw v0 token) answers.
type AuthResult struct {
	Code     int16
	Message  string
	Token    []byte
	Lifetime time.Duration // SessionLifetimeMs (v1+), 0 when unlimited
	// Done: the client is (re)authenticated as Principal.
	Done      bool
	Principal string
	// TokenAuthenticated: the client logged in with a delegation token.
	TokenAuthenticated bool
	// Close: close the connection after the answer (a failure).
	Close bool
	// Err is the cause of a failure, for the log.
	Err error
}

// Authenticate feeds one client token.
func (s *Session) Authenticate(token []byte, now time.Time) AuthResult {
	if s.ex == nil || (s.state != stateAuthenticate && !s.reauth) {
		s.state = stateFailed
		return AuthResult{Code: CodeIllegalSaslState, Message: "Unexpected SaslAuthenticate request; the SASL handshake has not been done", Close: true}
	}
	challenge, done, err := s.ex.Step(token, now)
	if err != nil {
		s.state, s.ex = stateFailed, nil
		msg := err.Error()
		if ae, ok := err.(*AuthError); ok {
			msg = ae.Message
		}
		return AuthResult{Code: CodeSaslAuthenticationFailed, Message: msg, Close: true, Err: err}
	}
	if !done {
		return AuthResult{Token: challenge}
	}
	principal := s.ex.Principal()
	if s.reauth && principal != s.principal {
		s.state, s.ex = stateFailed, nil
		return AuthResult{Code: CodeSaslAuthenticationFailed, Close: true,
			Message: "Cannot change principals during re-authentication from User:" + s.principal + ": User:" + principal}
	}
	res := AuthResult{Token: challenge, Done: true, Principal: principal}
	if t, ok := s.ex.(interface{ TokenAuthenticated() bool }); ok {
		res.TokenAuthenticated = t.TokenAuthenticated()
	}
	s.expires = time.Time{}
	if window := s.cfg.MaxReauth[s.mech]; window > 0 {
		// KIP-368: the session lasts the window, or until the credential
		// expires if that is sooner.
		life := window
		if exp := s.ex.Expiry(); !exp.IsZero() {
			life = min(life, exp.Sub(now))
		}
		life = max(life, time.Millisecond)
		s.expires, res.Lifetime = now.Add(life), life
	}
	s.principal, s.tokenAuth, s.state, s.reauth, s.ex = principal, res.TokenAuthenticated, stateDone, false, nil
	return res
}

// RawTokens reports whether the next frame is a raw SASL token (after a
// v0 handshake) rather than a Kafka request.
func (s *Session) RawTokens() bool { return s.raw && s.state == stateAuthenticate }

// Authenticated reports whether the connection may send ordinary requests.
func (s *Session) Authenticated() bool { return s.state == stateDone }

// Expired reports whether an authenticated session outlived its lifetime
// without re-authenticating; Kafka closes such a connection on its next
// request other than a re-authentication.
func (s *Session) Expired(now time.Time) bool {
	return s.state == stateDone && !s.expires.IsZero() && now.After(s.expires)
}

// Principal is the authenticated user name.
func (s *Session) Principal() string { return s.principal }

// Mechanism is the mechanism chosen by the handshake.
func (s *Session) Mechanism() string { return s.mech }

// AllowedBeforeAuth reports whether an API key may be sent before the
// client has authenticated: ApiVersions, SaslHandshake, SaslAuthenticate.
func AllowedBeforeAuth(key int16) bool { return key == 18 || key == 17 || key == 36 }
