package test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

// continuousProducer produces numbered records until stopped, remembering
// which were acknowledged.
type continuousProducer struct {
	cl     *kgo.Client
	topic  string
	acked  *ackedLog
	next   atomic.Int64
	stop   chan struct{}
	done   chan struct{}
	failed atomic.Int64
}

func startProducer(t *testing.T, addrs []string, topic string) *continuousProducer {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordRetries(1<<30), kgo.RecordDeliveryTimeout(2*time.Minute), kgo.ProducerLinger(5*time.Millisecond),
		kgo.MaxBufferedRecords(2000))
	if err != nil {
		t.Fatal(err)
	}
	p := &continuousProducer{cl: cl, topic: topic, acked: &ackedLog{acked: map[int]bool{}}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		var wg sync.WaitGroup
		for {
			select {
			case <-p.stop:
				wg.Wait()
				return
			default:
			}
			i := int(p.next.Add(1) - 1)
			wg.Add(1)
			cl.Produce(context.Background(), &kgo.Record{Topic: topic, Value: counterValue(i, 200)}, func(_ *kgo.Record, err error) {
				defer wg.Done()
				if err == nil {
					p.acked.add(i)
				} else {
					p.failed.Add(1)
				}
			})
		}
	}()
	return p
}

func (p *continuousProducer) finish() {
	close(p.stop)
	<-p.done
	p.cl.Close()
}

func (p *continuousProducer) count() int {
	p.acked.mu.Lock()
	defer p.acked.mu.Unlock()
	return len(p.acked.acked)
}

// waitProgress waits until at least n more records are acknowledged.
func (p *continuousProducer) waitProgress(t *testing.T, n int, d time.Duration) {
	t.Helper()
	start := p.count()
	deadline := time.Now().Add(d)
	for p.count() < start+n {
		if time.Now().After(deadline) {
			t.Fatalf("producer made no progress: %d acknowledged after %v (failures %d)", p.count()-start, d, p.failed.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The fault suite of a 3-controller, 3-broker cluster: while an idempotent
// acks=all producer writes at full speed, the leader broker of a partition
// is killed and restarted, a broker is paused past its session timeout, the
// active controller is killed, and the whole cluster restarts. Every
// acknowledged record must then be present exactly once, and the replicas
// must agree at every offset they share.
func TestFaultSuite(t *testing.T) {
	t.Parallel()
	c := harness.NewCluster(t, []string{"controller", "controller", "controller", "broker", "broker", "broker"},
		map[string]string{
			"broker.session.timeout.ms":    "4000",
			"broker.heartbeat.interval.ms": "500",
			"replica.lag.time.max.ms":      "8000",
			"log.segment.bytes":            "1048576",
		})
	c.Start()
	t.Cleanup(func() {
		if t.Failed() {
			for _, id := range []int{4, 5, 6} {
				t.Logf("broker %d's output:\n%s", id, lastLines(c.Node(id).Output(), 60))
			}
			t.Logf("controllers' output:\n%s\n%s\n%s", lastLines(c.Node(1).Output(), 30), lastLines(c.Node(2).Output(), 30), lastLines(c.Node(3).Output(), 30))
		}
	})
	adm := clusterAdmin(t, c)
	ctx := ctxT(t, 6*time.Minute)
	const topic = "faults"
	res, err := adm.CreateTopics(ctx, 3, 3, map[string]*string{"min.insync.replicas": strp("2")}, topic)
	if err != nil || res[topic].Err != nil {
		t.Fatalf("create: %v %v", err, res[topic].Err)
	}
	waitFullISR(t, adm, topic)
	prod := startProducer(t, c.BootstrapAddrs(), topic)
	prod.waitProgress(t, 2000, time.Minute)

	// 1. kill -9 the leader of partition 0, restart it.
	leader := int(eventuallyMetadata(t, adm, topic, 3).Topics[topic].Partitions[0].Leader)
	c.Node(leader).Kill()
	prod.waitProgress(t, 2000, time.Minute)
	c.Node(leader).Start()
	waitFullISR(t, adm, topic)
	prod.waitProgress(t, 2000, time.Minute)

	// 2. Pause a broker past its session timeout, then resume it.
	paused := c.Node(5)
	paused.Signal(syscall.SIGSTOP)
	time.Sleep(6 * time.Second)
	prod.waitProgress(t, 1000, time.Minute)
	paused.Signal(syscall.SIGCONT)
	waitFullISR(t, adm, topic)

	// 3. Kill the active controller, restart it.
	active := activeController(t, c)
	if active < 0 {
		t.Fatal("no active controller")
	}
	c.Node(int(active)).Kill()
	prod.waitProgress(t, 2000, time.Minute)
	c.Node(int(active)).StartArgs("--config", c.Node(int(active)).ConfigFile)
	prod.waitProgress(t, 1000, time.Minute)

	// 4. Restart the whole cluster.
	prod.finish()
	for _, n := range c.Nodes {
		if err := n.Stop(); err != nil {
			t.Fatalf("stop node %d: %v", n.ID, err)
		}
	}
	restarted := time.Now()
	c.Start()
	adm = clusterAdmin(t, c)
	waitFullISR(t, adm, topic)
	t.Logf("ISR full %v after the whole cluster restarted", time.Since(restarted).Round(time.Millisecond))

	acked := prod.count()
	t.Logf("%d records acknowledged, %d failed", acked, prod.failed.Load())
	seen := map[int]int{}
	consumeAll(t, c.BootstrapAddrs()[0], topic, acked, 2*time.Minute, func(r *kgo.Record) {
		if i, ok := counterOf(r.Value); ok {
			seen[i]++
		}
	})
	for i := range prod.acked.acked {
		if seen[i] != 1 {
			t.Fatalf("acknowledged record %d seen %d times", i, seen[i])
		}
	}
	for _, n := range c.Nodes {
		n.Stop()
	}
	for p := 0; p < 3; p++ {
		var logs [][]diskBatch
		for _, n := range c.Brokers() {
			logs = append(logs, readDiskLog(t, filepath.Join(n.Dir, fmt.Sprintf("%s-%d", topic, p))))
		}
		for i := 1; i < len(logs); i++ {
			if len(logs[i]) == 0 || logs[i][len(logs[i])-1].last != logs[0][len(logs[0])-1].last {
				t.Fatalf("partition %d: replica logs end differently: %d vs %d batches", p, len(logs[i]), len(logs[0]))
			}
			for j := 0; j < min(len(logs[0]), len(logs[i])); j++ {
				a, b := logs[0][j], logs[i][j]
				if a.base != b.base || a.last != b.last || a.crc != b.crc {
					t.Fatalf("partition %d: replicas differ at batch %d: %+v vs %+v", p, j, a, b)
				}
			}
		}
	}
}

// lastLines is the end of a process's output, for failure reports.
func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
