package test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

// A broker hosting many partitions stops by making each log dir durable
// once (syncfs) and writing one clean-shutdown record listing every
// partition with its log end; the next start opens those without
// recovery and consumes the record, so a kill -9 in that run recovers
// every log again and loses no acknowledged record.
func TestCleanShutdownRecordAcrossRestarts(t *testing.T) {
	t.Parallel()
	const topics, perTopic = 8, 100
	n := harness.SingleNode(t, nil)
	start := func() {
		n.StartArgs("--config", n.ConfigFile, "--cluster-id", n.ClusterID, "--log-level", "info")
		n.WaitServing(90 * time.Second)
	}
	start()
	adm := admin(t, n.Addr)
	ctx := ctxT(t, 3*time.Minute)
	var names []string
	for i := range topics {
		names = append(names, fmt.Sprintf("many-%d", i))
	}
	if _, err := adm.CreateTopics(ctx, perTopic, 1, nil, names...); err != nil {
		t.Fatal(err)
	}
	// One acknowledged record in each of the first 5 partitions of every
	// topic, never fsynced by an acks=1 flush.
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	if err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	for _, topic := range names {
		for p := range 5 {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(p), Value: []byte(topic)})
		}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl.Close()

	if err := n.Stop(); err != nil {
		t.Fatalf("stop: %v\n%s", err, n.Output())
	}
	rec, err := os.ReadFile(filepath.Join(n.Dir, "clean-shutdown"))
	if err != nil {
		t.Fatalf("no clean-shutdown record after SIGTERM: %v", err)
	}
	for _, topic := range names {
		for _, want := range []string{topic + "-0 1\n", topic + "-4 1\n", topic + "-99 0\n"} {
			if !strings.Contains(string(rec), want) {
				t.Fatalf("clean-shutdown record lacks %q", want)
			}
		}
	}

	start()
	if out := n.Output(); strings.Contains(out, "recovering log after unclean shutdown") {
		t.Fatalf("a start after a clean shutdown recovered logs:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(n.Dir, "clean-shutdown")); !os.IsNotExist(err) {
		t.Fatalf("the clean-shutdown record outlived the start: %v", err)
	}
	consumeTopics(t, n.Addr, names, len(recs))

	n.Kill()
	start()
	if out := n.Output(); strings.Count(out, "recovering log after unclean shutdown") < topics*perTopic {
		t.Fatalf("a start after kill -9 did not recover every log:\n%s", out)
	}
	consumeTopics(t, n.Addr, names, len(recs))
}

// consumeTopics reads the topics from the start until want records arrived.
func consumeTopics(t *testing.T, addr string, topics []string, want int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topics...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got := 0
	for got < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records", got, want)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Value) != r.Topic {
				t.Fatalf("record in %s holds %q", r.Topic, r.Value)
			}
			got++
		})
	}
	if got != want {
		t.Fatalf("consumed %d records, want %d", got, want)
	}
}
