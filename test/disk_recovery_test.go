package test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

// The partition leader is killed (-9) while an idempotent acks=all producer
// writes to an RF=3 topic, and its files are then damaged as a power loss
// would leave them past the recovery point: a batch in the middle of a
// closed segment corrupted, the last segment cut mid-batch and its index
// garbled. On restart recovery truncates the log at the first invalid
// batch (dropping the segments after it) instead of refusing the
// partition; the broker copies the rest back from the new leader, so no
// acknowledged record is lost and every replica ends up identical.
func TestRecoveryTruncatesDamagedTailAndLosesNoAcknowledgedRecord(t *testing.T) {
	t.Parallel()
	c := harness.NewCluster(t, []string{"broker,controller", "broker,controller", "broker,controller"},
		map[string]string{"replica.lag.time.max.ms": "10000", "broker.session.timeout.ms": "6000",
			"broker.heartbeat.interval.ms": "500", "log.segment.bytes": "32768"})
	c.Start()
	adm := clusterAdmin(t, c)
	ctx := ctxT(t, 4*time.Minute)
	const topic = "torn"
	res, err := adm.CreateTopics(ctx, 1, 3, map[string]*string{"min.insync.replicas": strp("2")}, topic)
	if err != nil || res[topic].Err != nil {
		t.Fatalf("create: %v %v", err, res[topic].Err)
	}
	waitFullISR(t, adm, topic)
	// Batches stay well under log.segment.bytes: the broker refuses a
	// larger one with RECORD_LIST_TOO_LARGE, as Kafka does, and franz-go
	// (unlike Kafka's Java producer) does not split it and retry.
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.BootstrapAddrs()...), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordRetries(1000), kgo.RecordDeliveryTimeout(90*time.Second), kgo.ProducerLinger(2*time.Millisecond),
		kgo.ProducerBatchMaxBytes(16<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	acked := &ackedLog{acked: map[int]bool{}}
	// About 16 bytes a record once compressed: some seven segments, each
	// acknowledged by the full ISR, so every replica (whichever leads when
	// the kill comes) has at least the four segments damageTail needs.
	const first = 12000
	produceRange(t, cl, topic, 0, first, acked)
	if n := acked.count(); n != first {
		t.Fatalf("%d of the first %d records acknowledged; the test needs them all on every replica", n, first)
	}

	waitFullISR(t, adm, topic)
	leader := int(eventuallyMetadata(t, adm, topic, 1).Topics[topic].Partitions[0].Leader)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for from := first; ; from += 200 {
			select {
			case <-stop:
				return
			default:
			}
			produceRange(t, cl, topic, from, from+200, acked)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	victim := c.Node(leader)
	victim.Kill()
	// Produce through the failover, then let leadership settle elsewhere
	// before the damaged replica comes back.
	waitLeaderNot(t, c, topic, leader)
	time.Sleep(time.Second)
	close(stop)
	<-done

	dir := filepath.Join(victim.Dir, topic+"-0")
	damageTail(t, dir)
	victim.StartArgs("--config", victim.ConfigFile, "--cluster-id", victim.ClusterID)
	victim.WaitServing(60 * time.Second)
	waitOutput(t, victim, "truncating the log at its first invalid batch past the recovery point")
	waitFullISR(t, adm, topic)
	checkAckedOnce(t, c.BootstrapAddrs()[0], topic, acked)
	waitSameReplicas(t, c, topic)
}

// damageTail leaves the partition directory as a power loss before the
// fsync might: the recovery point moved back to the third-to-last segment,
// a batch in the middle of the second-to-last corrupted, the last segment
// cut mid-batch and its offset index overwritten with junk.
func damageTail(t *testing.T, dir string) {
	t.Helper()
	segs := segmentFiles(t, dir, ".log")
	if len(segs) < 4 {
		var sizes []string
		for _, p := range segs {
			st, _ := os.Stat(p)
			sizes = append(sizes, fmt.Sprintf("%s: %d bytes", filepath.Base(p), st.Size()))
		}
		t.Fatalf("want at least 4 segments in %s, have %v", dir, sizes)
	}
	rp := fmt.Sprintf("%d\n", segmentBase(t, segs[len(segs)-3]))
	if err := os.WriteFile(filepath.Join(dir, "recovery-point"), []byte(rp), 0o644); err != nil {
		t.Fatal(err)
	}
	mid := segs[len(segs)-2]
	raw, err := os.ReadFile(mid)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0xff
	if err := os.WriteFile(mid, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	last := segs[len(segs)-1]
	if st, err := os.Stat(last); err == nil && st.Size() > 0 {
		if err := os.Truncate(last, st.Size()/2+3); err != nil {
			t.Fatal(err)
		}
	}
	idx := last[:len(last)-len(".log")] + ".index"
	if err := os.WriteFile(idx, []byte("not an index, not at all"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitLeaderNot waits until the partition's leader is a broker other than
// old.
func waitLeaderNot(t *testing.T, c *harness.Cluster, topic string, old int) {
	t.Helper()
	adm := clusterAdmin(t, c)
	deadline := time.Now().Add(60 * time.Second)
	for {
		meta := eventuallyMetadata(t, adm, topic, 1)
		if l := int(meta.Topics[topic].Partitions[0].Leader); l >= 0 && l != old {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("leadership never moved off broker %d", old)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitSameReplicas waits until every replica's log holds the same batches
// (a follower may still be fetching the last of them).
func waitSameReplicas(t *testing.T, c *harness.Cluster, topic string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var logs [][]diskBatch
		for _, n := range c.Nodes {
			logs = append(logs, readDiskLog(t, filepath.Join(n.Dir, topic+"-0")))
		}
		same := true
		for i := 1; i < len(logs) && same; i++ {
			same = len(logs[i]) == len(logs[0])
			for j := 0; same && j < len(logs[0]); j++ {
				a, b := logs[0][j], logs[i][j]
				same = a.base == b.base && a.last == b.last && a.crc == b.crc
			}
		}
		if same {
			return
		}
		if time.Now().After(deadline) {
			compareReplicas(t, c, topic, 0) // fails naming the difference
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// count is how many records were acknowledged.
func (a *ackedLog) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.acked)
}
