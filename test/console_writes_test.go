package test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"spool/test/harness"
)

// consoleWrite sends a change to the console as its page does; it returns
// the status and the decoded answer.
func consoleWrite(t *testing.T, hc *http.Client, base, method, path string, body any, hdr map[string]string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-By", "spool-console")
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	raw, _ := io.ReadAll(resp.Body)
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// With http.console.read.only=false the console creates, alters and
// deletes topics, deletes records and resets an idle group's offsets, and
// the Kafka API sees each change; a change without the console's header
// or from another origin is refused.
func TestConsoleWrites(t *testing.T) {
	httpAddr := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	n := harness.SingleNode(t, map[string]string{"http.listener": httpAddr, "http.console.read.only": "false", "group.initial.rebalance.delay.ms": "0"})
	n.Start()
	t.Cleanup(func() { n.Stop() })
	base := "http://" + httpAddr
	waitReady(t, base)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	hc := &http.Client{Timeout: 30 * time.Second}

	create := map[string]any{"name": "made", "partitions": 4, "configs": map[string]string{"cleanup.policy": "compact"}}
	for what, hdr := range map[string]map[string]string{
		"no console header": {"X-Requested-By": ""},
		"another origin":    {"Origin": "http://evil.example"},
	} {
		if code, out := consoleWrite(t, hc, base, "POST", "/v1/topics", create, hdr); code != http.StatusForbidden {
			t.Fatalf("create with %s: %d %v; want 403", what, code, out)
		}
	}
	if topics, _ := adm.ListTopics(ctx, "made"); topics.Has("made") {
		t.Fatal("a refused create made the topic")
	}
	if code, out := consoleWrite(t, hc, base, "POST", "/v1/topics", create, map[string]string{"Origin": base}); code != http.StatusOK {
		t.Fatalf("create: %d %v", code, out)
	}
	// The broker learns of the topic from the metadata log a moment
	// after the controller commits it.
	waitFor(t, 30*time.Second, func() bool {
		topics, err := adm.ListTopics(ctx, "made")
		return err == nil && topics.Has("made") && topics["made"].Err == nil && len(topics["made"].Partitions) == 4
	})
	if code, _ := consoleWrite(t, hc, base, "POST", "/v1/topics", create, nil); code != http.StatusConflict {
		t.Fatalf("create again: %d; want 409", code)
	}
	if code, out := consoleWrite(t, hc, base, "POST", "/v1/topics", map[string]any{"name": "x", "bogus": 1}, nil); code != http.StatusBadRequest {
		t.Fatalf("unknown field: %d %v; want 400", code, out)
	}

	alter := map[string]any{"set": map[string]string{"retention.ms": "86400000"}, "delete": []string{"cleanup.policy"}}
	if code, out := consoleWrite(t, hc, base, "PUT", "/v1/topics/made/configs", alter, nil); code != http.StatusOK {
		t.Fatalf("alter configs: %d %v", code, out)
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, "made")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rcs[0].Configs {
		if (c.Key == "retention.ms" && c.MaybeValue() != "86400000") || (c.Key == "cleanup.policy" && c.MaybeValue() != "delete") {
			t.Errorf("after alter, %s=%s (%s)", c.Key, c.MaybeValue(), c.Source)
		}
	}

	for i := 0; i < 10; i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "made", Partition: 0, Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if code, out := consoleWrite(t, hc, base, "POST", "/v1/topics/made/partitions/0/delete-records", map[string]any{"before_offset": 4}, nil); code != http.StatusOK {
		t.Fatalf("delete records: %d %v", code, out)
	}
	starts, err := adm.ListStartOffsets(ctx, "made")
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := starts.Lookup("made", 0); s.Offset != 4 {
		t.Fatalf("log start after delete records: %d; want 4", s.Offset)
	}

	checkConsoleReset(t, ctx, hc, base, n, adm)

	// The page offers the changes once the node allows them.
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed; run `make clients`")
	}
	for hash, want := range map[string][]string{
		"#/topics":      {"changes allowed", "Create a topic"},
		"#/topics/made": {"Delete records", "Delete made", "Config"},
		"#/groups/idle": {"Reset offsets", "Only while the group has no members"},
	} {
		dom, logged := chromium(t, bin, base+"/"+hash, "--window-size=1280,800", "--dump-dom")
		if len(logged) > 0 {
			t.Errorf("%s logged: %v", hash, logged)
		}
		for _, w := range want {
			if !strings.Contains(dom, w) {
				t.Errorf("%s does not offer %q", hash, w)
			}
		}
	}

	if code, out := consoleWrite(t, hc, base, "DELETE", "/v1/topics/made", nil, nil); code != http.StatusOK {
		t.Fatalf("delete topic: %d %v", code, out)
	}
	waitFor(t, 30*time.Second, func() bool {
		topics, err := adm.ListTopics(ctx, "made")
		return err == nil && !topics.Has("made")
	})
}

// checkConsoleReset resets an idle group's offsets and is refused for a
// group with a member.
func checkConsoleReset(t *testing.T, ctx context.Context, hc *http.Client, base string, n *harness.Node, adm *kadm.Client) {
	t.Helper()
	initial := kadm.Offsets{}
	initial.AddOffset("made", 0, 5, -1)
	if _, err := adm.CommitOffsets(ctx, "idle", initial); err != nil {
		t.Fatal(err)
	}
	reset := map[string]any{"topic": "made", "partitions": []int32{0}, "to": "latest"}
	if code, out := consoleWrite(t, hc, base, "POST", "/v1/groups/idle/offsets", reset, nil); code != http.StatusOK {
		t.Fatalf("reset offsets: %d %v", code, out)
	}
	fetched, err := adm.FetchOffsets(ctx, "idle")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := fetched.Lookup("made", 0); o.At != 10 {
		t.Fatalf("committed offset after reset to latest: %d; want 10", o.At)
	}
	member, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.ConsumerGroup("busy"), kgo.ConsumeTopics("made"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer member.Close()
	for got := 0; got < 6; {
		got += member.PollFetches(ctx).NumRecords()
		if ctx.Err() != nil {
			t.Fatal("the busy group's member never consumed")
		}
	}
	if code, out := consoleWrite(t, hc, base, "POST", "/v1/groups/busy/offsets", reset, nil); code != http.StatusConflict {
		t.Fatalf("reset of a group with a member: %d %v; want 409", code, out)
	}
}

// With an authorizer, a change is authorized for the HTTP user as the
// Kafka API would authorize it: alice may not create a topic until an ACL
// lets her, and may not delete it without DELETE.
func TestConsoleWritesAuthorized(t *testing.T) {
	n, pki, httpAddr := consoleSecureNode(t, map[string]string{
		"http.console.read.only": "false",
		"authorizer.class.name":  standardAuthorizer,
		"super.users":            "User:broker;User:ANONYMOUS",
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	brokerUser := scram.Auth{User: "broker", Pass: "broker-secret"}.AsSha512Mechanism()
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.DialTLSConfig(pki.clientTLS("")), kgo.SASL(brokerUser))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	base := "https://" + httpAddr
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: pki.clientTLS("")}}
	waitFor(t, 60*time.Second, func() bool { code, _ := httpsGet(hc, base+"/readyz"); return code == http.StatusOK })
	alice := map[string]string{"Authorization": basicAuth("alice", "alice-secret")}

	create := map[string]any{"name": "alice-topic", "partitions": 2}
	if code, out := consoleWrite(t, hc, base, "POST", "/v1/topics", create, alice); code != http.StatusForbidden {
		t.Fatalf("create without an ACL: %d %v; want 403", code, out)
	}
	acl := kadm.NewACLs().Allow("User:alice").AllowHosts("*").Topics("alice-topic").ResourcePatternType(kadm.ACLPatternLiteral).Operations(kadm.OpCreate)
	if res, err := adm.CreateACLs(ctx, acl); err != nil || res[0].Err != nil {
		t.Fatalf("create ACL: %v %v", err, res)
	}
	waitFor(t, 30*time.Second, func() bool {
		code, _ := consoleWrite(t, hc, base, "POST", "/v1/topics", create, alice)
		return code == http.StatusOK
	})
	if code, out := consoleWrite(t, hc, base, "DELETE", "/v1/topics/alice-topic", nil, alice); code != http.StatusForbidden {
		t.Fatalf("delete without DELETE: %d %v; want 403", code, out)
	}
	topics, err := adm.ListTopics(ctx, "alice-topic")
	if err != nil || !topics.Has("alice-topic") {
		t.Fatalf("alice-topic after a refused delete: %v %v", topics, err)
	}

	checkConsoleReadsAuthorized(t, ctx, hc, base, adm, alice)
}

// checkConsoleReadsAuthorized: what alice reads is what the Kafka API
// would show her. Without DESCRIBE or READ the topic is not listed and its
// records are refused; after READ (which implies DESCRIBE) both are hers.
func checkConsoleReadsAuthorized(t *testing.T, ctx context.Context, hc *http.Client, base string, adm *kadm.Client, alice map[string]string) {
	t.Helper()
	get := func(path string) (int, map[string]any) { return consoleWrite(t, hc, base, "GET", path, nil, alice) }
	listed := func() bool {
		_, out := get("/v1/topics")
		list, _ := out["topics"].([]any)
		for _, x := range list {
			if m, _ := x.(map[string]any); m["name"] == "alice-topic" {
				return true
			}
		}
		return false
	}
	if listed() {
		t.Fatal("alice sees alice-topic listed without DESCRIBE")
	}
	for _, path := range []string{"/v1/topics/alice-topic", "/v1/topics/alice-topic/partitions/0/records", "/v1/topics/alice-topic/partitions/0/producers", "/v1/acls", "/v1/quotas"} {
		if code, out := get(path); code != http.StatusForbidden {
			t.Errorf("alice GET %s without rights: %d %v; want 403", path, code, out)
		}
	}
	acl := kadm.NewACLs().Allow("User:alice").AllowHosts("*").Topics("alice-topic").ResourcePatternType(kadm.ACLPatternLiteral).Operations(kadm.OpRead)
	if res, err := adm.CreateACLs(ctx, acl); err != nil || res[0].Err != nil {
		t.Fatalf("create ACL: %v %v", err, res)
	}
	waitFor(t, 30*time.Second, listed)
	if code, out := get("/v1/topics/alice-topic/partitions/0/records?offset=earliest"); code != http.StatusOK {
		t.Fatalf("alice reads records with READ: %d %v", code, out)
	}
	// The super user sees the bindings, as DescribeAcls shows them.
	described, err := adm.DescribeACLs(ctx, kadm.NewACLs().AnyResource().ResourcePatternType(kadm.ACLPatternAny).Operations(kadm.OpAny).Allow().Deny().AllowHosts().DenyHosts())
	if err != nil || described[0].Err != nil {
		t.Fatalf("describe ACLs: %v %v", err, described)
	}
	code, out := consoleWrite(t, hc, base, "GET", "/v1/acls", nil, map[string]string{"Authorization": basicAuth("broker", "broker-secret")})
	acls, _ := out["acls"].([]any)
	if code != http.StatusOK || out["enabled"] != true || len(acls) != len(described[0].Described) || len(acls) != 2 {
		t.Fatalf("/v1/acls as the super user: %d %v; DescribeAcls says %d bindings", code, out, len(described[0].Described))
	}
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func httpsGet(hc *http.Client, url string) (int, error) {
	resp, err := hc.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
