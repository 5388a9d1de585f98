package clients_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	saslplain "github.com/twmb/franz-go/pkg/sasl/plain"

	"spool/test/harness"
	"spool/test/peers/kafkapeer"
)

// TestToolsACLs runs Kafka's kafka-acls against a Spool node and against
// the Apache Kafka peer, both with the StandardAuthorizer, and holds Spool
// to the peer: each command's exit status and (sorted) output, and the
// ACLs each broker then describes. Spool's client listener is
// SASL_PLAINTEXT, so that an ACL the tool adds can be shown to bind a user;
// the tool logs in as the super user admin there and reaches the peer's
// PLAINTEXT listener as ANONYMOUS, a super user on the peer.
func TestToolsACLs(t *testing.T) {
	const authorizer = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
	const plainModule = "org.apache.kafka.common.security.plain.PlainLoginModule"
	if err := kafkapeer.Installed(); err != nil {
		t.Fatal(err)
	}
	peer := kafkapeer.StartT(t, kafkapeer.Options{Overrides: map[string]string{
		"authorizer.class.name": authorizer,
		"super.users":           "User:ANONYMOUS",
	}})

	n := harness.SingleNode(t, nil)
	n.Props["listeners"] = fmt.Sprintf("SASL_PLAINTEXT://%s,CONTROLLER://%s", n.Addr, n.CtrlAddr)
	for k, v := range map[string]string{
		"sasl.enabled.mechanisms":              "PLAIN",
		"sasl.mechanism.inter.broker.protocol": "PLAIN",
		"listener.name.sasl_plaintext.plain.sasl.jaas.config": plainModule +
			` required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";`,
		"authorizer.class.name": authorizer,
		// The controller listener is PLAINTEXT: the broker reaches its
		// controller as ANONYMOUS, which must be a super user, as in Kafka.
		"super.users": "User:admin;User:ANONYMOUS",
	} {
		n.Props[k] = v
	}
	n.Rewrite()
	n.Start()
	t.Cleanup(func() { n.Stop() })

	adminConfig := filepath.Join(t.TempDir(), "admin.properties")
	if err := os.WriteFile(adminConfig, []byte("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"+
		`sasl.jaas.config=`+plainModule+` required username="admin" password="admin-secret";`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	client := func(user string, opts ...kgo.Opt) *kgo.Client {
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(n.Addr),
			kgo.SASL(saslplain.Auth{User: user, Pass: user + "-secret"}.AsMechanism()),
			kgo.RequestRetries(2), kgo.RetryTimeout(15 * time.Second)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	spoolAdmin := kadm.NewClient(client("admin"))
	peerCl, err := kgo.NewClient(kgo.SeedBrokers(peer.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(peerCl.Close)
	peerAdmin := kadm.NewClient(peerCl)

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	// run runs kafka-acls against one broker and returns its exit status
	// and its stdout, lines trimmed and sorted: the tool prints ACLs in
	// the order the broker returns them, which Kafka does not define.
	run := func(bootstrap string, extra []string, args []string) (int, string, string) {
		tctx, tcancel := context.WithTimeout(ctx, 3*toolTimeout)
		defer tcancel()
		cmd := kafkapeer.Tool(tctx, "kafka-acls", append(append([]string{"--bootstrap-server", bootstrap}, args...), extra...)...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			code = ee.ExitCode()
		case err != nil:
			t.Fatalf("kafka-acls %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		if tctx.Err() != nil {
			t.Fatalf("kafka-acls %s did not finish within %v", strings.Join(args, " "), 3*toolTimeout)
		}
		var lines []string
		for _, l := range strings.Split(stdout.String(), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
		slices.Sort(lines)
		t.Logf("$ kafka-acls %s  -> exit %d\n%s\n%s", strings.Join(args, " "), code, strings.Join(lines, "\n"), tail(stderr.String(), 600))
		return code, strings.Join(lines, "\n"), stderr.String()
	}
	// described is every ACL a broker holds, one sorted line each.
	described := func(adm *kadm.Client) []string {
		res, err := adm.DescribeACLs(ctx, kadm.NewACLs().AnyResource().ResourcePatternType(kadm.ACLPatternAny).
			Allow().AllowHosts().Deny().DenyHosts().Operations(kadm.OpAny))
		if err != nil {
			t.Fatalf("DescribeACLs: %v", err)
		}
		seen := map[string]bool{}
		for _, r := range res {
			if r.Err != nil {
				t.Fatalf("DescribeACLs: %v %s", r.Err, r.ErrMessage)
			}
			for _, d := range r.Described {
				seen[fmt.Sprintf("%s %s %s %s %s %s %s", d.Type, d.Name, d.Pattern, d.Principal, d.Host, d.Operation, d.Permission)] = true
			}
		}
		var out []string
		for k := range seen {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	// step runs a command against both brokers and fails unless exit
	// status, output and the ACLs held afterwards agree; it returns the
	// exit status and Spool's ACLs.
	step := func(args ...string) (int, []string) {
		t.Helper()
		sc, sout, _ := run(n.Addr, []string{"--command-config", adminConfig}, args)
		kc, kout, _ := run(peer.Addr(), nil, args)
		if sc != kc {
			t.Errorf("kafka-acls %s: exit %d against Spool, %d against Kafka", strings.Join(args, " "), sc, kc)
		}
		if sout != kout {
			t.Errorf("kafka-acls %s: output differs\nSpool:\n%s\nKafka:\n%s", strings.Join(args, " "), sout, kout)
		}
		sa, ka := described(spoolAdmin), described(peerAdmin)
		if !slices.Equal(sa, ka) {
			t.Errorf("after kafka-acls %s: ACLs differ\nSpool:\n%s\nKafka:\n%s", strings.Join(args, " "),
				strings.Join(sa, "\n"), strings.Join(ka, "\n"))
		}
		return sc, sa
	}
	has := func(acls []string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !slices.Contains(acls, w) {
				t.Errorf("Spool's ACLs lack %q:\n%s", w, strings.Join(acls, "\n"))
			}
		}
	}
	mustExit := func(what string, code, want int) {
		t.Helper()
		if code != want {
			t.Errorf("%s: exit %d, want %d", what, code, want)
		}
	}

	code, acls := step("--add", "--allow-principal", "User:alice", "--operation", "Read", "--operation", "Describe", "--topic", "t1")
	mustExit("--add topic", code, 0)
	has(acls, "TOPIC t1 LITERAL User:alice * READ ALLOW", "TOPIC t1 LITERAL User:alice * DESCRIBE ALLOW")
	code, acls = step("--add", "--allow-principal", "User:alice", "--operation", "Read", "--group", "g1")
	mustExit("--add group", code, 0)
	has(acls, "GROUP g1 LITERAL User:alice * READ ALLOW")
	code, acls = step("--add", "--deny-principal", "User:alice", "--operation", "Write", "--topic", "t1")
	mustExit("--add --deny-principal", code, 0)
	has(acls, "TOPIC t1 LITERAL User:alice * WRITE DENY")
	code, acls = step("--add", "--allow-principal", "User:alice", "--operation", "Describe", "--topic", "logs-", "--resource-pattern-type", "prefixed")
	mustExit("--add prefixed", code, 0)
	has(acls, "TOPIC logs- PREFIXED User:alice * DESCRIBE ALLOW")
	code, acls = step("--add", "--producer", "--topic", "t2", "--allow-principal", "User:bob")
	mustExit("--add --producer", code, 0)
	has(acls, "TOPIC t2 LITERAL User:bob * WRITE ALLOW", "TOPIC t2 LITERAL User:bob * CREATE ALLOW")
	code, acls = step("--add", "--consumer", "--topic", "t2", "--group", "g2", "--allow-principal", "User:bob")
	mustExit("--add --consumer", code, 0)
	has(acls, "TOPIC t2 LITERAL User:bob * READ ALLOW", "GROUP g2 LITERAL User:bob * READ ALLOW")

	code, _ = step("--list")
	mustExit("--list", code, 0)
	code, _ = step("--list", "--topic", "t1")
	mustExit("--list --topic", code, 0)
	code, _ = step("--list", "--topic", "logs-", "--resource-pattern-type", "prefixed")
	mustExit("--list prefixed", code, 0)
	code, _ = step("--list", "--principal", "User:bob")
	mustExit("--list --principal", code, 0)

	// Refusals: an operation Kafka has no name for, and an operation a
	// group cannot have.
	code, _ = step("--add", "--allow-principal", "User:alice", "--operation", "Fly", "--topic", "t1")
	if code == 0 {
		t.Errorf("--operation Fly: exit 0")
	}
	code, _ = step("--add", "--allow-principal", "User:alice", "--operation", "Write", "--group", "g1")
	if code == 0 {
		t.Errorf("--operation Write --group: exit 0")
	}

	// The broker refuses a user who may not alter the cluster: the
	// peer's tool principal is a super user, so this is Spool's alone.
	aliceConfig := filepath.Join(t.TempDir(), "alice.properties")
	if err := os.WriteFile(aliceConfig, []byte(strings.ReplaceAll(strings.ReplaceAll(mustRead(t, adminConfig),
		`"admin"`, `"alice"`), "admin-secret", "alice-secret")), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := run(n.Addr, []string{"--command-config", aliceConfig},
		[]string{"--add", "--allow-principal", "User:alice", "--operation", "Write", "--topic", "t1"})
	if code == 0 || !strings.Contains(out+stderr, "ClusterAuthorizationException") {
		t.Errorf("kafka-acls --add as alice: exit %d, want a ClusterAuthorizationException:\n%s%s", code, out, tail(stderr, 600))
	}
	if acls := described(spoolAdmin); slices.Contains(acls, "TOPIC t1 LITERAL User:alice * WRITE ALLOW") {
		t.Errorf("alice granted herself Write on t1")
	}

	// Enforcement: the ACLs the tool added bind alice on Spool.
	if r, err := spoolAdmin.CreateTopic(ctx, 1, 1, nil, "t1"); err != nil || r.Err != nil {
		t.Fatalf("create t1: %v %v", err, r.Err)
	}
	if err := client("admin").ProduceSync(ctx, &kgo.Record{Topic: "t1", Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatalf("produce to t1 as admin: %v", err)
	}
	alice := client("alice", kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"t1": {0: kgo.NewOffset().AtStart()}}))
	fctx, fcancel := context.WithTimeout(ctx, 30*time.Second)
	fs := alice.PollFetches(fctx)
	fcancel()
	if errs := fs.Errors(); len(errs) > 0 {
		t.Errorf("alice reading t1: %v", errs[0].Err)
	} else if fs.NumRecords() != 1 {
		t.Errorf("alice read %d records from t1, want 1", fs.NumRecords())
	}
	// Without idempotence: an idempotent producer first asks for a
	// producer id, which Kafka refuses with CLUSTER_AUTHORIZATION_FAILED
	// to a principal allowed to write no topic at all, before any
	// Produce reaches the topic's ACLs.
	err = client("alice", kgo.DisableIdempotentWrite()).ProduceSync(ctx, &kgo.Record{Topic: "t1", Value: []byte("x")}).FirstErr()
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Errorf("alice writing t1: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}

	// --remove --force of one ACL, of a whole resource, and of an ACL no
	// broker holds.
	code, acls = step("--remove", "--force", "--deny-principal", "User:alice", "--operation", "Write", "--topic", "t1")
	mustExit("--remove one", code, 0)
	if slices.Contains(acls, "TOPIC t1 LITERAL User:alice * WRITE DENY") {
		t.Errorf("deny ACL still held after --remove")
	}
	code, acls = step("--remove", "--force", "--topic", "t2")
	mustExit("--remove resource", code, 0)
	for _, a := range acls {
		if strings.HasPrefix(a, "TOPIC t2 ") {
			t.Errorf("t2 ACL still held after --remove --topic t2: %s", a)
		}
	}
	code, _ = step("--remove", "--force", "--allow-principal", "User:nobody", "--operation", "Read", "--topic", "t9")
	mustExit("--remove of nothing", code, 0)
	code, _ = step("--list")
	mustExit("--list at the end", code, 0)
}

func mustRead(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
