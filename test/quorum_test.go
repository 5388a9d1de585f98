package test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// activeController asks a controller listener who leads the quorum.
func activeController(t *testing.T, c *harness.Cluster) int32 {
	t.Helper()
	for _, n := range c.Nodes {
		if n.CtrlAddr == "" || !n.Running() {
			continue
		}
		req := kmsg.NewPtrDescribeQuorumRequest()
		req.SetVersion(1)
		rt := kmsg.NewDescribeQuorumRequestTopic()
		rt.Topic = "__cluster_metadata"
		rt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
		req.Topics = append(req.Topics, rt)
		raw, err := harness.Request(n.CtrlAddr, req, 5*time.Second)
		resp, _ := raw.(*kmsg.DescribeQuorumResponse)
		if err == nil && len(resp.Topics) == 1 && len(resp.Topics[0].Partitions) == 1 {
			if id := resp.Topics[0].Partitions[0].LeaderID; id > 0 {
				return id
			}
		}
	}
	return -1
}

func clusterAdmin(t *testing.T, c *harness.Cluster) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.BootstrapAddrs()...), kgo.RetryTimeout(45*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// Three combined nodes: topics created through any broker are seen by all;
// killing the active controller elects another, after which topic creation
// works again.
func TestControllerQuorumFailover(t *testing.T) {
	t.Parallel()
	c := harness.NewCluster(t, []string{"broker,controller", "broker,controller", "broker,controller"}, nil)
	c.Start()
	adm := clusterAdmin(t, c)
	ctx := ctxT(t, 3*time.Minute)
	if res, err := adm.CreateTopics(ctx, 6, 3, nil, "replicated"); err != nil || res["replicated"].Err != nil {
		t.Fatalf("create: %v %v", err, res["replicated"].Err)
	}
	// Brokers apply metadata independently; wait until the one asked has it.
	meta := eventuallyMetadata(t, adm, "replicated", 6)
	if len(meta.Brokers) != 3 || len(meta.Topics["replicated"].Partitions) != 6 {
		t.Fatalf("brokers %d, partitions %d", len(meta.Brokers), len(meta.Topics["replicated"].Partitions))
	}
	leaders := map[int32]int{}
	for _, p := range meta.Topics["replicated"].Partitions {
		leaders[p.Leader]++
		if len(p.Replicas) != 3 {
			t.Fatalf("partition %d replicas %v", p.Partition, p.Replicas)
		}
	}
	if len(leaders) != 3 {
		t.Fatalf("leaders not spread over the brokers: %v", leaders)
	}

	active := activeController(t, c)
	if active < 0 {
		t.Fatal("no active controller")
	}
	killed := time.Now()
	c.Node(int(active)).Kill()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if id := activeController(t, c); id > 0 && id != active {
			t.Logf("controller %d took over from %d in %v", id, active, time.Since(killed))
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no new active controller within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	res, err := adm.CreateTopics(ctx, 1, 1, nil, "after-failover")
	if err != nil || res["after-failover"].Err != nil {
		t.Fatalf("create after failover: %v %v", err, res)
	}
	c.Node(int(active)).Start()
	for _, n := range c.Brokers() {
		a := admin(t, n.Addr)
		d, err := a.ListTopics(ctx, "after-failover", "replicated")
		if err != nil || len(d) != 2 {
			t.Fatalf("broker %d sees %v (%v)", n.ID, d, err)
		}
	}
}

// Dedicated controllers and brokers: a quorum of three controllers and two
// broker-only nodes, which keep their own copy of the metadata log.
func TestDedicatedControllersAndBrokers(t *testing.T) {
	t.Parallel()
	c := harness.NewCluster(t, []string{"controller", "controller", "controller", "broker", "broker"},
		map[string]string{"metadata.log.max.record.bytes.between.snapshots": "2048"})
	c.Start()
	adm := clusterAdmin(t, c)
	ctx := ctxT(t, 2*time.Minute)
	if _, err := adm.CreateTopics(ctx, 4, 2, nil, "split"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := adm.CreateTopics(ctx, 1, 1, nil, fmt.Sprintf("filler-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// Broker-only nodes snapshot their own copy of the metadata log too.
	metaDir := filepath.Join(c.Node(5).Dir, "__cluster_metadata-0")
	deadline := time.Now().Add(30 * time.Second)
	for !hasSnapshot(t, metaDir) {
		if time.Now().After(deadline) {
			t.Fatalf("broker 5 wrote no metadata snapshot\n%s", c.Node(5).Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	meta := eventuallyMetadata(t, adm, "split", 4)
	if len(meta.Brokers) != 2 {
		t.Fatalf("brokers %v", meta.Brokers)
	}
	for _, p := range meta.Topics["split"].Partitions {
		if p.Leader != 4 && p.Leader != 5 {
			t.Fatalf("partition %d led by %d", p.Partition, p.Leader)
		}
	}
	// A broker restarted after kill -9 replays its local metadata log.
	b := c.Node(5)
	b.Kill()
	b.Start()
	d, err := admin(t, b.Addr).ListTopics(ctx, "split", "filler-19")
	if err != nil || len(d["split"].Partitions) != 4 || len(d["filler-19"].Partitions) != 1 {
		t.Fatalf("after restart: %v %v", d, err)
	}
}

// eventuallyMetadata polls until topic shows partitions with leaders.
func eventuallyMetadata(t *testing.T, adm *kadm.Client, topic string, partitions int) kadm.Metadata {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		meta, err := adm.Metadata(ctx, topic)
		cancel()
		if err == nil && len(meta.Topics[topic].Partitions) == partitions && meta.Topics[topic].Partitions.NumReplicas() > 0 {
			ok := true
			for _, p := range meta.Topics[topic].Partitions {
				ok = ok && p.Leader >= 0 && p.Err == nil
			}
			if ok {
				return meta
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("metadata for %s never settled: %v %+v", topic, err, meta.Topics[topic])
		}
		time.Sleep(50 * time.Millisecond)
	}
}
