package test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"spool/test/harness"
)

// secureCluster is three combined nodes: clients and brokers speak
// SASL_SSL with SCRAM-SHA-512, the controller listener is SSL with client
// certificates required (SCRAM cannot work there: its credentials are in
// the metadata log the controllers replicate).
func secureCluster(t *testing.T) (*harness.Cluster, *testPKI) {
	t.Helper()
	pki := newPKI(t, "cluster")
	c := harness.NewCluster(t, []string{"broker,controller", "broker,controller", "broker,controller"}, nil)
	for _, n := range c.Nodes {
		ks := pki.issue(fmt.Sprintf("node-%d", n.ID))
		reconfigure(t, n, map[string]string{
			"listeners":                      fmt.Sprintf("SASL_SSL://%s,CONTROLLER://%s", n.Addr, n.CtrlAddr),
			"listener.security.protocol.map": "SASL_SSL:SASL_SSL,CONTROLLER:SSL",
			"inter.broker.listener.name":     "SASL_SSL",
			"ssl.keystore.type":              "PEM", "ssl.keystore.location": ks,
			"ssl.truststore.type": "PEM", "ssl.truststore.location": pki.CAFile,
			"listener.name.controller.ssl.client.auth":              "required",
			"sasl.enabled.mechanisms":                               "SCRAM-SHA-512",
			"sasl.mechanism.inter.broker.protocol":                  "SCRAM-SHA-512",
			"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": scramModule + ` required username="broker" password="broker-secret";`,
			"offsets.topic.replication.factor":                      "3", "transaction.state.log.replication.factor": "3",
		})
		out, code := harness.Run(t, "storage", "format", "--config", n.ConfigFile, "--cluster-id", n.ClusterID,
			"--add-scram", "SCRAM-SHA-512=[name=broker,password=broker-secret]",
			"--add-scram", "SCRAM-SHA-512=[name=alice,password=alice-secret]")
		if code != 0 {
			t.Fatalf("format node %d: %s", n.ID, out)
		}
		n.ClientTLS = pki.clientTLS("")
	}
	c.Start()
	t.Cleanup(func() {
		for _, n := range c.Nodes {
			n.Stop()
		}
	})
	return c, pki
}

func TestSecurityClusterSASLSSL(t *testing.T) {
	c, pki := secureCluster(t)
	alice := scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha512Mechanism()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.BootstrapAddrs()...), kgo.DialTLSConfig(pki.clientTLS("")), kgo.SASL(alice),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.DefaultProduceTopic("replicated"), kgo.ConsumeTopics("replicated"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 3, 3, nil, "replicated"); err != nil {
		t.Fatal(err)
	}
	// acks=all over replication factor 3: the followers fetched over
	// SASL_SSL with SCRAM.
	for i := 0; i < 30; i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
	}
	got := 0
	for got < 30 {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		got += fs.NumRecords()
	}
	// Every partition's ISR holds all three replicas.
	md, err := adm.Metadata(ctx, "replicated")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range md.Topics["replicated"].Partitions {
		if len(p.ISR) != 3 {
			t.Errorf("partition %d ISR %v, want all three replicas in sync over SASL_SSL", p.Partition, p.ISR)
		}
	}
	// A user added at run time can log in on every broker.
	if _, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: "bob", Mechanism: kadm.ScramSha512, Iterations: 8192, Password: "bob-secret"}}); err != nil {
		t.Fatal(err)
	}
	// The answering broker serves its metadata image, which may not hold
	// the new credential yet (as in Kafka): ask until it does.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		described, err := adm.DescribeUserSCRAMs(ctx, "bob")
		if err == nil && described["bob"].Err == nil && len(described["bob"].CredInfos) == 1 && described["bob"].CredInfos[0].Iterations == 8192 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("describe bob: %+v %v", described, err)
		}
	}
	bob := scram.Auth{User: "bob", Pass: "bob-secret"}.AsSha512Mechanism()
	for _, n := range c.Nodes {
		deadline := time.Now().Add(30 * time.Second)
		for {
			err := roundTrip(t, n.Addr, "bob", pki.clientTLS(""), bob)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("bob on node %d: %v", n.ID, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// The controller listener takes only nodes with a certificate of the
// cluster's CA: a forged raft message or heartbeat from anyone else never
// reaches the controller, and the cluster is unharmed.
func TestSecurityControllerListenerRefusesStrangers(t *testing.T) {
	c, pki := secureCluster(t)
	ctrl := c.Node(1).CtrlAddr
	heartbeat := kmsg.NewPtrBrokerHeartbeatRequest()
	heartbeat.BrokerID, heartbeat.BrokerEpoch = 2, 1
	if _, err := harness.Request(ctrl, heartbeat, 10*time.Second); err == nil {
		t.Fatal("a plaintext heartbeat was answered on the TLS controller listener")
	}
	if _, err := harness.RequestTLS(ctrl, pki.clientTLS(""), heartbeat, 10*time.Second); err == nil {
		t.Fatal("a heartbeat without a client certificate was answered")
	}
	rogue := newPKI(t, "rogue")
	if _, err := harness.RequestTLS(ctrl, pki.clientTLS(rogue.issue("node-2")), heartbeat, 10*time.Second); err == nil {
		t.Fatal("a heartbeat with a certificate of another CA was answered")
	}
	// A node's own certificate is answered (the request is well formed;
	// the controller judges the epoch).
	if _, err := harness.RequestTLS(ctrl, pki.clientTLS(pki.issue("node-9")), heartbeat, 10*time.Second); err != nil {
		t.Fatalf("a heartbeat with the cluster's certificate: %v", err)
	}
	for _, n := range c.Nodes {
		if !n.Running() {
			t.Fatalf("node %d died: %s", n.ID, n.Output())
		}
	}
}
