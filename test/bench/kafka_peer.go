package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/peers/kafkapeer"
)

// kafkaHeap is what Kafka's own kafka-server-start.sh gives a broker.
const kafkaHeap = "-Xms1g -Xmx1g"

// startKafka starts Apache Kafka (test/peers/kafka) with its defaults and
// Kafka's own heap, one node or several (each broker and controller), and
// returns once every broker serves; props are broker property overrides.
func startKafka(b testing.TB, nodes int, props map[string]string) *server {
	b.Helper()
	return startKafkaWith(b, kafkapeer.Options{Nodes: nodes, Overrides: props})
}

// startKafkaWith starts Kafka as o says, with Kafka's own heap.
func startKafkaWith(b testing.TB, o kafkapeer.Options) *server {
	b.Helper()
	o.Heap = kafkaHeap
	p, err := kafkapeer.Start(o)
	if err != nil {
		b.Fatal(err)
	}
	s := &server{name: "kafka", opts: p.Opts, addrs: p.Addrs, kafka: p}
	for _, pid := range p.Pids() {
		s.pids = append(s.pids, proc(pid))
	}
	return s
}

// startWarmKafka is startKafka followed by primeKafka, for the benchmarks
// that measure a running broker rather than its start.
func startWarmKafka(b testing.TB, nodes int, props map[string]string) *server {
	b.Helper()
	s := startKafka(b, nodes, props)
	if err := primeKafka(s.addrs); err != nil {
		s.stop()
		b.Fatalf("prime kafka: %v", err)
	}
	return s
}

// primeKafka produces to a scratch topic until answers come quickly, then
// commits an offset: a fresh JVM broker takes seconds over its first
// produce (class loading, the first producer id) and its first group
// request (it creates __consumer_offsets then), longer than a cell's
// warm-up.
func primeKafka(addrs []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rf := int16(min(len(addrs), 3))
	if err := createTopic(ctx, addrs, "prime", int32(len(addrs)), rf, nil); err != nil {
		return err
	}
	defer deleteTopic(addrs, "prime")
	if err := primeProduce(ctx, addrs); err != nil {
		return err
	}
	return primeCommit(ctx, addrs)
}

func primeProduce(ctx context.Context, addrs []string) error {
	cl, err := producer(addrs, "prime", "all", 0)
	if err != nil {
		return err
	}
	defer cl.Close()
	for i := 0; i < 200; i++ {
		t0 := time.Now()
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: randomValue(1024)}).FirstErr(); err != nil {
			return err
		}
		if i >= 20 && time.Since(t0) < 20*time.Millisecond {
			return nil
		}
	}
	return nil
}

// primeCommit commits offsets of a scratch group until a commit comes
// back quickly, or 200 have.
func primeCommit(ctx context.Context, addrs []string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.RetryTimeout(time.Minute))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for i := int64(0); i < 200; i++ {
		o := kadm.Offsets{}
		o.Add(kadm.Offset{Topic: "prime", Partition: 0, At: i, LeaderEpoch: -1})
		t0 := time.Now()
		resp, err := adm.CommitOffsets(ctx, "prime", o)
		if err == nil {
			err = resp.Error()
		}
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("offset commits: %w (last: %v)", ctx.Err(), err)
		case err == nil && i >= 10 && time.Since(t0) < 50*time.Millisecond:
			return nil
		case err != nil:
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

// kafkaVersion is the Apache Kafka the peer runs (test/peers/kafka/pom.xml).
const kafkaVersion = "4.4.0"

// deleteTopic removes a workload's topic from a shared server.
func deleteTopic(addrs []string, topic string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		return
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	kadm.NewClient(cl).DeleteTopics(ctx, topic)
}
