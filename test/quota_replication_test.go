package test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

// replicaSize is the bytes of topic-0 on broker, from DescribeLogDirs.
func replicaSize(ctx context.Context, t *testing.T, adm *kadm.Client, broker int32, topic string) int64 {
	t.Helper()
	dirs, err := adm.DescribeBrokerLogDirs(ctx, broker, kadm.TopicsSet{topic: {0: {}}})
	if err != nil {
		t.Fatalf("describe log dirs of %d: %v", broker, err)
	}
	p, ok := dirs.LookupPartition(topic, 0)
	if !ok {
		return 0
	}
	return p.Size
}

// A follower out of the ISR of a throttled partition catches up no faster
// than leader.replication.throttled.rate / follower.replication.throttled
// .rate allow (3x slack), keeps making progress, and catches up at once
// when the throttle is removed without a restart.
func TestReplicationThrottle(t *testing.T) {
	c := harness.NewCluster(t, []string{"broker,controller", "broker"}, map[string]string{
		"replica.lag.time.max.ms": "2000", "broker.session.timeout.ms": "4000", "broker.heartbeat.interval.ms": "500",
		"replica.fetch.max.bytes": "65536", "replication.quota.window.num": "3",
	})
	c.Start()
	adm := clusterAdmin(t, c)
	ctx := ctxT(t, 4*time.Minute)
	const topic, rate = "throttled", 100_000
	if _, err := adm.CreateTopic(ctx, 1, 2, map[string]*string{"leader.replication.throttled.replicas": strp("*"),
		"follower.replication.throttled.replicas": strp("*")}, topic); err != nil {
		t.Fatal(err)
	}
	waitFullISR(t, adm, topic)
	// In-sync replicas are never throttled, so setting the rates first
	// changes nothing yet.
	for _, k := range []string{"leader.replication.throttled.rate", "follower.replication.throttled.rate"} {
		if _, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: k, Value: strp(fmt.Sprint(rate))}}); err != nil {
			t.Fatal(err)
		}
	}
	meta, err := adm.Metadata(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	p := meta.Topics[topic].Partitions[0]
	follower := p.Replicas[0]
	if follower == p.Leader {
		follower = p.Replicas[1]
	}
	fnode := c.Node(int(follower))
	if err := fnode.Stop(); err != nil {
		t.Fatal(err)
	}
	// Wait until the follower is out of the ISR: only such replicas are
	// throttled.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		m, err := adm.Metadata(ctx, topic)
		if err == nil && len(m.Topics[topic].Partitions[0].ISR) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stopped follower never left the ISR")
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Node(int(p.Leader)).Addr), kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.ProducerBatchMaxBytes(32<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const total = 6 << 20
	value := bytes.Repeat([]byte("t"), 8<<10)
	for sent := 0; sent < total; sent += len(value) {
		cl.Produce(ctx, &kgo.Record{Topic: topic, Value: value}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// The follower may fetch before it answers ApiVersions, so the time
	// the throttle allows runs from the process start.
	start := time.Now()
	fnode.StartArgs("--config", fnode.ConfigFile)
	fnode.WaitServing(60 * time.Second)
	time.Sleep(5 * time.Second)
	got := replicaSize(ctx, t, adm, follower, topic)
	elapsed := time.Since(start)
	// Only out-of-sync replicas are throttled; one let back into the ISR
	// before it has the records would copy them unthrottled.
	if m, err := adm.Metadata(ctx, topic); err == nil && len(m.Topics[topic].Partitions[0].ISR) != 1 && got < total {
		t.Errorf("follower holding %d of %d bytes is in the ISR %v", got, total, m.Topics[topic].Partitions[0].ISR)
	}
	allowed := int64(rate*(elapsed.Seconds()+2)) + 64<<10 // the sampled span's first two windows, one fetch
	t.Logf("follower holds %d of %d bytes after %v (throttle allows about %d)", got, total, elapsed, allowed)
	if got > 3*allowed {
		t.Errorf("throttled follower copied %d bytes in %v, over 3x the %d the throttle allows", got, elapsed, allowed)
	}
	if got == 0 {
		t.Error("throttled follower made no progress")
	}
	for _, k := range []string{"leader.replication.throttled.rate", "follower.replication.throttled.rate"} {
		if _, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: k}}); err != nil {
			t.Fatal(err)
		}
	}
	waitFullISR(t, adm, topic)
}
