package test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

// `spool acl` adds, lists and removes bindings over SASL with
// --command-config, and a franz-go producer is allowed and then denied
// accordingly.
func TestACLCLI(t *testing.T) {
	n := aclNode(t, nil)
	dir := t.TempDir()
	props := func(user string) string {
		p := filepath.Join(dir, user+".properties")
		body := "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=" + plainModule +
			` required username="` + user + `" password="` + user + `-secret";` + "\n"
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	adminProps, aliceProps := props("admin"), props("alice")
	run := func(want int, cfg string, args ...string) string {
		t.Helper()
		out, code := harness.Run(t, append(args, "--bootstrap-server", n.Addr, "--command-config", cfg, "--timeout", "30s")...)
		if code != want {
			t.Fatalf("spool %v: exit %d, want %d\n%s", args, code, want, out)
		}
		return out
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(aclClient(t, n.Addr, "admin")).CreateTopics(ctx, 1, 1, nil, "cli-orders"); err != nil {
		t.Fatal(err)
	}

	run(0, adminProps, "acl", "add", "--allow-principal", "User:alice", "--operation", "write", "--operation", "describe", "--topic", "cli-orders")
	var listed []struct{ Principal, Operation, Permission, ResourceName string }
	if err := json.Unmarshal([]byte(run(0, adminProps, "acl", "list", "--format", "json")), &listed); err != nil || len(listed) != 2 {
		t.Fatalf("acl list: %v %+v", err, listed)
	}
	table := run(0, adminProps, "acl", "list", "--topic", "cli-orders", "--resource-pattern-type", "match")
	if !strings.Contains(table, "User:alice") || !strings.Contains(table, "write") {
		t.Fatalf("acl list table:\n%s", table)
	}
	alice := aclClient(t, n.Addr, "alice", kgo.DisableIdempotentWrite())
	if err := alice.ProduceSync(ctx, &kgo.Record{Topic: "cli-orders", Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatalf("alice's produce with WRITE: %v", err)
	}

	out := run(0, adminProps, "acl", "remove", "--topic", "cli-orders", "--principal", "User:alice", "--operation", "write")
	if !strings.Contains(out, "Removed") {
		t.Fatalf("acl remove: %s", out)
	}
	alice2 := aclClient(t, n.Addr, "alice", kgo.DisableIdempotentWrite())
	err := alice2.ProduceSync(ctx, &kgo.Record{Topic: "cli-orders", Value: []byte("v")}).FirstErr()
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("alice's produce without WRITE: %v", err)
	}

	// alice may not list ACLs; usage errors exit 2.
	if out := run(1, aliceProps, "acl", "list"); !strings.Contains(strings.ToUpper(out), "CLUSTER_AUTHORIZATION_FAILED") {
		t.Fatalf("alice's acl list: %s", out)
	}
	run(2, adminProps, "acl", "add", "--topic", "cli-orders", "--operation", "read")
	run(2, adminProps, "acl", "add", "--allow-principal", "alice", "--topic", "cli-orders", "--operation", "read")
	run(2, adminProps, "acl", "remove", "--principal", "User:alice")
}
