package test

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"spool/test/harness"
)

func createTopic(t *testing.T, adm *kadm.Client, name string, partitions int32, configs map[string]*string) {
	t.Helper()
	res, err := adm.CreateTopics(ctxT(t, time.Minute), partitions, 1, configs, name)
	if err != nil {
		t.Fatal(err)
	}
	if r := res[name]; r.Err != nil {
		t.Fatalf("create %s: %v", name, r.Err)
	}
}

// byName caps a client at Kafka 4.0's request versions, for tests whose
// hand-built requests name topics: Produce v13 and OffsetCommit and
// OffsetFetch v10 name them by id instead.
var byName = kgo.MaxVersions(kversion.V4_0_0())

func producer(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.RequiredAcks(kgo.AllISRAcks())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// produceCounters produces records 0..total-1 of topic asynchronously and
// returns a channel closed once every record has its answer; acked[i] is
// set when record i was acknowledged, onAck runs after each ack.
func produceCounters(ctx context.Context, cl *kgo.Client, topic string, total, size int, acked []atomic.Bool,
	onAck func(), errs chan<- error) <-chan struct{} {
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(total)
	go func() {
		for i := 0; i < total; i++ {
			i := i
			cl.Produce(ctx, &kgo.Record{Topic: topic, Value: counterValue(i, size)}, func(_ *kgo.Record, err error) {
				defer wg.Done()
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
				acked[i].Store(true)
				if onAck != nil {
					onAck()
				}
			})
		}
		wg.Wait()
		close(done)
	}()
	return done
}

func waitDone(t *testing.T, done <-chan struct{}, errs <-chan error, d time.Duration) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("produce did not finish within %v", d)
	}
	select {
	case err := <-errs:
		t.Fatalf("produce failed: %v", err)
	default:
	}
}

// TestProduceMillionAcksAll sends 1,000,000 records with acks=all through an
// idempotent franz-go producer and reads them back byte for byte, in order.
func TestProduceMillionAcksAll(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, nil)
	n.Start()
	createTopic(t, admin(t, n.Addr), "million", 1, nil)
	const total, size = 1_000_000, 100
	cl := producer(t, n.Addr, kgo.ProducerLinger(2*time.Millisecond), kgo.MaxBufferedRecords(100_000))
	acked := make([]atomic.Bool, total)
	errs := make(chan error, 1)
	start := time.Now()
	done := produceCounters(ctxT(t, 3*time.Minute), cl, "million", total, size, acked, nil, errs)
	waitDone(t, done, errs, 3*time.Minute)
	t.Logf("produced %d records of %d bytes with acks=all in %v", total, size, time.Since(start))

	next := 0
	consumeAll(t, n.Addr, "million", total, 3*time.Minute, func(r *kgo.Record) {
		if r.Offset != int64(next) || !bytes.Equal(r.Value, counterValue(next, size)) {
			t.Fatalf("record at offset %d (%.20q), want offset %d value %.20q", r.Offset, r.Value, next, counterValue(next, size))
		}
		next++
	})
	batches := readDiskLog(t, filepath.Join(n.Dir, "million-0"))
	if last := batches[len(batches)-1]; last.last != total-1 {
		t.Fatalf("on disk the log ends at %d, want %d", last.last, total-1)
	}
	for _, b := range batches {
		if b.producerID < 0 {
			t.Fatalf("batch at %d has no producer id: the producer was not idempotent", b.base)
		}
	}
}

// TestProduceSurvivesKill9 kills the broker (kill -9, SIGTERM, kill -9) while an
// idempotent producer sends with acks=all and retries. Every record must end
// up in the log exactly once, and the segments must hold only whole, valid
// batches. Small segments make the producer state come back from roll
// snapshots plus replay after the kill, and from the shutdown snapshot
// after SIGTERM.
func TestProduceSurvivesKill9(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, nil)
	n.Start()
	createTopic(t, admin(t, n.Addr), "crash", 3, map[string]*string{"segment.bytes": strp("1048576")})
	const total, size = 200_000, 100
	cl := producer(t, n.Addr, kgo.ProducerLinger(time.Millisecond), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	acked := make([]atomic.Bool, total)
	var nAcked atomic.Int64
	kills := []int64{30_000, 90_000, 150_000}
	killAt := make(chan struct{}, len(kills))
	onAck := func() {
		c := nAcked.Add(1)
		for _, k := range kills {
			if c == k {
				killAt <- struct{}{}
			}
		}
	}
	errs := make(chan error, 1)
	done := produceCounters(ctxT(t, 4*time.Minute), cl, "crash", total, size, acked, onAck, errs)
	for k := range kills {
		select {
		case <-killAt:
		case <-done:
			t.Fatal("produce finished before the broker was killed")
		case <-time.After(2 * time.Minute):
			t.Fatalf("only %d records acknowledged within 2m", nAcked.Load())
		}
		before := snapshotAcked(acked)
		if k != 1 {
			n.Kill()
		} else if err := n.Stop(); err != nil {
			t.Fatalf("SIGTERM: %v\n%s", err, n.Output())
		}
		n.Start()
		checkAckedSurvived(t, n.Addr, before)
	}
	waitDone(t, done, errs, 4*time.Minute)
	checkExactlyOnce(t, n, "crash", 3, total)
	if snaps, _ := filepath.Glob(filepath.Join(n.Dir, "crash-*", "*.snapshot")); len(snaps) == 0 {
		t.Fatal("no producer state snapshots were written")
	}
}

func snapshotAcked(acked []atomic.Bool) []int {
	var out []int
	for i := range acked {
		if acked[i].Load() {
			out = append(out, i)
		}
	}
	return out
}

// checkAckedSurvived verifies that the end offsets after a restart cover at
// least as many records as were acknowledged before the kill.
func checkAckedSurvived(t *testing.T, addr string, acked []int) {
	t.Helper()
	ends, err := admin(t, addr).ListEndOffsets(ctxT(t, time.Minute), "crash")
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Fatalf("end offset of crash-%d: %v", o.Partition, o.Err)
		}
		sum += o.Offset
	})
	if sum < int64(len(acked)) {
		t.Fatalf("after kill -9 the log holds %d records, but %d were acknowledged", sum, len(acked))
	}
}

// checkExactlyOnce reads the whole topic and the segment files: each
// counter once, none missing, and per producer no sequence twice.
func checkExactlyOnce(t *testing.T, n *harness.Node, topic string, partitions, total int) {
	t.Helper()
	seen := make([]int, total)
	consumeAll(t, n.Addr, topic, total, 3*time.Minute, func(r *kgo.Record) {
		i, ok := counterOf(r.Value)
		if !ok || i < 0 || i >= total || !bytes.Equal(r.Value, counterValue(i, len(r.Value))) {
			t.Fatalf("record %s-%d@%d has a foreign value %.20q", r.Topic, r.Partition, r.Offset, r.Value)
		}
		seen[i]++
	})
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("record %d stored %d times", i, c)
		}
	}
	records := 0
	for p := 0; p < partitions; p++ {
		type seq struct {
			pid int64
			seq int32
		}
		seqs := map[seq]bool{}
		for _, b := range readDiskLog(t, filepath.Join(n.Dir, topic+"-"+strconv.Itoa(p))) {
			if seqs[seq{b.producerID, b.baseSeq}] {
				t.Fatalf("partition %d: producer %d sequence %d stored twice", p, b.producerID, b.baseSeq)
			}
			seqs[seq{b.producerID, b.baseSeq}] = true
			records += int(b.numRecords)
		}
	}
	if records != total {
		t.Fatalf("segments hold %d records, want %d", records, total)
	}
}

// TestProduceRefusals sends hand-built batches that Kafka refuses and checks
// the error code and that nothing was stored.
func TestProduceRefusals(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, map[string]string{"auto.create.topics.enable": "false"})
	n.Start()
	adm := admin(t, n.Addr)
	createTopic(t, adm, "plain", 1, nil)
	createTopic(t, adm, "small", 1, map[string]*string{"max.message.bytes": strp("1000")})
	createTopic(t, adm, "strict-ts", 1, map[string]*string{"message.timestamp.before.max.ms": strp("60000")})
	createTopic(t, adm, "compacted", 1, map[string]*string{"cleanup.policy": strp("compact")})
	now := time.Now().UnixMilli()
	corrupt := rawBatch(now, rawRecord{key: []byte("k"), value: []byte("value")})
	corrupt[len(corrupt)-2] ^= 0x01
	big := bytes.Repeat([]byte("x"), 2000)
	cases := []struct {
		name, topic string
		batch       []byte
		want        *kerr.Error
	}{
		{"flipped byte", "plain", corrupt, kerr.CorruptMessage},
		{"batch over max.message.bytes", "small", rawBatch(now, rawRecord{key: []byte("k"), value: big}), kerr.MessageTooLarge},
		{"timestamp an hour old", "strict-ts", rawBatch(now-3_600_000, rawRecord{key: []byte("k"), value: []byte("v")}), kerr.InvalidTimestamp},
		{"keyless on compacted", "compacted", rawBatch(now, rawRecord{value: []byte("v")}), kerr.InvalidRecord},
		{"unknown topic", "nope", rawBatch(now, rawRecord{value: []byte("v")}), kerr.UnknownTopicOrPartition},
		{"valid batch", "plain", rawBatch(now, rawRecord{key: []byte("k"), value: []byte("v")}), nil},
	}
	cl := producer(t, n.Addr, byName)
	for _, c := range cases {
		before := endOffset(t, adm, c.topic)
		got := rawProduce(t, cl, c.topic, c.batch)
		if e := kerr.ErrorForCode(got.ErrorCode); e != errOrNil(c.want) {
			t.Errorf("%s: error %v, want %v", c.name, kerr.ErrorForCode(got.ErrorCode), c.want)
		}
		after := endOffset(t, adm, c.topic)
		switch {
		case c.want != nil && after != before:
			t.Errorf("%s: refused batch moved the end offset %d -> %d", c.name, before, after)
		case c.want == nil && after != before+1:
			t.Errorf("%s: accepted batch moved the end offset %d -> %d, want +1", c.name, before, after)
		}
	}
}

func errOrNil(e *kerr.Error) error {
	if e == nil {
		return nil
	}
	return e
}

func rawProduce(t *testing.T, cl *kgo.Client, topic string, batch []byte) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 30000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = batch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	raw, err := cl.Request(ctxT(t, time.Minute), req)
	if err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
	resp := raw.(*kmsg.ProduceResponse)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("produce to %s: response %+v", topic, resp)
	}
	return resp.Topics[0].Partitions[0]
}

// endOffset is partition 0's end offset, or -1 for a topic that does not
// exist.
func endOffset(t *testing.T, adm *kadm.Client, topic string) int64 {
	t.Helper()
	ends, err := adm.ListEndOffsets(ctxT(t, time.Minute), topic)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := ends.Lookup(topic, 0)
	if !ok || o.Err != nil {
		return -1
	}
	return o.Offset
}

// TestProduceV2Unsupported checks that a Produce version Kafka 4 no longer
// accepts gets UNSUPPORTED_VERSION for its partitions, as Kafka 4 answers
// (it still advertises Produce v0 for librdkafka's sake).
func TestProduceV2Unsupported(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, nil)
	n.Start()
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(2)
	req.Acks, req.TimeoutMillis = 1, 1000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "old"
	rp := kmsg.NewProduceRequestTopicPartition()
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	raw, err := harness.Request(n.Addr, req, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	resp := raw.(*kmsg.ProduceResponse)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 || resp.Topics[0].Partitions[0].ErrorCode != kerr.UnsupportedVersion.Code {
		t.Fatalf("produce v2 answered %+v, want UNSUPPORTED_VERSION", resp)
	}
}
