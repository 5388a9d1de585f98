package test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

// ackedLog remembers which records a producer got acknowledged.
type ackedLog struct {
	mu    sync.Mutex
	acked map[int]bool
}

func (a *ackedLog) add(i int) {
	a.mu.Lock()
	a.acked[i] = true
	a.mu.Unlock()
}

// produceRange produces records [from, to) and records the acknowledged ones.
func produceRange(t *testing.T, cl *kgo.Client, topic string, from, to int, acked *ackedLog) {
	t.Helper()
	var wg sync.WaitGroup
	for i := from; i < to; i++ {
		wg.Add(1)
		i := i
		cl.Produce(context.Background(), &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint(i % 7)), Value: counterValue(i, 100)}, func(_ *kgo.Record, err error) {
			defer wg.Done()
			if err == nil {
				acked.add(i)
			}
		})
	}
	wg.Wait()
}

// waitFullISR waits until every partition's ISR has all its replicas.
func waitFullISR(t *testing.T, adm *kadm.Client, topic string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		meta, err := adm.Metadata(ctx, topic)
		cancel()
		full := err == nil && len(meta.Topics[topic].Partitions) > 0
		for _, p := range meta.Topics[topic].Partitions {
			full = full && len(p.ISR) == len(p.Replicas) && p.Leader >= 0
		}
		if full {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ISR of %s never became full: %+v", topic, meta.Topics[topic].Partitions)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Three brokers, RF 3, min.insync.replicas 2: an idempotent acks=all
// producer keeps writing while the leader of a partition is killed and
// restarted; afterwards every acknowledged record is there exactly once,
// and the replicas hold identical batches at every offset they share.
func TestReplicationSurvivesLeaderKill(t *testing.T) {
	t.Parallel()
	c := harness.NewCluster(t, []string{"broker,controller", "broker,controller", "broker,controller"},
		map[string]string{"replica.lag.time.max.ms": "10000", "broker.session.timeout.ms": "6000", "broker.heartbeat.interval.ms": "500"})
	c.Start()
	adm := clusterAdmin(t, c)
	ctx := ctxT(t, 4*time.Minute)
	const topic = "replicated"
	res, err := adm.CreateTopics(ctx, 3, 3, map[string]*string{"min.insync.replicas": strp("2")}, topic)
	if err != nil || res[topic].Err != nil {
		t.Fatalf("create: %v %v", err, res[topic].Err)
	}
	waitFullISR(t, adm, topic)

	cl, err := kgo.NewClient(kgo.SeedBrokers(c.BootstrapAddrs()...), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordRetries(1000), kgo.RecordDeliveryTimeout(90*time.Second), kgo.ProducerLinger(2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	acked := &ackedLog{acked: map[int]bool{}}
	produceRange(t, cl, topic, 0, 5000, acked)

	meta := eventuallyMetadata(t, adm, topic, 3)
	leader := int(meta.Topics[topic].Partitions[0].Leader)
	done := make(chan struct{})
	go func() {
		defer close(done)
		produceRange(t, cl, topic, 5000, 15000, acked)
	}()
	time.Sleep(200 * time.Millisecond)
	c.Node(leader).Kill()
	<-done
	c.Node(leader).Start()
	produceRange(t, cl, topic, 15000, 20000, acked)
	waitFullISR(t, adm, topic)

	if len(acked.acked) < 15000 {
		t.Fatalf("only %d of 20000 records acknowledged", len(acked.acked))
	}
	seen := map[int]int{}
	consumeAll(t, c.BootstrapAddrs()[0], topic, len(acked.acked), 2*time.Minute, func(r *kgo.Record) {
		if i, ok := counterOf(r.Value); ok {
			seen[i]++
		}
	})
	for i := range acked.acked {
		if seen[i] != 1 {
			t.Fatalf("acknowledged record %d seen %d times", i, seen[i])
		}
	}

	// Stop everything and compare the replicas' logs byte for byte (by
	// batch header and CRC) over the offsets they all have.
	for _, n := range c.Nodes {
		if err := n.Stop(); err != nil {
			t.Fatalf("node %d: %v", n.ID, err)
		}
	}
	for p := 0; p < 3; p++ {
		var logs [][]diskBatch
		for _, n := range c.Nodes {
			logs = append(logs, readDiskLog(t, filepath.Join(n.Dir, fmt.Sprintf("%s-%d", topic, p))))
		}
		for i := 1; i < len(logs); i++ {
			if len(logs[i]) == 0 || len(logs[i]) != len(logs[0]) || logs[i][len(logs[i])-1].last != logs[0][len(logs[0])-1].last {
				t.Fatalf("partition %d: replica %d has %d batches, replica 1 has %d", p, i+1, len(logs[i]), len(logs[0]))
			}
			for j := 0; j < min(len(logs[0]), len(logs[i])); j++ {
				a, b := logs[0][j], logs[i][j]
				if a.base != b.base || a.last != b.last || a.crc != b.crc {
					t.Fatalf("partition %d: replicas 1 and %d differ at batch %d: %+v vs %+v", p, i+1, j, a, b)
				}
			}
		}
	}
}
