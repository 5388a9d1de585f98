package test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

// compactedTopic is a compacted topic whose segments roll every few KiB so
// the cleaner has closed segments to work on at once.
var compactedTopic = map[string]string{
	"cleanup.policy":            "compact",
	"internal.segment.bytes":    "8192",
	"min.cleanable.dirty.ratio": "0.01",
}

// cleanerNode is a single node whose cleaner looks for work often.
func cleanerNode(t *testing.T, extra map[string]string) *harness.Node {
	props := map[string]string{"log.cleaner.backoff.ms": "200"}
	for k, v := range extra {
		props[k] = v
	}
	return harness.SingleNode(t, props)
}

// produceUpdates writes n updates round-robin over keys and returns the
// latest value of each key. Values carry a counter so order can be checked.
func produceUpdates(t *testing.T, cl *kgo.Client, topic string, n, keys, from int) map[string]string {
	t.Helper()
	latest := map[string]string{}
	var recs []*kgo.Record
	for i := from; i < from+n; i++ {
		k := fmt.Sprintf("key-%04d", i%keys)
		v := fmt.Sprintf("%s@%08d", k, i)
		latest[k] = v
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(k), Value: []byte(v)})
		if len(recs) == 100 {
			produceSync(t, cl, recs...)
			recs = recs[:0]
		}
	}
	produceSync(t, cl, recs...)
	return latest
}

// readFromStart consumes the partition from offset 0 to its current end and
// returns each key's last value and how many records were read.
func readFromStart(t *testing.T, addr string, adm *kadm.Client, topic string) (map[string]string, int) {
	t.Helper()
	ends, err := adm.ListEndOffsets(ctxT(t, time.Minute), topic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(topic, 0)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
		topic: {0: kgo.NewOffset().At(0)},
	}), kgo.FetchMaxBytes(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got, n := map[string]string{}, 0
	ctx := ctxT(t, time.Minute)
	for last := int64(-1); last < end.Offset-1; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read up to %d of %d", last, end.Offset)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetch: %v", err) })
		fs.EachRecord(func(r *kgo.Record) {
			if last >= r.Offset {
				t.Errorf("offset %d after %d", r.Offset, last)
			}
			last = r.Offset
			if r.Offset < end.Offset {
				got[string(r.Key)] = string(r.Value)
				n++
			}
		})
	}
	return got, n
}

func checkLatest(t *testing.T, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("key %s: read %q, latest produced %q", k, got[k], v)
		}
	}
}

// waitCompacted waits until a read from the start returns at most max
// records, i.e. the cleaner has run over the topic.
func waitCompacted(t *testing.T, n *harness.Node, adm *kadm.Client, topic string, max int) map[string]string {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		got, count := readFromStart(t, n.Addr, adm, topic)
		if count <= max {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still has %d records from offset 0, want at most %d\n%s", topic, count, max, n.Output())
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// TestCompactionKeepsLatestValues produces many updates to a compacted
// topic while a consumer reads it from offset 0 over and over: every read
// sees each key's latest value, and the cleaner shrinks the topic to about
// one record per key.
func TestCompactionKeepsLatestValues(t *testing.T) {
	t.Parallel()
	n := cleanerNode(t, nil)
	n.Start()
	adm := admin(t, n.Addr)
	makeTopic(t, adm, "cmp-latest", 1, compactedTopic)
	prod := syncProducer(t, n.Addr)
	const keys = 200
	latest := produceUpdates(t, prod, "cmp-latest", 10_000, keys, 0)

	// Updates to other keys keep the cleaner busy while readers check that
	// the first keys' latest values are always there.
	ctx, stop := context.WithCancel(ctxT(t, 2*time.Minute))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i += 100 {
			var recs []*kgo.Record
			for j := i; j < i+100; j++ {
				recs = append(recs, &kgo.Record{Topic: "cmp-latest", Key: []byte(fmt.Sprintf("other-%03d", j%50)), Value: []byte("x")})
			}
			if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil && ctx.Err() == nil {
				t.Errorf("produce: %v", err)
			}
		}
	}()
	for range 5 {
		got, _ := readFromStart(t, n.Addr, adm, "cmp-latest")
		checkLatest(t, got, latest)
	}
	stop()
	wg.Wait()
	got := waitCompacted(t, n, adm, "cmp-latest", keys+50+8192/20)
	checkLatest(t, got, latest)
	if !strings.Contains(n.Output(), "cleaned log") {
		t.Fatalf("no clean logged\n%s", n.Output())
	}
}

// TestCompactionIdempotentProducerAfterClean keeps one idempotent producer
// writing across cleans and a kill -9: its sequence state survives the
// removal of its old batches.
func TestCompactionIdempotentProducerAfterClean(t *testing.T) {
	t.Parallel()
	n := cleanerNode(t, nil)
	n.Start()
	adm := admin(t, n.Addr)
	makeTopic(t, adm, "cmp-idem", 1, compactedTopic)
	prod := syncProducer(t, n.Addr) // franz-go producers are idempotent by default
	latest := produceUpdates(t, prod, "cmp-idem", 5_000, 20, 0)
	waitCompacted(t, n, adm, "cmp-idem", 20+8192/20)
	for k, v := range produceUpdates(t, prod, "cmp-idem", 2_000, 20, 5_000) {
		latest[k] = v
	}
	n.Kill()
	n.Start()
	for k, v := range produceUpdates(t, prod, "cmp-idem", 2_000, 20, 7_000) {
		latest[k] = v
	}
	got := waitCompacted(t, n, adm, "cmp-idem", 20+8192/20)
	checkLatest(t, got, latest)
}

// TestCompactionRetentionAndKeys checks that compact,delete also applies
// retention while compact alone does not, and that a compacted topic
// refuses records without a key.
func TestCompactionRetentionAndKeys(t *testing.T) {
	t.Parallel()
	n := cleanerNode(t, map[string]string{"log.retention.check.interval.ms": "300"})
	n.Start()
	adm := admin(t, n.Addr)
	both := map[string]string{"retention.ms": "2000"}
	only := map[string]string{"retention.ms": "2000"}
	for k, v := range compactedTopic {
		both[k], only[k] = v, v
	}
	both["cleanup.policy"] = "compact,delete"
	makeTopic(t, adm, "cmp-both", 1, both)
	makeTopic(t, adm, "cmp-only", 1, only)
	prod := syncProducer(t, n.Addr)
	produceUpdates(t, prod, "cmp-both", 2_000, 2_000, 0)
	produceUpdates(t, prod, "cmp-only", 2_000, 2_000, 0)
	deadline := time.Now().Add(60 * time.Second)
	for !startsMoved(t, adm, []string{"cmp-both"}) {
		if time.Now().After(deadline) {
			t.Fatalf("compact,delete topic never lost old segments\n%s", n.Output())
		}
		time.Sleep(300 * time.Millisecond)
	}
	if startsMoved(t, adm, []string{"cmp-only"}) {
		t.Fatal("retention deleted segments of a compact-only topic")
	}
	err := prod.ProduceSync(ctxT(t, time.Minute), &kgo.Record{Topic: "cmp-only", Value: []byte("no key")}).FirstErr()
	if !errors.Is(err, kerr.InvalidRecord) {
		t.Fatalf("keyless record on a compacted topic: %v, want INVALID_RECORD", err)
	}
}

// TestCompactionCrashAtEachStep kills the broker at each step of a clean
// (through the SPOOL_TEST_CLEANER_CRASH_AT hook) and restarts it: the log
// must come back whole and compact on the next run. It sets an environment
// variable for the processes it starts, so it does not run in parallel.
func TestCompactionCrashAtEachStep(t *testing.T) {
	for _, step := range []string{"cleaned", "swap", "deleted", "swapped"} {
		t.Run(step, func(t *testing.T) { crashCleanerAt(t, step) })
	}
}

func crashCleanerAt(t *testing.T, step string) {
	n := cleanerNode(t, map[string]string{"log.cleaner.enable": "false"})
	n.Start()
	adm := admin(t, n.Addr)
	makeTopic(t, adm, "cmp-crash", 1, compactedTopic)
	prod := syncProducer(t, n.Addr)
	latest := produceUpdates(t, prod, "cmp-crash", 5_000, 100, 0)
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	enable := []string{"--config", n.ConfigFile, "--cluster-id", n.ClusterID, "--override", "log.cleaner.enable=true"}
	t.Setenv("SPOOL_TEST_CLEANER_CRASH_AT", step)
	n.StartArgs(enable...)
	deadline := time.Now().Add(60 * time.Second)
	for n.Running() {
		if time.Now().After(deadline) {
			t.Fatalf("broker did not stop at cleaner step %s\n%s", step, n.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := os.Unsetenv("SPOOL_TEST_CLEANER_CRASH_AT"); err != nil {
		t.Fatal(err)
	}
	n.Kill()
	n.StartArgs(enable...)
	n.WaitServing(30 * time.Second)
	got, _ := readFromStart(t, n.Addr, adm, "cmp-crash")
	checkLatest(t, got, latest)
	got = waitCompacted(t, n, adm, "cmp-crash", 100+8192/20)
	checkLatest(t, got, latest)
	if (step == "swap" || step == "deleted") && !strings.Contains(n.Output(), "completing an interrupted compaction swap") {
		t.Fatalf("restart after a crash at %s did not complete the swap\n%s", step, n.Output())
	}
}

// TestCompactionTombstones deletes keys with tombstones: after the first
// clean they are still read (as null values), and once delete.retention.ms
// has passed a clean removes them and the keys are gone.
func TestCompactionTombstones(t *testing.T) {
	t.Parallel()
	n := cleanerNode(t, nil)
	n.Start()
	adm := admin(t, n.Addr)
	cfg := map[string]string{"delete.retention.ms": "3000"}
	for k, v := range compactedTopic {
		cfg[k] = v
	}
	makeTopic(t, adm, "cmp-tomb", 1, cfg)
	prod := syncProducer(t, n.Addr)
	latest := produceUpdates(t, prod, "cmp-tomb", 2_000, 50, 0)
	var dels []*kgo.Record
	for i := range 10 {
		k := fmt.Sprintf("key-%04d", i)
		dels = append(dels, &kgo.Record{Topic: "cmp-tomb", Key: []byte(k)})
		delete(latest, k)
	}
	produceSync(t, prod, dels...)
	// Updates to other keys roll the tombstones into closed segments.
	var filler []*kgo.Record
	for i := range 1_000 {
		filler = append(filler, &kgo.Record{Topic: "cmp-tomb", Key: []byte(fmt.Sprintf("other-%d", i%20)), Value: []byte("x")})
		if len(filler) == 100 {
			produceSync(t, prod, filler...)
			filler = filler[:0]
		}
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		got, _ := readFromStart(t, n.Addr, adm, "cmp-tomb")
		if _, ok := got["key-0000"]; !ok {
			break
		}
		if got["key-0000"] != "" {
			t.Fatalf("deleted key read with value %q", got["key-0000"])
		}
		if time.Now().After(deadline) {
			t.Fatalf("tombstones never removed\n%s", n.Output())
		}
		time.Sleep(500 * time.Millisecond)
	}
	got, _ := readFromStart(t, n.Addr, adm, "cmp-tomb")
	for i := range 10 {
		if _, ok := got[fmt.Sprintf("key-%04d", i)]; ok {
			t.Fatalf("key-%04d still present", i)
		}
	}
	checkLatest(t, got, latest)
	if len(got) != 40+20 {
		t.Fatalf("%d keys left, want 60", len(got))
	}
}
