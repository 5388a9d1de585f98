package test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"spool/test/harness"
)

const (
	plainModule = "org.apache.kafka.common.security.plain.PlainLoginModule"
	scramModule = "org.apache.kafka.common.security.scram.ScramLoginModule"
)

// secureNode starts a single node whose client listener is name (SSL,
// SASL_PLAINTEXT or SASL_SSL) with props; scram credentials are added at
// format time.
func secureNode(t *testing.T, name string, props map[string]string, clientTLS *tls.Config, scramSpecs ...string) *harness.Node {
	t.Helper()
	n := harness.SingleNode(t, nil)
	extra := map[string]string{"listeners": fmt.Sprintf("%s://%s,CONTROLLER://%s", name, n.Addr, n.CtrlAddr)}
	for k, v := range props {
		extra[k] = v
	}
	n = reconfigure(t, n, extra)
	if len(scramSpecs) > 0 {
		args := []string{"storage", "format", "--config", n.ConfigFile, "--cluster-id", n.ClusterID}
		for _, s := range scramSpecs {
			args = append(args, "--add-scram", s)
		}
		if out, code := harness.Run(t, args...); code != 0 {
			t.Fatalf("storage format: exit %d\n%s", code, out)
		}
	}
	n.ClientTLS = clientTLS
	n.Start()
	t.Cleanup(func() { n.Stop() })
	return n
}

// reconfigure rewrites a described node's properties file.
func reconfigure(t *testing.T, n *harness.Node, extra map[string]string) *harness.Node {
	for k, v := range extra {
		n.Props[k] = v
	}
	var b strings.Builder
	for k, v := range n.Props {
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	if err := os.WriteFile(n.ConfigFile, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return n
}

func mustFail(t *testing.T, what string, err error, check func(error) bool) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: succeeded, want a failure", what)
	}
	if !check(err) {
		t.Fatalf("%s: unexpected error %v", what, err)
	}
}

func TestSecuritySSL(t *testing.T) {
	pki := newPKI(t, "cluster")
	n := secureNode(t, "SSL", map[string]string{
		"ssl.keystore.type": "PEM", "ssl.keystore.location": pki.issue("broker"),
	}, pki.clientTLS(""))
	if err := roundTrip(t, n.Addr, "ssl", pki.clientTLS(""), nil); err != nil {
		t.Fatal(err)
	}
	// A client that does not trust the broker's CA refuses it.
	other := newPKI(t, "other")
	mustFail(t, "untrusted server certificate", roundTrip(t, n.Addr, "ssl", other.clientTLS(""), nil), func(err error) bool {
		var ua interface{ Error() string }
		return errors.As(err, &ua) && strings.Contains(err.Error(), "certificate")
	})
	// A plaintext client on the TLS port is dropped, as Kafka drops it.
	mustFail(t, "plaintext client on a TLS port", roundTrip(t, n.Addr, "ssl", nil, nil), func(err error) bool { return true })
	if err := roundTrip(t, n.Addr, "ssl", pki.clientTLS(""), nil); err != nil || !n.Running() {
		t.Fatalf("node unhealthy after refused clients: %v", err)
	}
}

func TestSecurityMutualTLS(t *testing.T) {
	pki := newPKI(t, "cluster")
	alice := pki.issue("alice")
	n := secureNode(t, "SSL", map[string]string{
		"ssl.keystore.type": "PEM", "ssl.keystore.location": pki.issue("broker"),
		"ssl.truststore.type": "PEM", "ssl.truststore.location": pki.CAFile,
		"ssl.client.auth":             "required",
		"ssl.principal.mapping.rules": `RULE:^CN=([^,]*),O=Spool$/$1/L,DEFAULT`,
	}, pki.clientTLS(alice))
	if err := roundTrip(t, n.Addr, "mtls", pki.clientTLS(alice), nil); err != nil {
		t.Fatal(err)
	}
	mustFail(t, "no client certificate", roundTrip(t, n.Addr, "mtls", pki.clientTLS(""), nil), func(error) bool { return true })
	rogue := newPKI(t, "rogue")
	rogueCfg := pki.clientTLS(rogue.issue("alice"))
	mustFail(t, "client certificate from an untrusted CA", roundTrip(t, n.Addr, "mtls", rogueCfg, nil), func(error) bool { return true })
	if err := roundTrip(t, n.Addr, "mtls", pki.clientTLS(alice), nil); err != nil || !n.Running() {
		t.Fatalf("node unhealthy after refused clients: %v", err)
	}
}

func TestSecuritySASLPlain(t *testing.T) {
	n := secureNode(t, "SASL_PLAINTEXT", map[string]string{
		"sasl.enabled.mechanisms":                             "PLAIN",
		"sasl.mechanism.inter.broker.protocol":                "PLAIN",
		"listener.name.sasl_plaintext.plain.sasl.jaas.config": plainModule + ` required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";`,
	}, nil)
	if err := roundTrip(t, n.Addr, "plain", nil, plain.Auth{User: "alice", Pass: "alice-secret"}.AsMechanism()); err != nil {
		t.Fatal(err)
	}
	err := roundTrip(t, n.Addr, "plain", nil, plain.Auth{User: "alice", Pass: "wrong"}.AsMechanism())
	mustFail(t, "wrong password", err, func(err error) bool {
		return errors.Is(err, kerr.SaslAuthenticationFailed) && strings.Contains(err.Error(), "Invalid username or password")
	})
	// A client that skips SASL cannot send anything but ApiVersions.
	mustFail(t, "no SASL on a SASL listener", roundTrip(t, n.Addr, "plain", nil, nil), func(error) bool { return true })
	if err := roundTrip(t, n.Addr, "plain", nil, plain.Auth{User: "admin", Pass: "admin-secret"}.AsMechanism()); err != nil || !n.Running() {
		t.Fatalf("node unhealthy after refused clients: %v", err)
	}
}

func TestSecuritySASLScram(t *testing.T) {
	pki := newPKI(t, "cluster")
	n := secureNode(t, "SASL_SSL", map[string]string{
		"ssl.keystore.type": "PEM", "ssl.keystore.location": pki.issue("broker"),
		"sasl.enabled.mechanisms":                               "SCRAM-SHA-256,SCRAM-SHA-512",
		"sasl.mechanism.inter.broker.protocol":                  "SCRAM-SHA-512",
		"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": scramModule + ` required username="admin" password="admin-secret";`,
	}, pki.clientTLS(""), "SCRAM-SHA-512=[name=admin,password=admin-secret]", "SCRAM-SHA-256=[name=alice,password=alice-secret,iterations=8192]")
	tlsCfg := pki.clientTLS("")
	admin := scram.Auth{User: "admin", Pass: "admin-secret"}.AsSha512Mechanism()
	for name, m := range map[string]sasl.Mechanism{
		"SCRAM-SHA-512": admin,
		"SCRAM-SHA-256": scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha256Mechanism(),
	} {
		if err := roundTrip(t, n.Addr, "scram", tlsCfg, m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	for name, m := range map[string]sasl.Mechanism{
		"wrong password":  scram.Auth{User: "admin", Pass: "nope"}.AsSha512Mechanism(),
		"unknown user":    scram.Auth{User: "mallory", Pass: "admin-secret"}.AsSha512Mechanism(),
		"other mechanism": scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha512Mechanism(),
	} {
		mustFail(t, name, roundTrip(t, n.Addr, "scram", tlsCfg, m), func(err error) bool {
			return errors.Is(err, kerr.SaslAuthenticationFailed) && strings.Contains(err.Error(), "invalid credentials with SASL mechanism SCRAM-SHA-512")
		})
	}
	if err := roundTrip(t, n.Addr, "scram", tlsCfg, admin); err != nil || !n.Running() {
		t.Fatalf("node unhealthy after refused clients: %v", err)
	}
}

// oauthKeys signs tokens with a key published in a JWKS file.
type oauthKeys struct {
	key  *ecdsa.PrivateKey
	file string
}

func newOAuthKeys(t *testing.T) *oauthKeys {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pad := func(b *big.Int) string { return base64.RawURLEncoding.EncodeToString(b.FillBytes(make([]byte, 32))) }
	set, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "use": "sig", "x": pad(key.X), "y": pad(key.Y)}}})
	file := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(file, set, 0o600); err != nil {
		t.Fatal(err)
	}
	return &oauthKeys{key: key, file: file}
}

func (k *oauthKeys) token(t *testing.T, sub string, exp time.Time) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"sub": sub, "aud": "spool", "iss": "https://idp.test", "iat": time.Now().Unix(), "exp": exp.Unix()})
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(k.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSecuritySASLOAuthBearer(t *testing.T) {
	pki := newPKI(t, "cluster")
	keys := newOAuthKeys(t)
	n := secureNode(t, "SASL_SSL", map[string]string{
		"ssl.keystore.type": "PEM", "ssl.keystore.location": pki.issue("broker"),
		"sasl.enabled.mechanisms":                                               "OAUTHBEARER,PLAIN",
		"sasl.mechanism.inter.broker.protocol":                                  "PLAIN",
		"listener.name.sasl_ssl.plain.sasl.jaas.config":                         plainModule + ` required username="admin" password="admin-secret" user_admin="admin-secret";`,
		"listener.name.sasl_ssl.oauthbearer.sasl.jaas.config":                   "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
		"listener.name.sasl_ssl.oauthbearer.sasl.server.callback.handler.class": "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler",
		"sasl.oauthbearer.jwks.endpoint.url":                                    "file://" + keys.file,
		"sasl.oauthbearer.expected.audience":                                    "spool",
		"sasl.oauthbearer.expected.issuer":                                      "https://idp.test",
	}, pki.clientTLS(""))
	tlsCfg := pki.clientTLS("")
	good := oauth.Auth{Token: keys.token(t, "alice", time.Now().Add(time.Hour))}.AsMechanism()
	if err := roundTrip(t, n.Addr, "oauth", tlsCfg, good); err != nil {
		t.Fatal(err)
	}
	expired := oauth.Auth{Token: keys.token(t, "alice", time.Now().Add(-time.Hour))}.AsMechanism()
	mustFail(t, "expired token", roundTrip(t, n.Addr, "oauth", tlsCfg, expired), oauthRefused)
	forged := oauth.Auth{Token: newOAuthKeys(t).token(t, "admin", time.Now().Add(time.Hour))}.AsMechanism()
	mustFail(t, "token signed by another key", roundTrip(t, n.Addr, "oauth", tlsCfg, forged), oauthRefused)
	if err := roundTrip(t, n.Addr, "oauth", tlsCfg, good); err != nil || !n.Running() {
		t.Fatalf("node unhealthy after refused clients: %v", err)
	}
}

// Security settings that cannot be honoured stop the start with exit 2.
func TestSecurityConfigErrors(t *testing.T) {
	pki := newPKI(t, "cluster")
	ks := pki.issue("broker")
	cases := map[string]struct {
		listener string
		props    map[string]string
		want     string
	}{
		"TLS without keystore": {"SSL", nil, "needs a keystore"},
		"unreadable keystore":  {"SSL", map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.location": "/nonexistent.pem"}, "no such file"},
		"unknown mechanism":    {"SASL_PLAINTEXT", map[string]string{"sasl.enabled.mechanisms": "DIGEST-MD5"}, "sasl.enabled.mechanisms"},
		"default GSSAPI":       {"SASL_PLAINTEXT", nil, "GSSAPI"},
		"bad JAAS": {"SASL_PLAINTEXT", map[string]string{"sasl.enabled.mechanisms": "PLAIN", "sasl.mechanism.inter.broker.protocol": "PLAIN",
			"listener.name.sasl_plaintext.plain.sasl.jaas.config": plainModule + ` required user_a="b"`}, "closing ';'"},
		"unknown ssl key":    {"SSL", map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.location": ks, "ssl.engine.flavour": "x"}, "unknown security setting"},
		"OAUTH without JWKS": {"SASL_PLAINTEXT", map[string]string{"sasl.enabled.mechanisms": "OAUTHBEARER"}, "jwks.endpoint.url"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			n := harness.SingleNode(t, nil)
			extra := map[string]string{"listeners": fmt.Sprintf("%s://%s,CONTROLLER://%s", c.listener, n.Addr, n.CtrlAddr)}
			for k, v := range c.props {
				extra[k] = v
			}
			reconfigure(t, n, extra)
			out, code := harness.Run(t, "server", "--config", n.ConfigFile, "--cluster-id", n.ClusterID)
			if code != 2 || !strings.Contains(out, c.want) {
				t.Fatalf("exit %d, want 2 with %q:\n%s", code, c.want, out)
			}
		})
	}
}

// oauthRefused matches a refused token as Kafka refuses it: the server
// answers the RFC 7628 error status {"status":"invalid_token"}; the Java
// client acknowledges it and gets SASL_AUTHENTICATION_FAILED with that
// status, franz-go stops at the status itself.
func oauthRefused(err error) bool {
	return errors.Is(err, kerr.SaslAuthenticationFailed) && strings.Contains(err.Error(), "invalid_token") ||
		strings.Contains(err.Error(), "unexpected data in oauth response")
}

// `spool user` manages SCRAM users over SASL_SSL with --command-config.
func TestSecurityUserCLI(t *testing.T) {
	n, pki, admin := scramSSLNode(t)
	props := filepath.Join(t.TempDir(), "admin.properties")
	os.WriteFile(props, []byte(admin), 0o600)
	run := func(want int, args ...string) string {
		t.Helper()
		out, code := harness.Run(t, append(args, "--bootstrap-server", n.Addr, "--command-config", props)...)
		if code != want {
			t.Fatalf("spool %v: exit %d, want %d\n%s", args, code, want, out)
		}
		return out
	}
	run(0, "user", "set", "alice", "--mechanism", "SCRAM-SHA-256", "--iterations", "8192", "--password", "alice-secret")
	out := run(0, "user", "list", "--format", "json")
	var users []struct {
		User, Mechanism string
		Iterations      int32
	}
	if err := json.Unmarshal([]byte(out), &users); err != nil || len(users) != 2 ||
		users[1].User != "alice" || users[1].Mechanism != "SCRAM-SHA-256" || users[1].Iterations != 8192 || users[0].User != "admin" {
		t.Fatalf("user list: %v %s", err, out)
	}
	tlsCfg := pki.clientTLS("")
	alice := scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha256Mechanism()
	if err := roundTrip(t, n.Addr, "users", tlsCfg, alice); err != nil {
		t.Fatal(err)
	}
	run(1, "user", "set", "bob", "--iterations", "100", "--password", "x")
	run(2, "user", "set", "bob", "--mechanism", "MD5", "--password", "x")
	run(0, "user", "delete", "alice", "--mechanism", "SCRAM-SHA-256")
	run(1, "user", "delete", "alice", "--mechanism", "SCRAM-SHA-256")
	mustFail(t, "deleted user", roundTrip(t, n.Addr, "users", tlsCfg, alice), func(err error) bool { return errors.Is(err, kerr.SaslAuthenticationFailed) })
	// The wrong admin password: the CLI says so and exits non-zero.
	bad := filepath.Join(t.TempDir(), "bad.properties")
	b, _ := os.ReadFile(props)
	os.WriteFile(bad, []byte(strings.Replace(string(b), "admin-secret", "wrong", 1)), 0o600)
	out, code := harness.Run(t, "user", "list", "--bootstrap-server", n.Addr, "--command-config", bad, "--timeout", "10s")
	if code == 0 || !strings.Contains(out, "SASL_AUTHENTICATION_FAILED") {
		t.Fatalf("wrong admin password: exit %d\n%s", code, out)
	}
}

// A listener's certificate is replaced at run time with
// IncrementalAlterConfigs on listener.name.<l>.ssl.keystore.location, as
// Kafka allows; a keystore that would not work is refused, not stored.
func TestSecurityKeystoreReload(t *testing.T) {
	pki := newPKI(t, "cluster")
	first := pki.issue("broker")
	v1 := first + ".v1"
	if err := os.Rename(first, v1); err != nil {
		t.Fatal(err)
	}
	n := secureNode(t, "SSL", map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.location": v1}, pki.clientTLS(""))
	serial := func() string {
		c, err := tls.Dial("tcp", n.Addr, pki.clientTLS(""))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	before := serial()
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.DialTLSConfig(pki.clientTLS("")))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	alter := func(path string) error {
		res, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: "listener.name.ssl.ssl.keystore.location", Value: &path}}, 1)
		if err != nil {
			return err
		}
		return res[0].Err
	}
	renewed := pki.issue("broker") // same subject, new key and serial
	if err := alter(renewed); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for serial() == before {
		if time.Now().After(deadline) {
			t.Fatal("the listener still serves the old certificate")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for name, path := range map[string]string{"missing file": "/nonexistent/ks.pem", "other subject": pki.issue("impostor")} {
		if err := alter(path); !errors.Is(err, kerr.InvalidConfig) {
			t.Errorf("%s: err = %v, want INVALID_CONFIG", name, err)
		}
	}
	if err := roundTrip(t, n.Addr, "reload", pki.clientTLS(""), nil); err != nil || !n.Running() {
		t.Fatalf("node unhealthy after the reloads: %v", err)
	}
}

// ssl.enabled.protocols and ssl.cipher.suites bind the listener: a client
// limited to TLS 1.2 cannot connect to a TLS 1.3-only listener, and on a
// TLS 1.2 listener narrowed to one suite a client offering only another
// fails the handshake while one offering that suite is served.
func TestSecurityTLSVersionsAndSuites(t *testing.T) {
	pki := newPKI(t, "cluster")
	keystore := pki.issue("broker")
	handshake := func(addr string, cfg *tls.Config) error {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
		if err == nil {
			c.Close()
		}
		return err
	}
	tls13 := secureNode(t, "SSL", map[string]string{
		"ssl.keystore.type": "PEM", "ssl.keystore.location": keystore, "ssl.enabled.protocols": "TLSv1.3",
	}, pki.clientTLS(""))
	old := pki.clientTLS("")
	old.MaxVersion = tls.VersionTLS12
	mustFail(t, "TLS 1.2 client on a TLS 1.3-only listener", handshake(tls13.Addr, old), func(err error) bool {
		return strings.Contains(err.Error(), "protocol version")
	})
	if err := roundTrip(t, tls13.Addr, "tls13", pki.clientTLS(""), nil); err != nil {
		t.Fatalf("TLS 1.3 client: %v", err)
	}

	const suite = "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" // the test CA issues ECDSA keys
	narrowed := secureNode(t, "SSL", map[string]string{
		"ssl.keystore.type": "PEM", "ssl.keystore.location": keystore,
		"ssl.enabled.protocols": "TLSv1.2", "ssl.cipher.suites": suite,
	}, pki.clientTLS(""))
	other := pki.clientTLS("")
	other.MaxVersion = tls.VersionTLS12
	other.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}
	mustFail(t, "client without the listener's only suite", handshake(narrowed.Addr, other), func(err error) bool {
		return strings.Contains(err.Error(), "handshake failure")
	})
	same := pki.clientTLS("")
	same.MaxVersion = tls.VersionTLS12
	same.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}
	if err := handshake(narrowed.Addr, same); err != nil {
		t.Fatalf("client offering %s: %v", suite, err)
	}
	if err := roundTrip(t, narrowed.Addr, "suite", same, nil); err != nil {
		t.Fatalf("produce and consume over %s: %v", suite, err)
	}
}
