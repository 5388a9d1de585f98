package security

import (
	"strings"
	"testing"
	"time"
)

func plainSession(reauth time.Duration) *Session {
	return NewSession(&SASLConfig{
		Mechanisms: map[string]Mechanism{MechPlain: NewPlain(map[string]string{"alice": "pw", "bob": "pw"})},
		Enabled:    []string{MechPlain},
		MaxReauth:  map[string]time.Duration{MechPlain: reauth},
	})
}

func TestSessionFlow(t *testing.T) {
	now := time.Now()
	s := plainSession(0)
	if s.Authenticated() {
		t.Fatal("authenticated before anything")
	}
	if r := s.Handshake(1, "SCRAM-SHA-256", now); r.Code != CodeUnsupportedSaslMechanism || !r.Close || r.Mechanisms[0] != MechPlain {
		t.Fatalf("unknown mechanism: %+v", r)
	}
	s = plainSession(0)
	if r := s.Authenticate([]byte("\x00alice\x00pw"), now); r.Code != CodeIllegalSaslState || !r.Close {
		t.Fatalf("authenticate before handshake: %+v", r)
	}
	s = plainSession(0)
	if r := s.Handshake(1, MechPlain, now); r.Code != 0 {
		t.Fatalf("handshake: %+v", r)
	}
	if s.RawTokens() {
		t.Fatal("v1 handshake must not switch to raw tokens")
	}
	if r := s.Handshake(1, MechPlain, now); r.Code != CodeIllegalSaslState {
		t.Fatalf("second handshake mid-exchange: %+v", r)
	}
	s = plainSession(0)
	s.Handshake(1, MechPlain, now)
	r := s.Authenticate([]byte("\x00alice\x00pw"), now)
	if r.Code != 0 || !r.Done || r.Lifetime != 0 || !s.Authenticated() || s.Principal() != "alice" {
		t.Fatalf("authenticate: %+v", r)
	}
	if s.Expired(now.Add(24 * time.Hour)) {
		t.Fatal("a session without connections.max.reauth.ms expired")
	}
	s = plainSession(0)
	s.Handshake(0, MechPlain, now)
	if !s.RawTokens() {
		t.Fatal("v0 handshake: tokens must come raw")
	}
	if r := s.Authenticate([]byte("\x00alice\x00bad"), now); r.Code != CodeSaslAuthenticationFailed || !r.Close || !strings.Contains(r.Message, "Invalid username or password") {
		t.Fatalf("bad password: %+v", r)
	}
	if s.Authenticated() {
		t.Fatal("authenticated after a failure")
	}
}

func TestSessionReauthentication(t *testing.T) {
	now := time.Now()
	s := plainSession(time.Minute)
	s.Handshake(1, MechPlain, now)
	r := s.Authenticate([]byte("\x00alice\x00pw"), now)
	if r.Lifetime != time.Minute {
		t.Fatalf("lifetime %v", r.Lifetime)
	}
	if s.Expired(now.Add(59*time.Second)) || !s.Expired(now.Add(61*time.Second)) {
		t.Fatal("expiry does not follow connections.max.reauth.ms")
	}
	// Re-authenticate as the same user: allowed, new window.
	later := now.Add(50 * time.Second)
	if r := s.Handshake(1, MechPlain, later); r.Code != 0 {
		t.Fatalf("reauth handshake: %+v", r)
	}
	if !s.Authenticated() {
		t.Fatal("a connection re-authenticating keeps serving requests")
	}
	if r := s.Authenticate([]byte("\x00alice\x00pw"), later); !r.Done {
		t.Fatalf("reauth: %+v", r)
	}
	if s.Expired(now.Add(100 * time.Second)) {
		t.Fatal("re-authentication did not extend the session")
	}
	// Another principal is refused.
	s.Handshake(1, MechPlain, later)
	if r := s.Authenticate([]byte("\x00bob\x00pw"), later); r.Code != CodeSaslAuthenticationFailed || !strings.Contains(r.Message, "Cannot change principals") {
		t.Fatalf("principal change: %+v", r)
	}
	// v0 cannot re-authenticate.
	s = plainSession(time.Minute)
	s.Handshake(1, MechPlain, now)
	s.Authenticate([]byte("\x00alice\x00pw"), now)
	if r := s.Handshake(0, MechPlain, now); r.Code != CodeIllegalSaslState {
		t.Fatalf("v0 reauth: %+v", r)
	}
}

// A token that expires before the window ends shortens the session.
func TestSessionLifetimeFollowsTokenExpiry(t *testing.T) {
	now := time.Now()
	s := NewSession(&SASLConfig{
		Mechanisms: map[string]Mechanism{"X": fixedMech{exp: now.Add(10 * time.Second)}},
		Enabled:    []string{"X"}, MaxReauth: map[string]time.Duration{"X": time.Hour},
	})
	s.Handshake(1, "X", now)
	if r := s.Authenticate(nil, now); r.Lifetime != 10*time.Second {
		t.Fatalf("lifetime %v, want the token's 10s", r.Lifetime)
	}
}

type fixedMech struct{ exp time.Time }

func (m fixedMech) Name() string    { return "X" }
func (m fixedMech) Start() Exchange { return fixedEx(m) }

type fixedEx fixedMech

func (e fixedEx) Step([]byte, time.Time) ([]byte, bool, error) { return nil, true, nil }
func (e fixedEx) Principal() string                            { return "x" }
func (e fixedEx) Expiry() time.Time                            { return e.exp }
