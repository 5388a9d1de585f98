package test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

func strp(s string) *string { return &s }

func TestCreateTopicsRules(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, nil)
	n.Start()
	adm := admin(t, n.Addr)
	ctx := ctxT(t, time.Minute)

	if _, err := adm.CreateTopics(ctx, 1, 1, nil, "a.b"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		topic      string
		partitions int32
		rf         int16
		configs    map[string]*string
		want       error
	}{
		{"illegal char", "bad/name", 1, 1, nil, kerr.InvalidTopicException},
		{"too long", strings.Repeat("x", 250), 1, 1, nil, kerr.InvalidTopicException},
		{"dot", ".", 1, 1, nil, kerr.InvalidTopicException},
		{"collides with a.b", "a_b", 1, 1, nil, kerr.InvalidTopicException},
		{"exists", "a.b", 1, 1, nil, kerr.TopicAlreadyExists},
		{"zero partitions", "zp", 0, 1, nil, kerr.InvalidPartitions},
		{"rf above brokers", "rf3", 1, 3, nil, kerr.InvalidReplicationFactor},
		{"zero rf", "rf0", 1, 0, nil, kerr.InvalidReplicationFactor},
		{"unknown config", "cfg1", 1, 1, map[string]*string{"no.such.config": strp("1")}, kerr.InvalidConfig},
		{"bad config value", "cfg2", 1, 1, map[string]*string{"retention.ms": strp("soon")}, kerr.InvalidConfig},
		{"bad policy", "cfg3", 1, 1, map[string]*string{"cleanup.policy": strp("shred")}, kerr.InvalidConfig},
		{"metadata topic", "__cluster_metadata", 1, 1, nil, kerr.InvalidRequest},
		{"valid with configs", "good", 4, 1, map[string]*string{"retention.ms": strp("60000"), "cleanup.policy": strp("compact,delete")}, nil},
		{"defaults", "defaults", -1, -1, nil, nil},
	}
	for _, tc := range cases {
		res, err := adm.CreateTopic(ctx, tc.partitions, tc.rf, tc.configs, tc.topic)
		if err == nil {
			err = res.Err
		}
		if err != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	details, err := adm.ListTopics(ctx, "good", "defaults")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(details["good"].Partitions); got != 4 {
		t.Errorf("good has %d partitions, want 4", got)
	}
	if got := len(details["defaults"].Partitions); got != 1 {
		t.Errorf("defaults has %d partitions, want num.partitions=1", got)
	}
}

func TestCreateTopicsValidateOnlyAndAssignment(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, nil)
	n.Start()
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := ctxT(t, time.Minute)

	req := kmsg.NewPtrCreateTopicsRequest()
	req.ValidateOnly = true
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "dry", 2, 1
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil || resp.Topics[0].ErrorCode != 0 || resp.Topics[0].NumPartitions != 2 {
		t.Fatalf("validateOnly: %v %+v", err, resp)
	}
	adm := kadm.NewClient(cl)
	if d, _ := adm.ListTopics(ctx, "dry"); d["dry"].Err != kerr.UnknownTopicOrPartition {
		t.Fatalf("validateOnly created the topic: %+v", d["dry"])
	}

	req = kmsg.NewPtrCreateTopicsRequest()
	rt = kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "assigned", -1, -1
	for p := int32(0); p < 3; p++ {
		a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		a.Partition, a.Replicas = p, []int32{1}
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
	}
	bad := kmsg.NewCreateTopicsRequestTopic()
	bad.Topic, bad.NumPartitions, bad.ReplicationFactor = "badassign", -1, -1
	a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
	a.Partition, a.Replicas = 0, []int32{42}
	bad.ReplicaAssignment = append(bad.ReplicaAssignment, a)
	req.Topics = append(req.Topics, rt, bad)
	resp, err = req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Topics[0].ErrorCode != 0 || resp.Topics[0].NumPartitions != 3 {
		t.Fatalf("assigned: %+v", resp.Topics[0])
	}
	if resp.Topics[1].ErrorCode != kerr.InvalidReplicaAssignment.Code {
		t.Fatalf("bad assignment: %+v", resp.Topics[1])
	}
}

func TestDeleteTopicsByNameAndID(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, nil)
	n.Start()
	adm := admin(t, n.Addr)
	ctx := ctxT(t, time.Minute)
	created, err := adm.CreateTopics(ctx, 2, 1, nil, "byname", "byid")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adm.DeleteTopics(ctx, "byname"); err != nil {
		t.Fatal(err)
	}
	res, err := adm.DeleteTopics(ctx, "nosuchtopic")
	if err != nil || res["nosuchtopic"].Err != kerr.UnknownTopicOrPartition {
		t.Fatalf("delete missing: %v %+v", err, res)
	}

	cl, _ := kgo.NewClient(kgo.SeedBrokers(n.Addr))
	defer cl.Close()
	req := kmsg.NewPtrDeleteTopicsRequest()
	dt := kmsg.NewDeleteTopicsRequestTopic()
	dt.TopicID = created["byid"].ID
	unknown := kmsg.NewDeleteTopicsRequestTopic()
	unknown.TopicID = [16]byte{1, 2, 3}
	req.Topics = append(req.Topics, dt, unknown)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Topics[0].ErrorCode != 0 || resp.Topics[0].Topic == nil || *resp.Topics[0].Topic != "byid" {
		t.Fatalf("delete by id: %+v", resp.Topics[0])
	}
	if resp.Topics[1].ErrorCode != kerr.UnknownTopicID.Code {
		t.Fatalf("delete unknown id: %+v", resp.Topics[1])
	}
	wantTopics(t, adm, map[string]int{})
	// Data is removed in the background.
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := exec.Command("sh", "-c", "ls "+n.Dir).CombinedOutput()
		if !strings.Contains(string(out), "byname-") && !strings.Contains(string(out), "byid-") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("partition dirs still present: %s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestMetadataAutoCreate(t *testing.T) {
	t.Parallel()
	for _, enabled := range []bool{true, false} {
		n := harness.SingleNode(t, map[string]string{"auto.create.topics.enable": map[bool]string{true: "true", false: "false"}[enabled], "num.partitions": "3"})
		n.Start()
		cl, _ := kgo.NewClient(kgo.SeedBrokers(n.Addr))
		defer cl.Close()
		ctx := ctxT(t, time.Minute)
		req := kmsg.NewPtrMetadataRequest()
		req.AllowAutoTopicCreation = true
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = strp("autocreated")
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		got := resp.Topics[0]
		if enabled {
			if got.ErrorCode != 0 || len(got.Partitions) != 3 || got.Partitions[0].Leader != 1 {
				t.Fatalf("auto-create on: %+v", got)
			}
		} else if got.ErrorCode != kerr.UnknownTopicOrPartition.Code {
			t.Fatalf("auto-create off: %+v", got)
		}
	}
}

func TestKcatListsBrokerAndDescribeCluster(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, nil)
	n.Start()
	adm := admin(t, n.Addr)
	ctx := ctxT(t, time.Minute)
	if _, err := adm.CreateTopics(ctx, 2, 1, nil, "listed"); err != nil {
		t.Fatal(err)
	}
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed; run `make clients`")
	}
	cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, kcat, "-b", n.Addr, "-L").CombinedOutput()
	if err != nil {
		t.Fatalf("kcat -L: %v\n%s", err, out)
	}
	for _, want := range []string{"1 brokers:", "broker 1 at " + n.Addr, `topic "listed" with 2 partitions`, "partition 0, leader 1, replicas: 1, isrs: 1"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("kcat -L lacks %q:\n%s", want, out)
		}
	}
	meta, err := adm.BrokerMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if meta.Cluster != n.ClusterID || len(meta.Brokers) != 1 || meta.Brokers[0].NodeID != 1 {
		t.Fatalf("metadata: %+v", meta)
	}
	desc, err := kmsg.NewPtrDescribeClusterRequest().RequestWith(ctx, kadmClient(t, n.Addr))
	if err != nil || desc.ClusterID != n.ClusterID || len(desc.Brokers) != 1 {
		t.Fatalf("DescribeCluster: %v %+v", err, desc)
	}
}

func kadmClient(t *testing.T, addr string) *kgo.Client {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}
