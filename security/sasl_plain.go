package security

import (
	"bytes"
	"crypto/subtle"
	"time"
)

// plainMechanism checks PLAIN credentials against the users of the
// listener's JAAS config (user_<name>="<password>" options).
type plainMechanism struct {
	users map[string]string
}

// NewPlain returns the PLAIN mechanism for users (name -> password).
func NewPlain(users map[string]string) Mechanism { return &plainMechanism{users: users} }

func (m *plainMechanism) Name() string { return MechPlain }

func (m *plainMechanism) Start() Exchange { return &plainExchange{m: m} }

type plainExchange struct {
	m    *plainMechanism
	user string
	done bool
}

// Step reads [authzid] NUL authcid NUL passwd (RFC 4616) with Kafka's
// error messages.
func (e *plainExchange) Step(token []byte, _ time.Time) ([]byte, bool, error) {
	if e.done {
		return nil, false, protocolErr("%v", errDone)
	}
	parts := bytes.Split(token, []byte{0})
	if len(parts) != 3 {
		return nil, false, protocolErr("Invalid SASL/PLAIN response: expected 3 tokens, got %d", len(parts))
	}
	authz, user, pass := string(parts[0]), string(parts[1]), parts[2]
	switch {
	case user == "":
		return nil, false, protocolErr("Authentication failed: username not specified")
	case len(pass) == 0:
		return nil, false, protocolErr("Authentication failed: password not specified")
	case authz != "" && authz != user:
		return nil, false, protocolErr("Authentication failed: Client requested an authorization id that is different from username")
	}
	want, ok := e.m.users[user]
	// Compare even for unknown users, so timing does not tell them apart.
	if subtle.ConstantTimeCompare([]byte(want), pass) != 1 || !ok {
		return nil, false, protocolErr("Authentication failed: Invalid username or password")
	}
	e.user, e.done = user, true
	return nil, true, nil
}

func (e *plainExchange) Principal() string { return e.user }

func (e *plainExchange) Expiry() time.Time { return time.Time{} }
