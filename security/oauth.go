package security

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// OAuthSettings are the sasl.oauthbearer.* settings of one listener
// (KIP-768's broker-side JWT validation).
type OAuthSettings struct {
	JWKSURL        string
	Refresh        time.Duration
	RetryBackoff   time.Duration
	RetryMax       time.Duration
	Audience       []string
	Issuer         string
	ClockSkew      time.Duration
	SubClaim       string
	ScopeClaim     string
	HTTPTimeout    time.Duration
	AllowedMethods []string
}

// asymmetric signing methods only: a JWKS holds public keys, and an HMAC
// or "none" token must never verify.
var jwtMethods = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

type oauthMechanism struct {
	s    OAuthSettings
	keys *JWKS
}

// NewOAuthBearer returns the OAUTHBEARER mechanism validating tokens with
// keys. keys is owned by the caller (closed with the listener).
func NewOAuthBearer(s OAuthSettings, keys *JWKS) Mechanism {
	if s.SubClaim == "" {
		s.SubClaim = "sub"
	}
	if s.ScopeClaim == "" {
		s.ScopeClaim = "scope"
	}
	return &oauthMechanism{s: s, keys: keys}
}

func (m *oauthMechanism) Name() string { return MechOAuthBearer }

func (m *oauthMechanism) Start() Exchange { return &oauthExchange{m: m} }

type oauthExchange struct {
	m       *oauthMechanism
	failed  *AuthError
	done    bool
	user    string
	expiry  time.Time
	scopes  []string
	started bool
}

// kafkaOAuthError is what Kafka sends as the server's error challenge and
// then as the failure message (RFC 7628 section 3.2.2).
const kafkaOAuthError = `{"status":"invalid_token"}`

func (e *oauthExchange) Step(token []byte, now time.Time) ([]byte, bool, error) {
	switch {
	case e.done:
		return nil, false, protocolErr("%v", errDone)
	case e.failed != nil:
		// The client acknowledges our error with a lone %x01.
		return nil, false, e.failed
	}
	e.started = true
	bearer, err := parseOAuthClientFirst(token)
	if err != nil {
		return nil, false, protocolErr("Invalid OAUTHBEARER client first message: %v", err)
	}
	if err := e.validate(bearer, now); err != nil {
		e.failed = &AuthError{Message: kafkaOAuthError, Cause: err}
		return []byte(kafkaOAuthError), false, nil
	}
	e.done = true
	return nil, true, nil
}

// parseOAuthClientFirst reads gs2-header %x01 key=value %x01 ... %x01%x01
// and returns the bearer token.
func parseOAuthClientFirst(msg []byte) (string, error) {
	gs2, rest, ok := bytes.Cut(msg, []byte{1})
	if !ok || !bytes.HasPrefix(gs2, []byte("n,")) {
		return "", errors.New("missing gs2 header")
	}
	if !bytes.HasSuffix(rest, []byte{1}) {
		return "", errors.New("missing final separator")
	}
	var auth string
	for _, kv := range bytes.Split(rest[:len(rest)-1], []byte{1}) {
		if len(kv) == 0 {
			continue
		}
		k, v, ok := bytes.Cut(kv, []byte("="))
		if !ok {
			return "", fmt.Errorf("malformed key-value pair %q", kv)
		}
		if string(k) == "auth" {
			auth = string(v)
		}
		// Other keys are SASL extensions (KIP-342); nothing here uses them.
	}
	scheme, tok, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", errors.New("no auth=Bearer <token>")
	}
	return strings.TrimSpace(tok), nil
}

func (e *oauthExchange) validate(raw string, now time.Time) error {
	s := e.m.s
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(jwtMethods), jwt.WithLeeway(s.ClockSkew),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	}
	if len(s.Audience) > 0 {
		opts = append(opts, jwt.WithAudience(s.Audience...))
	}
	if s.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(s.Issuer))
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(raw, claims, e.m.keys.Keyfunc, opts...); err != nil {
		return err
	}
	if _, ok := claims["iat"]; !ok {
		return errors.New("token has no iat claim")
	}
	sub, ok := claims[s.SubClaim].(string)
	if !ok || strings.TrimSpace(sub) == "" {
		return fmt.Errorf("token has no %s claim naming the principal", s.SubClaim)
	}
	scopes, err := scopeClaim(claims[s.ScopeClaim])
	if err != nil {
		return fmt.Errorf("claim %s: %w", s.ScopeClaim, err)
	}
	exp, _ := claims.GetExpirationTime()
	e.user, e.expiry, e.scopes = sub, exp.Time, scopes
	return nil
}

// scopeClaim accepts a space-separated string or a list of strings.
func scopeClaim(v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return strings.Fields(x), nil
	case []any:
		out := make([]string, 0, len(x))
		for _, s := range x {
			str, ok := s.(string)
			if !ok {
				return nil, errors.New("a scope list may only hold strings")
			}
			out = append(out, str)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected type %T", v)
}

func (e *oauthExchange) Principal() string { return e.user }

func (e *oauthExchange) Expiry() time.Time { return e.expiry }

// Scopes are the token's scopes, once done.
func (e *oauthExchange) Scopes() []string { return e.scopes }
