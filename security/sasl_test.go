package security

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// drive runs a franz-go client mechanism against a server exchange the way
// a broker would, and returns the server's principal or error.
func drive(t *testing.T, client sasl.Mechanism, server Exchange, now time.Time) (string, error) {
	t.Helper()
	sess, tok, err := client.Authenticate(context.Background(), "localhost")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		challenge, done, err := server.Step(tok, now)
		if err != nil {
			return "", err
		}
		cdone, next, cerr := sess.Challenge(challenge)
		if cerr != nil {
			return "", fmt.Errorf("client: %w", cerr)
		}
		if done {
			if !cdone {
				t.Fatal("server done before the client")
			}
			return server.Principal(), nil
		}
		tok = next
	}
	t.Fatal("exchange did not finish")
	return "", nil
}

func TestPlain(t *testing.T) {
	m := NewPlain(map[string]string{"alice": "alice-secret"})
	if p, err := drive(t, plain.Auth{User: "alice", Pass: "alice-secret"}.AsMechanism(), m.Start(), time.Now()); err != nil || p != "alice" {
		t.Fatalf("good password: %q %v", p, err)
	}
	for _, c := range []struct{ user, pass, zid, want string }{
		{"alice", "wrong", "", "Invalid username or password"},
		{"nobody", "alice-secret", "", "Invalid username or password"},
		{"alice", "alice-secret", "bob", "authorization id"},
	} {
		_, err := drive(t, plain.Auth{User: c.user, Pass: c.pass, Zid: c.zid}.AsMechanism(), m.Start(), time.Now())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v", c, err)
		}
	}
	if _, _, err := m.Start().Step([]byte("no-nuls"), time.Now()); err == nil || !strings.Contains(err.Error(), "expected 3 tokens") {
		t.Errorf("malformed: %v", err)
	}
}

func TestScram(t *testing.T) {
	for _, mech := range []int8{ScramSHA256, ScramSHA512} {
		cred, err := NewScramCredential(mech, "alice-secret", nil, 4096)
		if err != nil {
			t.Fatal(err)
		}
		lookup := func(user string, m int8) (ScramCredential, bool) {
			return cred, user == "alice" && m == mech
		}
		srv, err := NewScram(mech, lookup, nil)
		if err != nil {
			t.Fatal(err)
		}
		client := func(user, pass string) sasl.Mechanism {
			a := scram.Auth{User: user, Pass: pass}
			if mech == ScramSHA256 {
				return a.AsSha256Mechanism()
			}
			return a.AsSha512Mechanism()
		}
		if p, err := drive(t, client("alice", "alice-secret"), srv.Start(), time.Now()); err != nil || p != "alice" {
			t.Fatalf("%s good password: %q %v", srv.Name(), p, err)
		}
		for _, c := range [][2]string{{"alice", "wrong"}, {"bob", "alice-secret"}} {
			_, err := drive(t, client(c[0], c[1]), srv.Start(), time.Now())
			if err == nil || !strings.Contains(err.Error(), "invalid credentials with SASL mechanism "+srv.Name()) {
				t.Errorf("%s %v: err = %v", srv.Name(), c, err)
			}
		}
	}
}

func TestScramCredentialBounds(t *testing.T) {
	if _, err := NewScramCredential(ScramSHA256, "pw", nil, 1000); err == nil {
		t.Error("1000 iterations accepted")
	}
	if _, err := NewScramCredential(3, "pw", nil, 4096); err == nil {
		t.Error("mechanism 3 accepted")
	}
}

func TestParseScramSpec(t *testing.T) {
	user, cred, err := ParseScramSpec(`SCRAM-SHA-512=[name=alice,password="a,b=c",iterations=8192]`)
	if err != nil || user != "alice" || cred.Iterations != 8192 || cred.Mechanism != ScramSHA512 {
		t.Fatalf("%q %+v %v", user, cred, err)
	}
	// A salted password gives the same keys as the password it came from.
	salt := []byte("0123456789abcdef")
	fromPass, _ := NewScramCredential(ScramSHA256, "pw", salt, 4096)
	salted := pbkdf2SHA256(t, "pw", salt, 4096)
	_, fromSalted, err := ParseScramSpec(fmt.Sprintf(`SCRAM-SHA-256=[name=bob,salt=%s,saltedpassword=%s,iterations=4096]`,
		base64.StdEncoding.EncodeToString(salt), base64.StdEncoding.EncodeToString(salted)))
	if err != nil {
		t.Fatal(err)
	}
	if string(fromSalted.StoredKey) != string(fromPass.StoredKey) || string(fromSalted.ServerKey) != string(fromPass.ServerKey) {
		t.Fatal("saltedpassword gives other keys than password")
	}
	for _, bad := range []string{
		"SCRAM-SHA-1=[name=a,password=b]", "SCRAM-SHA-256=name=a,password=b", "SCRAM-SHA-256=[password=b]",
		"SCRAM-SHA-256=[name=a]", "SCRAM-SHA-256=[name=a,password=b,iterations=x]", "SCRAM-SHA-256=[name=a,password=b,colour=red]",
		"SCRAM-SHA-256=[name=a,password=b,salt=***]", "SCRAM-SHA-256=[name=a,saltedpassword=AAAA]",
	} {
		if _, _, err := ParseScramSpec(bad); err == nil {
			t.Errorf("ParseScramSpec(%q) accepted", bad)
		}
	}
}

// oauthFixture signs tokens with a key published in a JWKS file.
type oauthFixture struct {
	key  *ecdsa.PrivateKey
	kid  string
	jwks string
}

func newOAuthFixture(t *testing.T) *oauthFixture {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pad := func(b *big.Int) string { return base64.RawURLEncoding.EncodeToString(b.FillBytes(make([]byte, 32))) }
	set := map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "use": "sig",
		"x": pad(key.X), "y": pad(key.Y),
	}}}
	b, _ := json.Marshal(set)
	return &oauthFixture{key: key, kid: "k1", jwks: "file://" + writeFile(t, "jwks.json", b)}
}

func (f *oauthFixture) token(t *testing.T, claims jwt.MapClaims) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["kid"] = f.kid
	s, err := tok.SignedString(f.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOAuthBearer(t *testing.T) {
	f := newOAuthFixture(t)
	s := OAuthSettings{JWKSURL: f.jwks, Audience: []string{"spool"}, Issuer: "https://idp", ClockSkew: 30 * time.Second}
	keys, err := OpenJWKS(s)
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Close()
	m := NewOAuthBearer(s, keys)
	now := time.Now()
	good := jwt.MapClaims{"sub": "alice", "aud": "spool", "iss": "https://idp", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "scope": "a b"}
	ex := m.Start()
	if p, err := drive(t, oauth.Auth{Token: f.token(t, good)}.AsMechanism(), ex, now); err != nil || p != "alice" {
		t.Fatalf("good token: %q %v", p, err)
	}
	if ex.Expiry().Unix() != now.Add(time.Hour).Unix() {
		t.Fatalf("expiry %v", ex.Expiry())
	}
	with := func(k string, v any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for kk, vv := range good {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	bad := map[string]string{
		"expired":       f.token(t, with("exp", now.Add(-time.Minute).Unix())),
		"no exp":        f.token(t, with("exp", nil)),
		"no iat":        f.token(t, with("iat", nil)),
		"wrong aud":     f.token(t, with("aud", "other")),
		"wrong iss":     f.token(t, with("iss", "https://evil")),
		"no sub":        f.token(t, with("sub", nil)),
		"future nbf":    f.token(t, with("nbf", now.Add(time.Hour).Unix())),
		"other key":     newOAuthFixture(t).token(t, good),
		"unsigned":      unsignedToken(t, good),
		"hmac":          hmacToken(t, good),
		"not a jwt":     "abc.def.ghi",
		"bad scope":     f.token(t, with("scope", 42)),
		"past the skew": f.token(t, with("exp", now.Add(-time.Hour).Unix())),
	}
	for name, tok := range bad {
		_, err := drive(t, oauth.Auth{Token: tok}.AsMechanism(), m.Start(), now)
		if err == nil {
			t.Errorf("%s: token accepted", name)
			continue
		}
	}
	// Expiry within the clock skew is still accepted.
	skewed := f.token(t, with("exp", now.Add(-10*time.Second).Unix()))
	if _, err := drive(t, oauth.Auth{Token: skewed}.AsMechanism(), m.Start(), now); err != nil {
		t.Errorf("token expired 10s ago within a 30s skew: %v", err)
	}
}

// The server's failure is Kafka's: an error challenge, then the failure
// once the client acknowledges with %x01.
func TestOAuthBearerErrorFlow(t *testing.T) {
	f := newOAuthFixture(t)
	s := OAuthSettings{JWKSURL: f.jwks}
	keys, _ := OpenJWKS(s)
	ex := NewOAuthBearer(s, keys).Start()
	msg := []byte("n,,\x01auth=Bearer " + "x.y.z" + "\x01\x01")
	ch, done, err := ex.Step(msg, time.Now())
	if err != nil || done || string(ch) != kafkaOAuthError {
		t.Fatalf("first step: %q %v %v", ch, done, err)
	}
	_, _, err = ex.Step([]byte{1}, time.Now())
	ae, ok := err.(*AuthError)
	if !ok || ae.Message != kafkaOAuthError {
		t.Fatalf("second step: %v", err)
	}
	if _, err := OpenJWKS(OAuthSettings{JWKSURL: "file:///nonexistent/jwks.json"}); err == nil {
		t.Fatal("a missing JWKS file was accepted")
	}
	if _, err := OpenJWKS(OAuthSettings{JWKSURL: "ftp://x"}); err == nil {
		t.Fatal("an ftp JWKS URL was accepted")
	}
}

func unsignedToken(t *testing.T, c jwt.MapClaims) string {
	s, err := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hmacToken(t *testing.T, c jwt.MapClaims) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
