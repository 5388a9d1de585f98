package test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"spool/test/peers/kafkapeer"
)

// tokenTool runs Kafka's kafka-delegation-tokens with a client config
// file; ok says whether the tool must succeed.
func tokenTool(t *testing.T, addr, clientConfig string, ok bool, args ...string) string {
	t.Helper()
	ctx := ctxT(t, 2*time.Minute)
	out, err := kafkapeer.Tool(ctx, "kafka-delegation-tokens", append([]string{"--bootstrap-server", addr, "--command-config", clientConfig}, args...)...).CombinedOutput()
	if (err == nil) != ok {
		t.Fatalf("kafka-delegation-tokens %v: %v (want success %v)\n%s", args, err, ok, out)
	}
	return string(out)
}

func scramClientConfig(t *testing.T, name, user, pass string, token bool) string {
	t.Helper()
	extra := ""
	if token {
		extra = ` tokenauth="true"`
	}
	p := filepath.Join(t.TempDir(), name+".properties")
	body := fmt.Sprintf("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=%s required username=\"%s\" password=\"%s\"%s;\n", scramModule, user, pass, extra)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDelegationTokensTool: Kafka's own kafka-delegation-tokens creates,
// describes, renews and expires a token, and Kafka's Java client logs in
// with the token (tokenauth=true) and is then refused more token requests.
func TestDelegationTokensTool(t *testing.T) {
	if err := kafkapeer.Installed(); err != nil {
		t.Fatal(err)
	}
	n := tokenNode(t)
	alice := scramClientConfig(t, "alice", "alice", "alice-secret", false)

	out := tokenTool(t, n.Addr, alice, true, "--create", "--max-life-time-period", "-1", "--renewer-principal", "User:bob")
	row := regexp.MustCompile(`(?m)^([A-Za-z0-9_-]{22})\s+([A-Za-z0-9+/=]{88})\s+User:alice\s+User:alice\s+\[User:bob\]`).FindStringSubmatch(out)
	if row == nil {
		t.Fatalf("--create printed no token row:\n%s", out)
	}
	id, hmac := row[1], row[2]

	// The tool sends an empty owner list without --owner-principal, which
	// Kafka's brokers answer with no tokens; so name the owner.
	out = tokenTool(t, n.Addr, alice, true, "--describe", "--owner-principal", "User:alice")
	if !strings.Contains(out, id) || !strings.Contains(out, hmac) || !strings.Contains(out, "Total number of tokens : 1") {
		t.Fatalf("--describe does not list token %s:\n%s", id, out)
	}
	out = tokenTool(t, n.Addr, alice, true, "--describe", "--owner-principal", "User:carol")
	if !strings.Contains(out, "Total number of tokens : 0") {
		t.Fatalf("--describe --owner-principal User:carol:\n%s", out)
	}

	// The Java client authenticates with the token; the broker then
	// refuses token requests on that connection, as Kafka does.
	holder := scramClientConfig(t, "holder", id, hmac, true)
	out = tokenTool(t, n.Addr, holder, false, "--describe")
	if !strings.Contains(out, "DelegationTokenRequestNotAllowed") && !strings.Contains(out, "not allowed") {
		t.Fatalf("--describe over a token login: want DELEGATION_TOKEN_REQUEST_NOT_ALLOWED:\n%s", out)
	}
	wrong := scramClientConfig(t, "wrong", id, "bm90IHRoZSBobWFj", true)
	out = tokenTool(t, n.Addr, wrong, false, "--describe")
	if !strings.Contains(out, "SaslAuthenticationException") && !strings.Contains(out, "Authentication failed") {
		t.Fatalf("--describe with a wrong token password: want an authentication failure:\n%s", out)
	}

	out = tokenTool(t, n.Addr, alice, true, "--renew", "--hmac", hmac, "--renew-time-period", "3600000")
	if !strings.Contains(out, "Completed renew operation. New expiry date") {
		t.Fatalf("--renew:\n%s", out)
	}
	out = tokenTool(t, n.Addr, alice, true, "--expire", "--hmac", hmac, "--expiry-time-period", "-1")
	if !strings.Contains(out, "Completed expire operation") {
		t.Fatalf("--expire:\n%s", out)
	}
	out = tokenTool(t, n.Addr, alice, true, "--describe", "--owner-principal", "User:alice")
	if !strings.Contains(out, "Total number of tokens : 0") {
		t.Fatalf("--describe after --expire:\n%s", out)
	}
	out = tokenTool(t, n.Addr, alice, false, "--renew", "--hmac", hmac, "--renew-time-period", "-1")
	if !strings.Contains(out, "DelegationTokenNotFound") && !strings.Contains(out, "not found") {
		t.Fatalf("--renew of an expired token: want DELEGATION_TOKEN_NOT_FOUND:\n%s", out)
	}
}
