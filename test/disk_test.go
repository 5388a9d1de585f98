package test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

// The partition directory of the leader is removed (`rm -rf`) while an
// idempotent acks=all producer writes: the leader must not acknowledge
// records into the unlinked files. It takes its log dir offline, the
// controller moves leadership to an in-sync replica, and no acknowledged
// record is lost or shares an offset with another. After a restart the
// broker copies the partition back from the new leader.
func TestRemovedPartitionDirLosesNoAcknowledgedRecord(t *testing.T) {
	t.Parallel()
	c := harness.NewCluster(t, []string{"broker,controller", "broker,controller", "broker,controller"},
		map[string]string{"replica.lag.time.max.ms": "10000", "broker.session.timeout.ms": "6000", "broker.heartbeat.interval.ms": "500"})
	c.Start()
	adm := clusterAdmin(t, c)
	ctx := ctxT(t, 4*time.Minute)
	const topic = "vanishing"
	res, err := adm.CreateTopics(ctx, 1, 3, map[string]*string{"min.insync.replicas": strp("2")}, topic)
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
	produceRange(t, cl, topic, 0, 2000, acked)

	meta := eventuallyMetadata(t, adm, topic, 1)
	leader := int(meta.Topics[topic].Partitions[0].Leader)
	stop, done := make(chan struct{}), make(chan int)
	go func() {
		from := 2000
		for {
			select {
			case <-stop:
				done <- from
				return
			default:
			}
			produceRange(t, cl, topic, from, from+200, acked)
			from += 200
		}
	}()
	time.Sleep(500 * time.Millisecond)
	victim := c.Node(leader)
	if err := os.RemoveAll(filepath.Join(victim.Dir, topic+"-0")); err != nil {
		t.Fatal(err)
	}
	// Keep producing through the failover.
	time.Sleep(5 * time.Second)
	close(stop)
	total := <-done
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(victim.Output(), "log dir offline") {
		if time.Now().After(deadline) {
			t.Fatalf("broker %d never took its log dir offline:\n%s", leader, tail(victim.Output(), 4000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	meta = eventuallyMetadata(t, adm, topic, 1)
	if now := int(meta.Topics[topic].Partitions[0].Leader); now == leader || now < 0 {
		t.Fatalf("leader is %d after broker %d lost the partition directory", now, leader)
	}
	if len(acked.acked) < total/2 {
		t.Fatalf("only %d of %d records acknowledged", len(acked.acked), total)
	}
	t.Logf("%d of %d records acknowledged across the failover", len(acked.acked), total)
	checkAckedOnce(t, c.BootstrapAddrs()[0], topic, acked)

	// Restarted, the broker is out of the ISR, so it recreates the
	// partition as a follower and copies it from the leader.
	victim.Kill()
	victim.Start()
	waitFullISR(t, adm, topic)
	produceRange(t, cl, topic, total, total+100, acked)
	checkAckedOnce(t, c.BootstrapAddrs()[0], topic, acked)
	for _, n := range c.Nodes {
		if err := n.Stop(); err != nil {
			t.Fatalf("node %d: %v", n.ID, err)
		}
	}
	compareReplicas(t, c, topic, 0)
}

// checkAckedOnce consumes the partition and fails unless every
// acknowledged record is there exactly once, each offset holding one.
func checkAckedOnce(t *testing.T, addr, topic string, acked *ackedLog) {
	t.Helper()
	seen := map[int]int{}
	offsets := map[int64]int{}
	consumeAll(t, addr, topic, len(acked.acked), 2*time.Minute, func(r *kgo.Record) {
		i, ok := counterOf(r.Value)
		if !ok {
			return
		}
		seen[i]++
		if prev, dup := offsets[r.Offset]; dup && prev != i {
			t.Errorf("offset %d holds records %d and %d", r.Offset, prev, i)
		}
		offsets[r.Offset] = i
	})
	lost := 0
	for i := range acked.acked {
		if seen[i] != 1 {
			lost++
			if lost < 5 {
				t.Errorf("acknowledged record %d seen %d times", i, seen[i])
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged records lost or duplicated", lost, len(acked.acked))
	}
}

// compareReplicas checks every node's copy of partition p holds the same
// batches at the same offsets.
func compareReplicas(t *testing.T, c *harness.Cluster, topic string, p int) {
	t.Helper()
	var logs [][]diskBatch
	for _, n := range c.Nodes {
		logs = append(logs, readDiskLog(t, filepath.Join(n.Dir, fmt.Sprintf("%s-%d", topic, p))))
	}
	for i := 1; i < len(logs); i++ {
		if len(logs[i]) != len(logs[0]) {
			t.Fatalf("replica %d has %d batches, replica 1 has %d", i+1, len(logs[i]), len(logs[0]))
		}
		for j := range logs[0] {
			a, b := logs[0][j], logs[i][j]
			if a.base != b.base || a.last != b.last || a.crc != b.crc {
				t.Fatalf("replicas 1 and %d differ at batch %d: %+v vs %+v", i+1, j, a, b)
			}
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// A partition directory lost while the broker was down, on a broker that
// was its only in-sync replica: the restarted broker must not recreate it
// empty and hand out its offsets again. It refuses, says why, and stays
// running (fenced) instead of serving an empty log.
func TestMissingPartitionDirIsNotRecreatedEmpty(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, map[string]string{"replica.high.watermark.checkpoint.interval.ms": "200"})
	n.Start()
	adm := admin(t, n.Addr)
	ctx := ctxT(t, 2*time.Minute)
	if _, err := adm.CreateTopics(ctx, 1, 1, nil, "lost"); err != nil {
		t.Fatal(err)
	}
	produceN(t, n.Addr, "lost", 0, 100)
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	part := filepath.Join(n.Dir, "lost-0")
	if err := os.RemoveAll(part); err != nil {
		t.Fatal(err)
	}
	n.StartArgs("--config", n.ConfigFile, "--cluster-id", n.ClusterID)
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(n.Output(), "refusing to recreate it empty") {
		if time.Now().After(deadline) || !n.Running() {
			t.Fatalf("no refusal logged (running %v):\n%s", n.Running(), tail(n.Output(), 4000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	if _, err := os.Stat(filepath.Join(part, "00000000000000000000.log")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("partition recreated: %v", err)
	}
	if !n.Running() {
		t.Fatalf("node exited:\n%s", tail(n.Output(), 4000))
	}
}
