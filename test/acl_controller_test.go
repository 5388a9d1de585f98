package test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"spool/test/harness"
)

// plainConn opens a connection to addr authenticated with SASL PLAIN.
func plainConn(t *testing.T, addr, user, pass string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, "PLAIN"
	if _, err := harness.RequestOn(c, hs, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	auth := kmsg.NewPtrSASLAuthenticateRequest()
	auth.Version, auth.SASLAuthBytes = 1, []byte("\x00"+user+"\x00"+pass)
	resp, err := harness.RequestOn(c, auth, 10*time.Second)
	if err != nil || resp.(*kmsg.SASLAuthenticateResponse).ErrorCode != 0 {
		t.Fatalf("authenticate %s: %v %+v", user, err, resp)
	}
	return c
}

// On a SASL controller listener with an authorizer, only principals that
// are nodes (super users, or granted CLUSTER_ACTION) may send raft
// messages and broker lifecycle requests; an authenticated user who is
// not one gets CLUSTER_AUTHORIZATION_FAILED, or a closed connection for
// raft, until an ACL grants it CLUSTER_ACTION.
func TestACLControllerListenerTakesOnlyNodes(t *testing.T) {
	n := harness.SingleNode(t, nil)
	jaas := plainModule + ` required username="node" password="node-secret" user_node="node-secret" user_alice="alice-secret" user_admin="admin-secret";`
	reconfigure(t, n, map[string]string{
		"listeners":                                           fmt.Sprintf("SASL_PLAINTEXT://%s,CONTROLLER://%s", n.Addr, n.CtrlAddr),
		"listener.security.protocol.map":                      "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
		"sasl.enabled.mechanisms":                             "PLAIN",
		"sasl.mechanism.inter.broker.protocol":                "PLAIN",
		"sasl.mechanism.controller.protocol":                  "PLAIN",
		"listener.name.sasl_plaintext.plain.sasl.jaas.config": jaas,
		"listener.name.controller.plain.sasl.jaas.config":     jaas,
		"authorizer.class.name":                               standardAuthorizer,
		"super.users":                                         "User:node;User:admin",
	})
	n.Start()
	t.Cleanup(func() { n.Stop() })

	heartbeat := func(user string) int16 {
		hb := kmsg.NewPtrBrokerHeartbeatRequest()
		hb.BrokerID, hb.BrokerEpoch = 7, 1
		resp, err := harness.RequestOn(plainConn(t, n.CtrlAddr, user, user+"-secret"), hb, 10*time.Second)
		if err != nil {
			t.Fatalf("%s's heartbeat: %v", user, err)
		}
		return resp.(*kmsg.BrokerHeartbeatResponse).ErrorCode
	}
	if code := heartbeat("alice"); code != kerr.ClusterAuthorizationFailed.Code {
		t.Fatalf("alice's heartbeat: code %d, want CLUSTER_AUTHORIZATION_FAILED", code)
	}
	if code := heartbeat("node"); code == kerr.ClusterAuthorizationFailed.Code {
		t.Fatal("the node's heartbeat was refused")
	}
	// A raft message from alice closes her connection.
	m := &raftpb.Message{Type: raftpb.MsgHeartbeat.Enum(), From: proto.Uint64(2), To: proto.Uint64(2), Term: proto.Uint64(1 << 50)}
	c := plainConn(t, n.CtrlAddr, "alice", "alice-secret")
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(raftFrame(t, m)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 64)); err == nil {
		t.Fatal("alice's raft message was answered")
	}
	// Granting CLUSTER_ACTION makes her a node for the controller.
	create := kmsg.NewPtrCreateACLsRequest()
	create.Version = 3
	cr := kmsg.NewCreateACLsRequestCreation()
	cr.ResourceType, cr.ResourceName, cr.ResourcePatternType = kmsg.ACLResourceTypeCluster, "kafka-cluster", kmsg.ACLResourcePatternTypeLiteral
	cr.Principal, cr.Host, cr.Operation, cr.PermissionType = "User:alice", "*", kmsg.ACLOperationClusterAction, kmsg.ACLPermissionTypeAllow
	create.Creations = append(create.Creations, cr)
	resp, err := harness.RequestOn(plainConn(t, n.CtrlAddr, "admin", "admin-secret"), create, 30*time.Second)
	if err != nil || resp.(*kmsg.CreateACLsResponse).Results[0].ErrorCode != 0 {
		t.Fatalf("CreateAcls on the controller listener: %v %+v", err, resp)
	}
	deadline := time.Now().Add(15 * time.Second)
	for heartbeat("alice") == kerr.ClusterAuthorizationFailed.Code {
		if time.Now().After(deadline) {
			t.Fatal("alice still refused after CLUSTER_ACTION was granted")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !n.Running() {
		t.Fatal("node exited")
	}
}
