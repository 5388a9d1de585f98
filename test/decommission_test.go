package test

import (
	"context"
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

// A controller and three brokers; broker 4 is decommissioned while an
// idempotent acks=all producer writes to an RF=2 topic spread over all
// three. `spool cluster decommission 4` moves its replicas and, since it
// still runs, says to stop it; once stopped, the same command unregisters
// it. No acknowledged record is lost.
func TestDecommissionUnderLoad(t *testing.T) {
	t.Parallel()
	c := harness.NewCluster(t, []string{"controller", "broker", "broker", "broker"},
		map[string]string{"broker.session.timeout.ms": "4000", "broker.heartbeat.interval.ms": "400"})
	c.Start()
	defer logOnFailure(t, c.Nodes...)
	ctx := ctxT(t, 5*time.Minute)
	bs := c.Node(2).Addr
	cl, err := kgo.NewClient(kgo.SeedBrokers(bs), kgo.RetryTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	const topic = "decommissioned"
	if res, err := adm.CreateTopics(ctx, 6, 2, nil, topic); err != nil || res[topic].Err != nil {
		t.Fatalf("create: %v %v", err, res[topic].Err)
	}
	waitFullISR(t, adm, topic)

	prod, err := kgo.NewClient(kgo.SeedBrokers(bs), kgo.RequiredAcks(kgo.AllISRAcks()),
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
			produceRange(t, prod, topic, i, i+500, acked)
		}
	}()
	time.Sleep(time.Second)

	out, code := harness.Run(t, "cluster", "decommission", "4", "--bootstrap-server", bs, "--timeout", "2m")
	if code != 0 || !strings.Contains(out, "Broker 4 holds no replicas. It is still running") {
		t.Fatalf("decommission 4: exit %d\n%s", code, out)
	}
	// Brokers apply the completed moves a moment after the controller.
	waitPartitions(t, adm, topic, func(p kadm.PartitionDetail) bool {
		return len(p.Replicas) == 2 && len(p.ISR) == 2 && p.Leader != 4 && !slices.Contains(p.Replicas, 4)
	})
	time.Sleep(time.Second)
	stop.Store(true)
	wg.Wait()

	c.Node(4).Kill()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, code = harness.Run(t, "cluster", "decommission", "4", "--bootstrap-server", bs)
		if code == 0 && strings.Contains(out, "Broker 4 holds no replicas and is unregistered.") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("decommission 4 after stopping it: exit %d\n%s", code, out)
		}
		time.Sleep(time.Second)
	}
	req := kmsg.NewPtrDescribeClusterRequest()
	req.SetVersion(2)
	req.IncludeFencedBrokers = true
	raw, err := harness.Request(bs, req, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range raw.(*kmsg.DescribeClusterResponse).Brokers {
		if b.NodeID == 4 {
			t.Fatalf("broker 4 still registered: %+v", b)
		}
	}

	n := len(acked.acked)
	seen := map[int]bool{}
	consumeAll(t, bs, topic, n, 2*time.Minute, func(r *kgo.Record) {
		if i, ok := counterOf(r.Value); ok {
			seen[i] = true
		}
	})
	for i := range acked.acked {
		if !seen[i] {
			t.Fatalf("acknowledged record %d lost", i)
		}
	}
	t.Logf("%d acknowledged records, all there", n)
}

// waitPartitions waits until every partition of topic satisfies ok.
func waitPartitions(t *testing.T, adm *kadm.Client, topic string, ok func(kadm.PartitionDetail) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		meta, err := adm.Metadata(ctx, topic)
		cancel()
		all := err == nil && len(meta.Topics[topic].Partitions) > 0
		for _, p := range meta.Topics[topic].Partitions {
			all = all && ok(p)
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("partitions of %s never reached the wanted state: %v %+v", topic, err, meta.Topics[topic].Partitions)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
