package test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

// rackCluster starts three combined nodes in racks a, b and c with the
// rack-aware replica selector and a /metrics listener each.
func rackCluster(t *testing.T) (*harness.Cluster, []string) {
	t.Helper()
	c := harness.NewCluster(t, []string{"broker,controller", "broker,controller", "broker,controller"},
		map[string]string{"replica.selector.class": "org.apache.kafka.common.replica.RackAwareReplicaSelector"})
	var metrics []string
	for i, n := range c.Nodes {
		addr := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
		n.Props["http.listener"] = addr
		n.Props["broker.rack"] = string(rune('a' + i))
		n.Rewrite()
		metrics = append(metrics, "http://"+addr)
	}
	c.Start()
	return c, metrics
}

// readAll consumes topic from the start with the given options until it
// has n records, each counter in [0, n) exactly once.
func readAll(t *testing.T, c *harness.Cluster, topic string, n int, opts ...kgo.Opt) {
	t.Helper()
	opts = append(opts, kgo.SeedBrokers(c.BootstrapAddrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(500*time.Millisecond))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	seen := make([]bool, n)
	got := 0
	ctx := ctxT(t, 2*time.Minute)
	for got < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records", got, n)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Logf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			i, ok := counterOf(r.Value)
			if !ok || i < 0 || i >= n || seen[i] {
				t.Fatalf("unexpected record %q at %s/%d@%d", r.Value[:min(len(r.Value), 16)], r.Topic, r.Partition, r.Offset)
			}
			seen[i] = true
			got++
		})
	}
}

func counterAt(t *testing.T, base, name string, labels map[string]string) float64 {
	t.Helper()
	v, _ := value(scrape(t, base), name, labels)
	return v
}

// A consumer with client.rack b reads every record from the rack-b
// replica: the leaders in racks a and c send it there (PreferredReadReplica)
// without records, so only the rack-b broker serves consumer bytes, and its
// follower counter shows it served the partitions it does not lead. A
// consumer with no rack then reads from the leaders, the follower counter
// standing still; a rack-b consumer reading while a producer writes reads
// everything exactly once though the follower's high watermark trails.
func TestConsumerInRackBFetchesFromTheRackBFollower(t *testing.T) {
	t.Parallel()
	c, metrics := rackCluster(t)
	adm := clusterAdmin(t, c)
	ctx := ctxT(t, 3*time.Minute)
	const topic, n = "racked", 600
	res, err := adm.CreateTopics(ctx, 3, 3, nil, topic)
	if err != nil || res[topic].Err != nil {
		t.Fatalf("create: %v %v", err, res[topic].Err)
	}
	waitFullISR(t, adm, topic)
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.BootstrapAddrs()...), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for i := 0; i < n; i++ {
		if err := prod.ProduceSync(context.Background(), &kgo.Record{Value: counterValue(i, 200)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	meta, err := adm.Metadata(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	ledByB := 0
	for _, p := range meta.Topics[topic].Partitions {
		if p.Leader == 2 {
			ledByB++
		}
	}
	if ledByB == len(meta.Topics[topic].Partitions) {
		t.Fatalf("broker 2 leads every partition; nothing to fetch from a follower: %+v", meta.Topics[topic].Partitions)
	}
	bytesOut := map[string]string{"topic": topic}

	readAll(t, c, topic, n, kgo.Rack("b"))
	if v := counterAt(t, metrics[1], "spool_follower_fetch_bytes_total", nil); v <= 0 {
		t.Errorf("the rack-b broker served %v bytes as a follower, want > 0", v)
	}
	for _, i := range []int{0, 2} {
		if v := counterAt(t, metrics[i], "spool_topic_bytes_out_total", bytesOut); v != 0 {
			t.Errorf("broker %d (rack %c) sent the rack-b consumer %v record bytes, want 0", i+1, 'a'+i, v)
		}
		if v := counterAt(t, metrics[i], "spool_follower_fetch_bytes_total", nil); v != 0 {
			t.Errorf("broker %d served %v bytes as a follower, want 0", i+1, v)
		}
	}
	redirects := counterAt(t, metrics[0], "spool_preferred_read_replica_redirects_total", nil) +
		counterAt(t, metrics[2], "spool_preferred_read_replica_redirects_total", nil)
	if redirects == 0 {
		t.Error("no leader named a preferred read replica")
	}

	followerBytes := counterAt(t, metrics[1], "spool_follower_fetch_bytes_total", nil)
	readAll(t, c, topic, n)
	if v := counterAt(t, metrics[1], "spool_follower_fetch_bytes_total", nil); v != followerBytes {
		t.Errorf("a consumer without a rack read %v bytes from a follower", v-followerBytes)
	}
	for _, i := range []int{0, 2} {
		if v := counterAt(t, metrics[i], "spool_topic_bytes_out_total", bytesOut); v == 0 {
			t.Errorf("broker %d served no records to the consumer without a rack", i+1)
		}
	}

	// Under a producer, the follower's high watermark trails the
	// leader's: a rack-b consumer still reads every record exactly once.
	done := make(chan error, 1)
	go func() {
		for i := n; i < 2*n; i++ {
			if err := prod.ProduceSync(context.Background(), &kgo.Record{Value: counterValue(i, 200)}).FirstErr(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	readAll(t, c, topic, 2*n, kgo.Rack("b"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v := counterAt(t, metrics[1], "spool_follower_fetch_bytes_total", nil); v <= followerBytes {
		t.Errorf("the rack-b broker served no more bytes as a follower under the producer (%v)", v)
	}
}
