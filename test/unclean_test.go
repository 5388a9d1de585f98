package test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// A controller and three brokers; three topics have replicas [2,3] (4 is
// a bystander that answers metadata). Broker 3 dies, 2 takes writes alone,
// then 2 dies: every partition is leaderless with ISR [2]. Broker 3 comes
// back out of sync. With unclean.leader.election.enable off nothing is
// elected; a manual unclean ElectLeaders elects 3 for one topic; the
// topic config, set at run time, elects 3 for the next, and the cluster-wide
// dynamic broker default for the last. The controller logs the data-loss
// warning each time, and broker 2, restarted, follows the new leader.
func TestUncleanLeaderElectionOnlyWhenEnabled(t *testing.T) {
	t.Parallel()
	c := harness.NewCluster(t, []string{"controller", "broker", "broker", "broker"},
		map[string]string{"broker.session.timeout.ms": "4000", "broker.heartbeat.interval.ms": "400"})
	c.Start()
	defer logOnFailure(t, c.Nodes...)
	ctx := ctxT(t, 4*time.Minute)
	bystander := c.Node(4).Addr
	cl, err := kgo.NewClient(kgo.SeedBrokers(bystander), kgo.RetryTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	topics := []string{"unclean-manual", "unclean-topic", "unclean-cluster"}
	for _, topic := range topics {
		createAssigned(ctx, t, cl, topic, []int32{2, 3})
		waitFullISR(t, adm, topic)
	}
	prod, err := kgo.NewClient(kgo.SeedBrokers(bystander), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordRetries(5))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	produceEach(ctx, t, prod, topics, "both")

	c.Node(3).Kill()
	waitPartition(t, adm, topics, func(p kadm.PartitionDetail) bool { return p.Leader == 2 && len(p.ISR) == 1 })
	produceEach(ctx, t, prod, topics, "only-on-2")
	c.Node(2).Kill()
	c.Node(3).StartArgs("--config", c.Node(3).ConfigFile)
	waitUnfenced(t, bystander, 3)

	// Broker 3 is live and a replica of every partition, but out of sync:
	// without unclean elections they all stay leaderless.
	time.Sleep(5 * time.Second)
	waitPartition(t, adm, topics, func(p kadm.PartitionDetail) bool { return p.Leader == -1 })

	elect := kmsg.NewPtrElectLeadersRequest()
	elect.ElectionType = 1
	rt := kmsg.NewElectLeadersRequestTopic()
	rt.Topic, rt.Partitions = topics[0], []int32{0}
	elect.Topics = append(elect.Topics, rt)
	elect.TimeoutMillis = 30000
	raw, err := elect.RequestWith(ctx, cl)
	if err != nil || raw.ErrorCode != 0 || raw.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("unclean ElectLeaders: %v %+v", err, raw)
	}
	waitPartition(t, adm, topics[:1], func(p kadm.PartitionDetail) bool { return p.Leader == 3 })
	waitPartition(t, adm, topics[1:], func(p kadm.PartitionDetail) bool { return p.Leader == -1 })

	setUnclean(t, func(cfg []kadm.AlterConfig) (kadm.AlterConfigsResponses, error) {
		return adm.AlterTopicConfigs(ctx, cfg, topics[1])
	})
	waitPartition(t, adm, topics[1:2], func(p kadm.PartitionDetail) bool { return p.Leader == 3 && len(p.ISR) == 1 })
	waitPartition(t, adm, topics[2:], func(p kadm.PartitionDetail) bool { return p.Leader == -1 })

	setUnclean(t, func(cfg []kadm.AlterConfig) (kadm.AlterConfigsResponses, error) {
		return adm.AlterBrokerConfigs(ctx, cfg) // the cluster-wide default
	})
	waitPartition(t, adm, topics[2:], func(p kadm.PartitionDetail) bool { return p.Leader == 3 })

	out := c.Node(1).Output()
	for _, topic := range topics {
		if !strings.Contains(out, "unclean leader election") || !strings.Contains(out, `"topic": "`+topic+`"`) {
			t.Fatalf("controller did not warn of the unclean election of %s:\n%s", topic, out)
		}
	}

	// The old leader comes back, truncates to the new leader's log and
	// rejoins the ISR; the partitions take writes again.
	c.Node(2).StartArgs("--config", c.Node(2).ConfigFile)
	for _, topic := range topics {
		waitFullISR(t, adm, topic)
	}
	produceEach(ctx, t, prod, topics, "after")
}

// createAssigned creates a one-partition topic with the given replicas.
func createAssigned(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, replicas []int32) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, -1, -1
	a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
	a.Partition, a.Replicas = 0, replicas
	rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 30000
	resp, err := req.RequestWith(ctx, cl)
	if err != nil || resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("create %s: %v %+v", topic, err, resp)
	}
}

func produceEach(ctx context.Context, t *testing.T, cl *kgo.Client, topics []string, value string) {
	t.Helper()
	for _, topic := range topics {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(value)}).FirstErr(); err != nil {
			t.Fatalf("produce to %s: %v", topic, err)
		}
	}
}

// waitPartition waits until partition 0 of every topic satisfies ok.
func waitPartition(t *testing.T, adm *kadm.Client, topics []string, ok func(kadm.PartitionDetail) bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		meta, err := adm.Metadata(ctx, topics...)
		cancel()
		all := err == nil
		for _, topic := range topics {
			p, found := meta.Topics[topic].Partitions[0]
			all = all && found && ok(p)
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("partitions of %v never reached the wanted state: %v %+v", topics, err, meta.Topics)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitUnfenced waits until DescribeCluster on addr lists broker id unfenced.
func waitUnfenced(t *testing.T, addr string, id int32) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		req := kmsg.NewPtrDescribeClusterRequest()
		req.SetVersion(1)
		req.IncludeFencedBrokers = true
		raw, err := harness.Request(addr, req, 5*time.Second)
		if resp, ok := raw.(*kmsg.DescribeClusterResponse); err == nil && ok {
			for _, b := range resp.Brokers {
				if b.NodeID == id && !b.IsFenced {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("broker %d never unfenced", id)
}

func setUnclean(t *testing.T, alter func([]kadm.AlterConfig) (kadm.AlterConfigsResponses, error)) {
	t.Helper()
	v := "true"
	resp, err := alter([]kadm.AlterConfig{{Op: kadm.SetConfig, Name: "unclean.leader.election.enable", Value: &v}})
	if err == nil {
		for _, r := range resp {
			if r.Err != nil {
				err = r.Err
			}
		}
	}
	if err != nil {
		t.Fatalf("set unclean.leader.election.enable: %v", err)
	}
}
