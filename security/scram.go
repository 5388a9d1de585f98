package security

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/xdg-go/scram"
)

// ScramMechanism numbers as Kafka's UserScramCredentialRecord and the
// SCRAM credential APIs carry them.
const (
	ScramUnknown int8 = 0
	ScramSHA256  int8 = 1
	ScramSHA512  int8 = 2
)

// Kafka's bounds on SCRAM iterations.
const (
	MinScramIterations = 4096
	MaxScramIterations = 16384
)

// ScramMechanismByName maps SCRAM-SHA-256/512 to its number (0 if neither).
func ScramMechanismByName(name string) int8 {
	switch strings.ToUpper(name) {
	case MechScramSHA256:
		return ScramSHA256
	case MechScramSHA512:
		return ScramSHA512
	}
	return ScramUnknown
}

// ScramMechanismName is the inverse of ScramMechanismByName.
func ScramMechanismName(m int8) string {
	switch m {
	case ScramSHA256:
		return MechScramSHA256
	case ScramSHA512:
		return MechScramSHA512
	}
	return "UNKNOWN"
}

// ScramCredential is what the server keeps of a SCRAM password (RFC 5802):
// never the password itself.
type ScramCredential struct {
	Mechanism  int8
	Salt       []byte
	StoredKey  []byte
	ServerKey  []byte
	Iterations int32
}

func hashFor(m int8) (scram.HashGeneratorFcn, error) {
	switch m {
	case ScramSHA256:
		return scram.SHA256, nil
	case ScramSHA512:
		return scram.SHA512, nil
	}
	return nil, fmt.Errorf("unknown SCRAM mechanism %d", m)
}

// NewScramCredential derives a credential from a password. A nil salt gets
// a random one; iterations must be within Kafka's bounds.
func NewScramCredential(mech int8, password string, salt []byte, iterations int) (ScramCredential, error) {
	h, err := hashFor(mech)
	if err != nil {
		return ScramCredential{}, err
	}
	if iterations < MinScramIterations || iterations > MaxScramIterations {
		return ScramCredential{}, fmt.Errorf("iterations %d: must be between %d and %d", iterations, MinScramIterations, MaxScramIterations)
	}
	if len(salt) == 0 {
		salt = make([]byte, 32)
		if _, err := rand.Read(salt); err != nil {
			return ScramCredential{}, err
		}
	}
	// Kafka's clients do not SASLprep passwords; neither may the stored key.
	c, err := h.NewClientUnprepped("", password, "")
	if err != nil {
		return ScramCredential{}, err
	}
	sc, err := c.GetStoredCredentialsWithError(scram.KeyFactors{Salt: string(salt), Iters: iterations})
	if err != nil {
		return ScramCredential{}, err
	}
	return ScramCredential{Mechanism: mech, Salt: salt, StoredKey: sc.StoredKey, ServerKey: sc.ServerKey, Iterations: int32(iterations)}, nil
}

// ScramLookup finds a user's credential for a mechanism.
type ScramLookup func(user string, mech int8) (ScramCredential, bool)

type scramMechanism struct {
	mech   int8
	name   string
	server *scram.Server
	lookup ScramLookup
	hash   scram.HashGeneratorFcn
	tokens TokenLookup
}

// TokenLookup finds a live delegation token by id (KIP-48): the SCRAM
// credential of its password for mech, its owner's principal name and its
// expiry. A missing or expired token is not found.
type TokenLookup func(tokenID string, mech int8, now time.Time) (cred ScramCredential, owner string, expiry time.Time, ok bool)

// errUnknownUser never reaches a client: the message is the same as for a
// wrong password.
var errUnknownUser = errors.New("unknown user")

// NewScram returns the server side of SCRAM-SHA-256 or -512 over lookup,
// and over tokens for clients that send the tokenauth=true extension
// (tokens nil: delegation tokens are off and such clients fail).
func NewScram(mech int8, lookup ScramLookup, tokens TokenLookup) (Mechanism, error) {
	h, err := hashFor(mech)
	if err != nil {
		return nil, err
	}
	srv, err := h.NewServer(func(user string) (scram.StoredCredentials, error) {
		c, ok := lookup(user, mech)
		if !ok {
			return scram.StoredCredentials{}, errUnknownUser
		}
		return storedCredentials(c), nil
	})
	if err != nil {
		return nil, err
	}
	return &scramMechanism{mech: mech, name: ScramMechanismName(mech), server: srv, lookup: lookup, hash: h, tokens: tokens}, nil
}

func storedCredentials(c ScramCredential) scram.StoredCredentials {
	return scram.StoredCredentials{
		KeyFactors: scram.KeyFactors{Salt: string(c.Salt), Iters: int(c.Iterations)},
		StoredKey:  c.StoredKey, ServerKey: c.ServerKey,
	}
}

func (m *scramMechanism) Name() string { return m.name }

func (m *scramMechanism) Start() Exchange { return &scramExchange{m: m} }

type scramExchange struct {
	m    *scramMechanism
	conv *scram.ServerConversation
	// The first round's messages, kept for the one final message the
	// library cannot judge (see finalWithEchoedNonce).
	c1, s1 string
	first  bool
	done   bool
	// Set when the client authenticates with a delegation token: the
	// principal is the token's owner, not the token id it logged in as.
	token       bool
	tokenCred   ScramCredential
	tokenOwner  string
	tokenExpiry time.Time
}

// start picks the conversation from the client's first message: a token
// login when its extensions (after the nonce) include tokenauth=true.
func (e *scramExchange) start(first []byte, now time.Time) error {
	fields := strings.Split(string(first), ",")
	for i := 4; i < len(fields); i++ {
		if k, v, _ := strings.Cut(fields[i], "="); k == "tokenauth" && strings.EqualFold(v, "true") {
			e.token = true
		}
	}
	if !e.token {
		e.conv = e.m.server.NewConversation()
		return nil
	}
	srv, err := e.m.hash.NewServer(func(id string) (scram.StoredCredentials, error) {
		if e.m.tokens == nil {
			return scram.StoredCredentials{}, errors.New("delegation tokens are disabled")
		}
		c, owner, exp, ok := e.m.tokens(id, e.m.mech, now)
		if !ok {
			return scram.StoredCredentials{}, fmt.Errorf("no live delegation token %q", id)
		}
		e.tokenCred, e.tokenOwner, e.tokenExpiry = c, owner, exp
		return storedCredentials(c), nil
	})
	if err != nil {
		return err
	}
	e.conv = srv.NewConversation()
	return nil
}

// credential is what the client is checked against: the token's, or the
// user's.
func (e *scramExchange) credential() (ScramCredential, bool) {
	if e.token {
		return e.tokenCred, e.tokenOwner != ""
	}
	return e.m.lookup(e.conv.Username(), e.m.mech)
}

func (e *scramExchange) Step(token []byte, now time.Time) ([]byte, bool, error) {
	if e.conv == nil {
		if err := e.start(token, now); err != nil {
			return nil, false, invalidCredentials(e.m.name, err)
		}
	}
	if e.conv.Done() || e.done {
		return nil, false, protocolErr("%v", errDone)
	}
	if e.first {
		if resp, ok, err := e.finalWithEchoedNonce(string(token)); ok {
			e.done = true
			if err == nil {
				err = e.checkAuthzID()
			}
			if err != nil {
				return nil, false, err
			}
			return resp, true, nil
		}
	}
	resp, err := e.conv.Step(string(token))
	if err != nil {
		return nil, false, invalidCredentials(e.m.name, err)
	}
	if !e.first {
		e.first, e.c1, e.s1 = true, string(token), resp
	}
	if e.conv.Done() {
		if !e.conv.Valid() {
			return nil, false, invalidCredentials(e.m.name, errors.New("invalid proof"))
		}
		if err := e.checkAuthzID(); err != nil {
			return nil, false, err
		}
		return []byte(resp), true, nil
	}
	return []byte(resp), false, nil
}

func (e *scramExchange) checkAuthzID() error {
	if z := e.conv.AuthzID(); z != "" && z != e.conv.Username() {
		return protocolErr("Authentication failed: Client requested an authorization id that is different from username")
	}
	return nil
}

// finalWithEchoedNonce judges a client-final message whose nonce is not
// the server's nonce but ends with it. librdkafka before 2.6.1 sends its
// own nonce again in front of the combined one (librdkafka PR #4895), and
// Apache Kafka accepts that: its server checks that the client's nonce
// ends with the server's (ScramSaslServer, since the CVE-2024-56128 fix).
// The library compares the nonces for equality, so this one case is
// verified here, over the message exactly as the client signed it. ok is
// false for every other message, which the library judges.
func (e *scramExchange) finalWithEchoedNonce(c2 string) (resp []byte, ok bool, err error) {
	serverNonce := scramAttr(e.s1, "r")
	nonce := scramAttr(c2, "r")
	if serverNonce == "" || nonce == serverNonce || !strings.HasSuffix(nonce, serverNonce) {
		return nil, false, nil
	}
	fail := func(why string) ([]byte, bool, error) {
		return nil, true, invalidCredentials(e.m.name, errors.New(why))
	}
	i := strings.LastIndex(c2, ",p=")
	if i < 0 {
		return fail("no proof")
	}
	withoutProof := c2[:i]
	proof, err := base64.StdEncoding.DecodeString(c2[i+3:])
	if err != nil {
		return fail("proof is not base64")
	}
	// The channel binding attribute echoes the GS2 header: "n,," (or
	// with an authorization id) base64-encoded, as no binding is offered.
	flag, rest, ok1 := strings.Cut(e.c1, ",")
	authz, bare, ok2 := strings.Cut(rest, ",")
	if !ok1 || !ok2 {
		return fail("malformed client-first message")
	}
	if scramAttr(c2, "c") != base64.StdEncoding.EncodeToString([]byte(flag+","+authz+",")) {
		return fail("channel binding mismatch")
	}
	cred, found := e.credential()
	if !found {
		return fail("unknown user")
	}
	authMsg := []byte(bare + "," + e.s1 + "," + withoutProof)
	sig := hmac.New(e.m.hash, cred.StoredKey)
	sig.Write(authMsg)
	clientSig := sig.Sum(nil)
	if len(proof) != len(clientSig) {
		return fail("invalid proof")
	}
	clientKey := make([]byte, len(proof))
	for j := range proof {
		clientKey[j] = proof[j] ^ clientSig[j]
	}
	stored := e.m.hash()
	stored.Write(clientKey)
	if !hmac.Equal(stored.Sum(nil), cred.StoredKey) {
		return fail("invalid proof")
	}
	verifier := hmac.New(e.m.hash, cred.ServerKey)
	verifier.Write(authMsg)
	return []byte("v=" + base64.StdEncoding.EncodeToString(verifier.Sum(nil))), true, nil
}

// scramAttr is the value of attribute name ("r", "c", ...) in a SCRAM
// message, or "".
func scramAttr(msg, name string) string {
	for _, f := range strings.Split(msg, ",") {
		if v, ok := strings.CutPrefix(f, name+"="); ok {
			return v
		}
	}
	return ""
}

func (e *scramExchange) Principal() string {
	if e.token {
		return e.tokenOwner
	}
	return e.conv.Username()
}

// TokenAuthenticated reports whether the client logged in with a
// delegation token.
func (e *scramExchange) TokenAuthenticated() bool { return e.token }

// Expiry is a token's expiry: a session authenticated with a token lasts
// no longer than the token (with connections.max.reauth.ms set).
func (e *scramExchange) Expiry() time.Time { return e.tokenExpiry }

// ParseScramSpec parses kafka-storage's --add-scram argument (KIP-900):
// SCRAM-SHA-256=[name=alice,password=alice-secret], optionally with
// iterations=N and salt=<base64>, or saltedpassword=<base64> (with salt)
// instead of password.
func ParseScramSpec(s string) (user string, cred ScramCredential, err error) {
	mechName, body, ok := strings.Cut(s, "=")
	if !ok {
		return "", cred, fmt.Errorf("%q: want MECHANISM=[name=USER,password=PASSWORD]", s)
	}
	mech := ScramMechanismByName(strings.TrimSpace(mechName))
	if mech == ScramUnknown {
		return "", cred, fmt.Errorf("%q: unknown SCRAM mechanism %s (SCRAM-SHA-256 or SCRAM-SHA-512)", s, mechName)
	}
	body = strings.TrimSpace(body)
	if !strings.HasPrefix(body, "[") || !strings.HasSuffix(body, "]") {
		return "", cred, fmt.Errorf("%q: the credential must be in brackets: [name=USER,password=PASSWORD]", s)
	}
	kv, err := parseScramPairs(body[1 : len(body)-1])
	if err != nil {
		return "", cred, fmt.Errorf("%q: %v", s, err)
	}
	cred, err = credentialFromPairs(mech, kv)
	if err != nil {
		return "", cred, fmt.Errorf("%q: %v", s, err)
	}
	return kv["name"], cred, nil
}

func credentialFromPairs(mech int8, kv map[string]string) (ScramCredential, error) {
	if kv["name"] == "" {
		return ScramCredential{}, fmt.Errorf("name is required")
	}
	iters := MinScramIterations
	if v, ok := kv["iterations"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return ScramCredential{}, fmt.Errorf("iterations %q is not a number", v)
		}
		iters = n
	}
	var salt []byte
	if v, ok := kv["salt"]; ok {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(b) == 0 {
			return ScramCredential{}, fmt.Errorf("salt %q is not base64", v)
		}
		salt = b
	}
	pass, hasPass := kv["password"]
	salted, hasSalted := kv["saltedpassword"]
	switch {
	case hasPass && hasSalted:
		return ScramCredential{}, fmt.Errorf("give password or saltedpassword, not both")
	case hasSalted:
		if salt == nil {
			return ScramCredential{}, fmt.Errorf("saltedpassword needs salt")
		}
		sp, err := base64.StdEncoding.DecodeString(salted)
		if err != nil || len(sp) == 0 {
			return ScramCredential{}, fmt.Errorf("saltedpassword is not base64")
		}
		return CredentialFromSalted(mech, sp, salt, iters)
	case pass == "":
		return ScramCredential{}, fmt.Errorf("password is required")
	}
	return NewScramCredential(mech, pass, salt, iters)
}

// CredentialFromSalted derives the keys from an already salted password
// (RFC 5802: ClientKey = HMAC(SaltedPassword, "Client Key"), StoredKey =
// H(ClientKey), ServerKey = HMAC(SaltedPassword, "Server Key")).
func CredentialFromSalted(mech int8, salted, salt []byte, iters int) (ScramCredential, error) {
	if iters < MinScramIterations || iters > MaxScramIterations {
		return ScramCredential{}, fmt.Errorf("iterations %d: must be between %d and %d", iters, MinScramIterations, MaxScramIterations)
	}
	h := sha256.New
	if mech == ScramSHA512 {
		h = sha512.New
	}
	mac := func(msg string) []byte {
		m := hmac.New(h, salted)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	d := h()
	d.Write(mac("Client Key"))
	return ScramCredential{Mechanism: mech, Salt: salt, StoredKey: d.Sum(nil), ServerKey: mac("Server Key"), Iterations: int32(iters)}, nil
}

// parseScramPairs reads key=value pairs separated by commas; a value may
// be double-quoted to hold commas.
func parseScramPairs(s string) (map[string]string, error) {
	out := map[string]string{}
	for s != "" {
		k, rest, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("expected key=value in %q", s)
		}
		k = strings.TrimSpace(k)
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote in %q", rest)
			}
			v, rest = rest[1:end+1], rest[end+2:]
			rest = strings.TrimPrefix(strings.TrimSpace(rest), ",")
		} else {
			v, rest, _ = strings.Cut(rest, ",")
		}
		switch k {
		case "name", "password", "iterations", "salt", "saltedpassword":
		default:
			return nil, fmt.Errorf("unknown key %q (name, password, iterations, salt, saltedpassword)", k)
		}
		out[k] = v
		s = strings.TrimSpace(rest)
	}
	return out, nil
}
