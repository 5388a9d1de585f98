package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"spool/test/harness"
)

// scramSSLNode starts a node with one SASL_SSL client listener taking
// SCRAM-SHA-512, user admin known, and returns the client properties that
// log in as admin.
func scramSSLNode(t *testing.T) (*harness.Node, *testPKI, string) {
	t.Helper()
	pki := newPKI(t, "cluster")
	n := secureNode(t, "SASL_SSL", map[string]string{
		"ssl.keystore.type": "PEM", "ssl.keystore.location": pki.issue("broker"),
		"sasl.enabled.mechanisms":                               "SCRAM-SHA-512,SCRAM-SHA-256",
		"sasl.mechanism.inter.broker.protocol":                  "SCRAM-SHA-512",
		"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": scramModule + ` required username="admin" password="admin-secret";`,
	}, pki.clientTLS(""), "SCRAM-SHA-512=[name=admin,password=admin-secret]")
	props := "security.protocol=SASL_SSL\nssl.truststore.type=PEM\nssl.truststore.location=" + pki.CAFile +
		"\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=" + scramModule + ` required username="admin" password="admin-secret";` + "\n"
	return n, pki, props
}

// TestCLISecurityErrors: against a SASL_SSL listener every client command
// takes --command-config (completion too), and a refused login or TLS
// handshake says so with the broker's words, never "cannot reach".
func TestCLISecurityErrors(t *testing.T) {
	t.Parallel()
	n, pki, good := scramSSLNode(t)
	dir := t.TempDir()
	props := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goodFile := props("good.properties", good)
	r := newCLIRunner(t, n.Addr)
	with := func(file string, args ...string) []string {
		return append(args, "--command-config", file, "--timeout", "20s")
	}
	r.expect(with(goodFile, "topic", "create", "secured", "--partitions", "2"), "", 0)
	r.expect(with(goodFile, "produce", "secured"), "a\nb\n", 0)
	r.expect(with(goodFile, "consume", "secured", "--from-beginning", "--exit-at-end"), "", 0, "a\n", "b\n")
	r.expect(with(goodFile, "cluster", "health"), "", 0)
	r.expect([]string{"__complete", "topic", "describe", "--command-config", goodFile, "sec"}, "", 0, "secured\n")

	never := []string{"cannot reach"}
	cases := []struct {
		name, body string
		want       []string
	}{
		{"wrong-password", strings.Replace(good, "admin-secret", "wrong", 1),
			[]string{"authentication failed at BROKER (SASL_AUTHENTICATION_FAILED)", "invalid credentials with SASL mechanism SCRAM-SHA-512", "wrong-password.properties"}},
		{"unknown-user", strings.Replace(good, `username="admin"`, `username="mallory"`, 1),
			[]string{"authentication failed at BROKER (SASL_AUTHENTICATION_FAILED)"}},
		{"mechanism", strings.NewReplacer("sasl.mechanism=SCRAM-SHA-512", "sasl.mechanism=PLAIN", scramModule, plainModule).Replace(good),
			[]string{"does not enable SASL mechanism PLAIN", "UNSUPPORTED_SASL_MECHANISM"}},
		{"untrusted", strings.Replace(good, pki.CAFile, newPKI(t, "other").CAFile, 1),
			[]string{"TLS handshake with BROKER failed", "ssl.truststore.location"}},
		{"plaintext", strings.Replace(good, "security.protocol=SASL_SSL", "security.protocol=SASL_PLAINTEXT", 1),
			[]string{"closed the connection", "security.protocol"}},
	}
	for _, c := range cases {
		out := r.expect(with(props(c.name+".properties", c.body), "topic", "list"), "", 1, c.want...)
		for _, w := range never {
			if strings.Contains(out, w) {
				t.Errorf("%s: output says %q:\n%s", c.name, w, out)
			}
		}
	}
	// Without --command-config the listener drops the plaintext client.
	r.expect([]string{"topic", "list", "--timeout", "20s"}, "", 1, "needs --command-config")
}

// TestCLITLSToPlaintext: a TLS client on a plaintext listener is told to
// check security.protocol, not that the cluster is unreachable.
func TestCLITLSToPlaintext(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, nil)
	n.Start()
	props := filepath.Join(t.TempDir(), "tls.properties")
	if err := os.WriteFile(props, []byte("security.protocol=SSL\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := newCLIRunner(t, n.Addr)
	out := r.expect([]string{"topic", "list", "--command-config", props, "--timeout", "20s"}, "", 1, "security.protocol", props)
	if strings.Contains(out, "cannot reach") {
		t.Errorf("TLS on a plaintext listener reads as unreachable:\n%s", out)
	}
}
