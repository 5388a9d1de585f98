package security

import (
	"errors"
	"fmt"
	"time"
)

// SASL mechanism names.
const (
	MechPlain       = "PLAIN"
	MechScramSHA256 = "SCRAM-SHA-256"
	MechScramSHA512 = "SCRAM-SHA-512"
	MechOAuthBearer = "OAUTHBEARER"
)

// Mechanism is the server side of one SASL mechanism on one listener.
type Mechanism interface {
	Name() string
	// Start begins one authentication exchange.
	Start() Exchange
}

// Exchange is one authentication in progress.
type Exchange interface {
	// Step takes the client's next token and returns the token to send
	// back. done means the client is authenticated. A failed step returns
	// an *AuthError; it may still carry a final challenge to send (an
	// OAUTHBEARER error status) when more is true.
	Step(token []byte, now time.Time) (challenge []byte, done bool, err error)
	// Principal is the authenticated name once done.
	Principal() string
	// Expiry is when the credential stops being valid (an OAUTHBEARER
	// token's exp); zero when it does not expire.
	Expiry() time.Time
}

// AuthError is an authentication failure; Message is what the client is
// told (SaslAuthenticate's error message), Cause what the log says.
type AuthError struct {
	Message string
	Cause   error
}

func (e *AuthError) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

func (e *AuthError) Unwrap() error { return e.Cause }

// invalidCredentials is Kafka's message for a mechanism failing on bad
// credentials without saying which part was wrong.
func invalidCredentials(mech string, cause error) *AuthError {
	return &AuthError{
		Message: "Authentication failed during authentication due to invalid credentials with SASL mechanism " + mech,
		Cause:   cause,
	}
}

// errDone is returned for a token after the exchange completed.
var errDone = errors.New("the SASL exchange is already complete")

func protocolErr(format string, args ...any) *AuthError {
	return &AuthError{Message: fmt.Sprintf(format, args...)}
}
