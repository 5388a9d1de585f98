package test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"spool/test/harness"
)

const standardAuthorizer = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"

// aclNode starts a node whose client listener is SASL_PLAINTEXT with PLAIN
// users admin (a super user), alice and bob, and the StandardAuthorizer.
// The controller listener is PLAINTEXT, so the broker reaches its
// controller as ANONYMOUS, which must be a super user as in Kafka.
func aclNode(t *testing.T, extra map[string]string) *harness.Node {
	props := map[string]string{
		"sasl.enabled.mechanisms":                             "PLAIN",
		"sasl.mechanism.inter.broker.protocol":                "PLAIN",
		"listener.name.sasl_plaintext.plain.sasl.jaas.config": plainModule + ` required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret" user_bob="bob-secret";`,
		"authorizer.class.name":                               standardAuthorizer,
		"super.users":                                         "User:admin;User:ANONYMOUS",
	}
	for k, v := range extra {
		props[k] = v
	}
	return secureNode(t, "SASL_PLAINTEXT", props, nil)
}

func aclClient(t *testing.T, addr, user string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts = append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.SASL(plain.Auth{User: user, Pass: user + "-secret"}.AsMechanism()),
		kgo.RequestRetries(2), kgo.RetryTimeout(5 * time.Second)}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func TestACLAdminAPIs(t *testing.T) {
	n := aclNode(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin := kadm.NewClient(aclClient(t, n.Addr, "admin"))
	alice := kadm.NewClient(aclClient(t, n.Addr, "alice"))

	b := kadm.NewACLs().Allow("User:alice").Topics("orders").ResourcePatternType(kadm.ACLPatternLiteral).Operations(kadm.OpRead, kadm.OpDescribe).
		AllowHosts("*")
	res, err := admin.CreateACLs(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("create: %v", r.Err)
		}
	}
	// alice lacks ALTER on the cluster.
	res, err = alice.CreateACLs(ctx, kadm.NewACLs().Allow("User:alice").Topics("x").ResourcePatternType(kadm.ACLPatternLiteral).Operations(kadm.OpAll).AllowHosts("*"))
	if err != nil || len(res) != 1 || !errors.Is(res[0].Err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("alice's CreateAcls: %v %+v", err, res)
	}
	ad, err := alice.DescribeACLs(ctx, kadm.NewACLs().AnyResource().ResourcePatternType(kadm.ACLPatternAny).Operations(kadm.OpAny).Allow().AllowHosts())
	if err != nil || len(ad) != 1 || !errors.Is(ad[0].Err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("alice's DescribeAcls: %v %+v", err, ad)
	}
	described, err := admin.DescribeACLs(ctx, kadm.NewACLs().Topics("orders").ResourcePatternType(kadm.ACLPatternMatch).Operations(kadm.OpAny).Allow().AllowHosts())
	if err != nil {
		t.Fatal(err)
	}
	if len(described) != 1 || described[0].Err != nil || len(described[0].Described) != 2 {
		t.Fatalf("describe: %+v", described)
	}
	// The controller listener serves the same ACLs.
	resp, err := harness.Request(n.CtrlAddr, describeAllACLs(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if d := resp.(*kmsg.DescribeACLsResponse); d.ErrorCode != 0 || len(d.Resources) != 1 || len(d.Resources[0].ACLs) != 2 {
		t.Fatalf("controller DescribeAcls: %+v", d)
	}
	deleted, err := admin.DeleteACLs(ctx, kadm.NewACLs().Topics("orders").ResourcePatternType(kadm.ACLPatternLiteral).Operations(kadm.OpRead).Allow().AllowHosts())
	if err != nil || len(deleted) != 1 || deleted[0].Err != nil || len(deleted[0].Deleted) != 1 {
		t.Fatalf("delete: %v %+v", err, deleted)
	}
	resp, err = harness.Request(n.CtrlAddr, describeAllACLs(), 10*time.Second)
	if err != nil || len(resp.(*kmsg.DescribeACLsResponse).Resources[0].ACLs) != 1 {
		t.Fatalf("after delete: %v %+v", err, resp)
	}
}

func describeAllACLs() *kmsg.DescribeACLsRequest {
	r := kmsg.NewPtrDescribeACLsRequest()
	r.Version = 3
	r.ResourceType, r.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny
	r.Operation, r.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	return r
}

func TestACLWithoutAuthorizer(t *testing.T) {
	n := harness.SingleNode(t, nil)
	n.Start()
	t.Cleanup(func() { n.Stop() })
	for _, addr := range []string{n.Addr, n.CtrlAddr} {
		resp, err := harness.Request(addr, describeAllACLs(), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if d := resp.(*kmsg.DescribeACLsResponse); d.ErrorCode != kerr.SecurityDisabled.Code {
			t.Fatalf("%s: DescribeAcls without an authorizer: code %d", addr, d.ErrorCode)
		}
	}
}

func TestACLAuthorizerConfigErrors(t *testing.T) {
	for name, c := range map[string]struct {
		props map[string]string
		want  string
	}{
		"ZooKeeper authorizer": {map[string]string{"authorizer.class.name": "kafka.security.authorizer.AclAuthorizer"}, "authorizer.class.name"},
		"bad super user":       {map[string]string{"authorizer.class.name": standardAuthorizer, "super.users": "admin"}, "super.users"},
	} {
		t.Run(name, func(t *testing.T) {
			n := harness.SingleNode(t, c.props)
			out, code := harness.Run(t, "server", "--config", n.ConfigFile, "--cluster-id", n.ClusterID)
			if code != 2 || !strings.Contains(out, c.want) {
				t.Fatalf("exit %d, want 2 with %q:\n%s", code, c.want, out)
			}
		})
	}
}

// What a principal may do follows its ACLs through the front door:
// alice may write and read "orders" in group "g", bob nothing; both
// reach the broker authenticated, and the refusals carry Kafka's codes.
func TestACLEnforcedOnClients(t *testing.T) {
	n := aclNode(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	admin := kadm.NewClient(aclClient(t, n.Addr, "admin"))
	if _, err := admin.CreateTopics(ctx, 1, 1, nil, "orders", "secret"); err != nil {
		t.Fatal(err)
	}
	acl := kadm.NewACLs().Allow("User:alice").AllowHosts("*").ResourcePatternType(kadm.ACLPatternLiteral)
	if _, err := admin.CreateACLs(ctx, acl.Topics("orders").Operations(kadm.OpRead, kadm.OpWrite)); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateACLs(ctx, kadm.NewACLs().Allow("User:alice").AllowHosts("*").ResourcePatternType(kadm.ACLPatternLiteral).
		Groups("g").Operations(kadm.OpRead)); err != nil {
		t.Fatal(err)
	}

	alice := aclClient(t, n.Addr, "alice", kgo.ConsumerGroup("g"), kgo.ConsumeTopics("orders"))
	if err := alice.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatalf("alice's produce: %v", err)
	}
	fetched := false
	for !fetched && ctx.Err() == nil {
		fs := alice.PollFetches(ctx)
		if errs := fs.Errors(); len(errs) > 0 {
			t.Fatalf("alice's fetch: %v", errs)
		}
		fetched = fs.NumRecords() > 0
	}
	if err := alice.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("alice's commit: %v", err)
	}
	aliceAdmin := kadm.NewClient(aclClient(t, n.Addr, "alice"))
	topics, err := aliceAdmin.ListTopics(ctx)
	if err != nil || topics.Has("secret") || !topics.Has("orders") {
		t.Fatalf("alice's topic list: %v %v", topics.Names(), err)
	}
	created, _ := aliceAdmin.CreateTopics(ctx, 1, 1, nil, "made-by-alice")
	if !errors.Is(created["made-by-alice"].Err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("alice's CreateTopics: %+v", created)
	}
	// alice in another group.
	other := aclClient(t, n.Addr, "alice", kgo.ConsumerGroup("h"), kgo.ConsumeTopics("orders"))
	fs := other.PollFetches(ctx)
	if err := fs.Err(); !errors.Is(err, kerr.GroupAuthorizationFailed) {
		t.Fatalf("alice in group h: %v", err)
	}

	bob := aclClient(t, n.Addr, "bob", kgo.DisableIdempotentWrite())
	err = bob.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("v")}).FirstErr()
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("bob's produce: %v", err)
	}
	bobIdem := aclClient(t, n.Addr, "bob")
	err = bobIdem.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("v")}).FirstErr()
	if !errors.Is(err, kerr.ClusterAuthorizationFailed) && !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("bob's idempotent produce: %v", err)
	}
	bobTopics, err := kadm.NewClient(bob).ListTopics(ctx)
	if err != nil || len(bobTopics) != 0 {
		t.Fatalf("bob sees topics: %v %v", bobTopics.Names(), err)
	}
	// Authorized operations in Metadata are alice's own.
	req := kmsg.NewPtrMetadataRequest()
	req.Version, req.IncludeTopicAuthorizedOperations = 12, true
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr("orders")
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, aclClient(t, n.Addr, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	want := int32(1<<kmsg.ACLOperationRead | 1<<kmsg.ACLOperationWrite | 1<<kmsg.ACLOperationDescribe)
	if got := resp.Topics[0].AuthorizedOperations; got != want {
		t.Fatalf("alice's authorized operations on orders: %b, want %b", got, want)
	}
}
