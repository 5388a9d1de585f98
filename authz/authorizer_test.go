package authz

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/config"
	"spool/controller/metadata"
	"spool/security"
)

const (
	topic   = kmsg.ACLResourceTypeTopic
	group   = kmsg.ACLResourceTypeGroup
	cluster = kmsg.ACLResourceTypeCluster
	txnID   = kmsg.ACLResourceTypeTransactionalId
	lit     = kmsg.ACLResourcePatternTypeLiteral
	pre     = kmsg.ACLResourcePatternTypePrefixed
	allow   = kmsg.ACLPermissionTypeAllow
	deny    = kmsg.ACLPermissionTypeDeny
	read    = kmsg.ACLOperationRead
	write   = kmsg.ACLOperationWrite
	desc    = kmsg.ACLOperationDescribe
	all     = kmsg.ACLOperationAll
)

func binding(rt kmsg.ACLResourceType, name string, pt kmsg.ACLResourcePatternType, principal, host string, op kmsg.ACLOperation, perm kmsg.ACLPermissionType) *metadata.AccessControlEntryRecord {
	return &metadata.AccessControlEntryRecord{ACL: metadata.ACL{ID: NewID(), ResourceType: int8(rt), ResourceName: name, PatternType: int8(pt),
		Principal: principal, Host: host, Operation: int8(op), Permission: int8(perm)}}
}

func image(t *testing.T, recs ...*metadata.AccessControlEntryRecord) *metadata.Image {
	t.Helper()
	d := metadata.NewDelta(metadata.Empty())
	for _, r := range recs {
		if err := d.Replay(r); err != nil {
			t.Fatal(err)
		}
	}
	return d.Apply()
}

func TestAuthorize(t *testing.T) {
	img := image(t,
		binding(topic, "orders", lit, "User:alice", "*", read, allow),
		binding(topic, "orders", lit, "User:bob", "*", write, allow),
		binding(topic, "pay-", pre, "User:alice", "*", all, allow),
		binding(topic, "pay-secret", lit, "User:alice", "*", read, deny),
		binding(topic, "*", lit, "User:carol", "*", desc, allow),
		binding(topic, "pub", lit, "User:*", "*", read, allow),
		binding(topic, "lan", lit, "User:dave", "10.0.0.1", read, allow),
		binding(group, "g", lit, "User:alice", "*", read, allow),
		binding(cluster, ClusterName, lit, "User:ops", "*", kmsg.ACLOperationAlterConfigs, allow),
		binding(txnID, "tx", pre, "User:bob", "*", write, allow),
		binding(topic, "deny-all", lit, "User:*", "*", all, deny),
		binding(topic, "deny-all", lit, "User:alice", "*", all, allow),
		binding(topic, "dread", lit, "User:alice", "*", read, deny),
		binding(topic, "dread", lit, "User:alice", "*", desc, allow),
	)
	a := New(Config{SuperUsers: []string{"User:admin"}})
	everyone := New(Config{AllowIfNoACL: true})
	for _, tc := range []struct {
		name string
		az   *Authorizer
		who  string
		host string
		act  Action
		want bool
	}{
		{"literal allow", a, "alice", "1.2.3.4", Action{read, topic, "orders"}, true},
		{"other operation", a, "alice", "1.2.3.4", Action{write, topic, "orders"}, false},
		{"other principal", a, "eve", "1.2.3.4", Action{read, topic, "orders"}, false},
		{"read implies describe", a, "alice", "1.2.3.4", Action{desc, topic, "orders"}, true},
		{"write implies describe", a, "bob", "1.2.3.4", Action{desc, topic, "orders"}, true},
		{"describe implies nothing", a, "carol", "1.2.3.4", Action{read, topic, "orders"}, false},
		{"wildcard resource", a, "carol", "1.2.3.4", Action{desc, topic, "anything"}, true},
		{"prefixed", a, "alice", "1.2.3.4", Action{write, topic, "pay-in"}, true},
		{"prefixed exact name", a, "alice", "1.2.3.4", Action{write, topic, "pay-"}, true},
		{"prefix not matching", a, "alice", "1.2.3.4", Action{write, topic, "pay"}, false},
		{"deny wins over prefixed allow", a, "alice", "1.2.3.4", Action{read, topic, "pay-secret"}, false},
		{"deny is per operation", a, "alice", "1.2.3.4", Action{write, topic, "pay-secret"}, true},
		{"deny read does not deny describe", a, "alice", "1.2.3.4", Action{desc, topic, "dread"}, true},
		{"deny read", a, "alice", "1.2.3.4", Action{read, topic, "dread"}, false},
		{"wildcard principal", a, "zed", "1.2.3.4", Action{read, topic, "pub"}, true},
		{"wildcard deny beats allow", a, "alice", "1.2.3.4", Action{read, topic, "deny-all"}, false},
		{"host matches", a, "dave", "10.0.0.1", Action{read, topic, "lan"}, true},
		{"host differs", a, "dave", "10.0.0.2", Action{read, topic, "lan"}, false},
		{"group", a, "alice", "1.2.3.4", Action{read, group, "g"}, true},
		{"group other name", a, "alice", "1.2.3.4", Action{read, group, "h"}, false},
		{"alter configs implies describe configs", a, "ops", "1.2.3.4", Action{kmsg.ACLOperationDescribeConfigs, cluster, ClusterName}, true},
		{"alter configs is not alter", a, "ops", "1.2.3.4", Action{kmsg.ACLOperationAlter, cluster, ClusterName}, false},
		{"transactional id prefixed", a, "bob", "1.2.3.4", Action{desc, txnID, "tx-1"}, true},
		{"super user", a, "admin", "1.2.3.4", Action{kmsg.ACLOperationDelete, topic, "deny-all"}, true},
		{"no acl: denied by default", a, "alice", "1.2.3.4", Action{read, group, "unnamed"}, false},
		{"no acl: allow.everyone", everyone, "alice", "1.2.3.4", Action{read, group, "unnamed"}, true},
		{"a wildcard binding counts as an acl", everyone, "alice", "1.2.3.4", Action{read, topic, "unnamed"}, false},
		{"acl exists: allow.everyone does not apply", everyone, "eve", "1.2.3.4", Action{read, topic, "orders"}, false},
		{"no authorizer", nil, "eve", "1.2.3.4", Action{read, topic, "orders"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.az.Authorize(img.ACLs, security.User(tc.who), tc.host, tc.act); got != tc.want {
				t.Fatalf("Authorize(%s, %s, %+v) = %v, want %v", tc.who, tc.host, tc.act, got, tc.want)
			}
		})
	}
}

func TestAuthorizedOperationsAndByType(t *testing.T) {
	img := image(t,
		binding(topic, "t", lit, "User:alice", "*", read, allow),
		binding(topic, "t", lit, "User:alice", "*", kmsg.ACLOperationAlterConfigs, allow),
		binding(topic, "w-", pre, "User:bob", "*", write, allow),
		binding(topic, "w-x", lit, "User:carol", "*", write, allow),
		binding(topic, "w-", pre, "User:carol", "*", write, deny),
		binding(topic, "*", lit, "User:dave", "*", write, deny),
		binding(topic, "d", lit, "User:dave", "*", write, allow),
	)
	a := New(Config{})
	supported := int32(1<<read | 1<<write | 1<<desc | 1<<kmsg.ACLOperationDescribeConfigs | 1<<kmsg.ACLOperationAlterConfigs)
	got := a.AuthorizedOperations(img.ACLs, security.User("alice"), "h", topic, "t", supported)
	want := int32(1<<read | 1<<desc | 1<<kmsg.ACLOperationDescribeConfigs | 1<<kmsg.ACLOperationAlterConfigs)
	if got != want {
		t.Fatalf("authorized operations %b, want %b", got, want)
	}
	for who, want := range map[string]bool{"bob": true, "carol": false, "dave": false, "eve": false} {
		if got := a.AuthorizeAnyOfType(img.ACLs, security.User(who), "h", write, topic); got != want {
			t.Errorf("AuthorizeAnyOfType(%s, WRITE, TOPIC) = %v, want %v", who, got, want)
		}
	}
}

func TestIndexFollowsTheImage(t *testing.T) {
	a := New(Config{})
	img := image(t)
	if a.Authorize(img.ACLs, security.User("alice"), "h", Action{read, topic, "t"}) {
		t.Fatal("allowed with no ACLs")
	}
	d := metadata.NewDelta(img)
	r := binding(topic, "t", lit, "User:alice", "*", read, allow)
	if err := d.Replay(r); err != nil {
		t.Fatal(err)
	}
	img2 := d.Apply()
	if !a.Authorize(img2.ACLs, security.User("alice"), "h", Action{read, topic, "t"}) {
		t.Fatal("a new binding is not seen")
	}
	d = metadata.NewDelta(img2)
	if err := d.Replay(&metadata.RemoveAccessControlEntryRecord{ID: r.ID}); err != nil {
		t.Fatal(err)
	}
	if a.Authorize(d.Apply().ACLs, security.User("alice"), "h", Action{read, topic, "t"}) {
		t.Fatal("a removed binding still allows")
	}
}

func TestFromConfig(t *testing.T) {
	for _, tc := range []struct {
		props   map[string]string
		enabled bool
		err     bool
	}{
		{map[string]string{}, false, false},
		{map[string]string{"authorizer.class.name": ""}, false, false},
		{map[string]string{"authorizer.class.name": StandardAuthorizer, "super.users": "User:a;User:b"}, true, false},
		{map[string]string{"authorizer.class.name": "kafka.security.authorizer.AclAuthorizer"}, false, true},
		{map[string]string{"authorizer.class.name": StandardAuthorizer, "super.users": "alice"}, false, true},
	} {
		c, _, _ := config.New(tc.props)
		az, err := FromConfig(c)
		if (err != nil) != tc.err || az.Enabled() != tc.enabled {
			t.Errorf("FromConfig(%v) = %v, %v", tc.props, az, err)
		}
	}
	c, _, _ := config.New(map[string]string{"authorizer.class.name": StandardAuthorizer, "super.users": " User:a ; User:b"})
	az, _ := FromConfig(c)
	if !az.IsSuperUser(security.User("b")) || az.IsSuperUser(security.User("c")) {
		t.Fatal("super.users not parsed")
	}
}
