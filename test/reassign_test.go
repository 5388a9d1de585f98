package test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// A controller and four brokers. Every replica of a 10-partition RF=2
// topic moves from brokers 2,3 to 4,5 while an idempotent acks=all
// producer writes; a one-replica topic grows to three. Afterwards no
// reassignment is listed, the replicas and ISRs are the targets, the old
// brokers deleted their copies, and every acknowledged record is there.
func TestReassignUnderLoad(t *testing.T) {
	t.Parallel()
	c := harness.NewCluster(t, []string{"controller", "broker", "broker", "broker", "broker"},
		map[string]string{"broker.session.timeout.ms": "6000", "broker.heartbeat.interval.ms": "500"})
	c.Start()
	defer logOnFailure(t, c.Nodes...)
	ctx := ctxT(t, 5*time.Minute)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.BootstrapAddrs()...), kgo.RetryTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	const moved, grown, parts = "moved", "grown", 10
	createAssignedN(ctx, t, cl, moved, parts, []int32{2, 3})
	createAssignedN(ctx, t, cl, grown, 1, []int32{2})
	waitFullISR(t, adm, moved)

	prod, err := kgo.NewClient(kgo.SeedBrokers(c.BootstrapAddrs()...), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordRetries(1000), kgo.RecordDeliveryTimeout(2*time.Minute), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	acked := &ackedLog{acked: map[int]bool{}}
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load(); i += 500 {
			produceRange(t, prod, moved, i, i+500, acked)
		}
	}()
	grownAcked := &ackedLog{acked: map[int]bool{}}
	produceRange(t, prod, grown, 0, 2000, grownAcked)
	time.Sleep(time.Second)

	targets := map[string][][]int32{grown: {{2, 3, 4}}}
	for p := 0; p < parts; p++ {
		targets[moved] = append(targets[moved], []int32{4, 5})
	}
	reassign(ctx, t, cl, map[string][][]int32{moved: targets[moved]})

	// The RF 1 -> 3 change goes through the CLI with Kafka's plan format.
	bs := c.BootstrapAddrs()[0]
	out, code := harness.Run(t, "topic", "reassign", "--bootstrap-server", bs, "--generate", "--topic", grown, "--brokers", "4")
	if code != 0 || !strings.Contains(out, `{"version":1,"partitions":[{"topic":"grown","partition":0,"replicas":[4]}]}`) {
		t.Fatalf("reassign --generate: exit %d\n%s", code, out)
	}
	plan := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(plan, []byte(`{"version":1,"partitions":[{"topic":"grown","partition":0,"replicas":[2,3,4],"log_dirs":["any","any","any"]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := harness.Run(t, "topic", "reassign", "--bootstrap-server", bs, "--plan", plan); code != 0 || !strings.Contains(out, "Started moving grown-0 to") {
		t.Fatalf("reassign --plan: exit %d\n%s", code, out)
	}
	waitNoReassignments(ctx, t, cl)
	if out, code := harness.Run(t, "topic", "reassign", "--bootstrap-server", bs, "--plan", plan, "--verify"); code != 0 || !strings.Contains(out, ": complete.") {
		t.Fatalf("reassign --verify: exit %d\n%s", code, out)
	}
	if out, code := harness.Run(t, "topic", "reassign", "--bootstrap-server", bs, "--plan", plan, "--cancel"); code == 0 || !strings.Contains(out, "NO_REASSIGNMENT_IN_PROGRESS") {
		t.Fatalf("reassign --cancel of a finished reassignment: exit %d\n%s", code, out)
	}
	time.Sleep(time.Second) // writes continue on the new replicas
	stop.Store(true)
	wg.Wait()

	meta, err := adm.Metadata(ctx, moved, grown)
	if err != nil {
		t.Fatal(err)
	}
	for topic, want := range targets {
		for p, d := range meta.Topics[topic].Partitions {
			if !slices.Equal(sorted32(d.Replicas), want[p]) || !slices.Equal(sorted32(d.ISR), want[p]) || !slices.Contains(want[p], d.Leader) {
				t.Fatalf("%s-%d after reassignment: replicas %v isr %v leader %d, want %v", topic, p, d.Replicas, d.ISR, d.Leader, want[p])
			}
		}
	}
	for _, id := range []int{2, 3} {
		deadline := time.Now().Add(30 * time.Second)
		for {
			left, _ := filepath.Glob(filepath.Join(c.Node(id).Dir, moved+"-*"))
			left = slices.DeleteFunc(left, func(d string) bool { _, err := os.Stat(d); return err != nil })
			if len(left) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("broker %d still holds %v", id, left)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	for _, check := range []struct {
		topic string
		acked *ackedLog
	}{{moved, acked}, {grown, grownAcked}} {
		n := len(check.acked.acked)
		if n < 1000 {
			t.Fatalf("%s: only %d records acknowledged", check.topic, n)
		}
		seen := map[int]bool{}
		consumeAll(t, c.BootstrapAddrs()[0], check.topic, n, 2*time.Minute, func(r *kgo.Record) {
			if i, ok := counterOf(r.Value); ok {
				seen[i] = true
			}
		})
		for i := range check.acked.acked {
			if !seen[i] {
				t.Fatalf("%s: acknowledged record %d lost", check.topic, i)
			}
		}
		t.Logf("%s: %d acknowledged records, all there", check.topic, n)
	}
}

func sorted32(s []int32) []int32 {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// createAssignedN creates a topic whose every partition has replicas.
func createAssignedN(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, n int, replicas []int32) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, -1, -1
	for p := 0; p < n; p++ {
		a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		a.Partition, a.Replicas = int32(p), replicas
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
	}
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 30000
	resp, err := req.RequestWith(ctx, cl)
	if err != nil || resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("create %s: %v %+v", topic, err, resp)
	}
}

func reassign(ctx context.Context, t *testing.T, cl *kgo.Client, targets map[string][][]int32) {
	t.Helper()
	req := kmsg.NewPtrAlterPartitionAssignmentsRequest()
	req.TimeoutMillis = 30000
	for topic, ps := range targets {
		rt := kmsg.NewAlterPartitionAssignmentsRequestTopic()
		rt.Topic = topic
		for p, replicas := range ps {
			rp := kmsg.NewAlterPartitionAssignmentsRequestTopicPartition()
			rp.Partition, rp.Replicas = int32(p), replicas
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil || resp.ErrorCode != 0 {
		t.Fatalf("AlterPartitionAssignments: %v %+v", err, resp)
	}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if rp.ErrorCode != 0 {
				t.Fatalf("reassign %s-%d: error %d %v", rt.Topic, rp.Partition, rp.ErrorCode, rp.ErrorMessage)
			}
		}
	}
}

func waitNoReassignments(ctx context.Context, t *testing.T, cl *kgo.Client) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		req := kmsg.NewPtrListPartitionReassignmentsRequest()
		req.TimeoutMillis = 30000
		resp, err := req.RequestWith(ctx, cl)
		if err == nil && resp.ErrorCode == 0 && len(resp.Topics) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("reassignments still listed: %v %s", err, fmt.Sprint(resp))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
