package test

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// sentRecord is one record the test produced and where it landed.
type sentRecord struct {
	partition int32
	offset    int64
	value     string
	visible   bool // to read_committed readers
}

func (s sentRecord) line() string { return fmt.Sprintf("%d:%d:%s", s.partition, s.offset, s.value) }

// mixedLog is what TestTxnAbortedNeverVisible wrote to its topic.
type mixedLog struct {
	sent    []sentRecord
	last    map[int32]int64   // offset of the last record of each partition
	aborted map[int32][]int64 // first offset of each aborted transaction
	pid     int64             // the transactional producer's id
	txns    int               // transactions, each touching every partition
}

func (m *mixedLog) lines(committedOnly bool) []string {
	var out []string
	for _, s := range m.sent {
		if s.visible || !committedOnly {
			out = append(out, s.line())
		}
	}
	slices.Sort(out)
	return out
}

const mixedPartitions = 3

// A transactional producer commits some transactions and aborts others,
// while a plain producer writes to the same partitions between and during
// them. read_committed readers (franz-go, confluent-kafka-python, kcat)
// see exactly the committed and the non-transactional records at their
// offsets; read_uncommitted readers see every record and no markers;
// ListOffsets and Fetch answer the last stable offset while a transaction
// is open, and Fetch lists the aborted transactions.
func TestTxnAbortedNeverVisible(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Fatal("kcat is not installed; run `make clients`")
	}
	n := txnNode(t, nil)
	checkAbortedNeverVisible(t, n.Addr)
}

func checkAbortedNeverVisible(t *testing.T, addr string) {
	adm := admin(t, addr)
	txnTopics(t, adm, mixedPartitions, 1, nil, "mixed")
	waitTxnCoordinators(t, adm, 30*time.Second, "mixer")
	m := writeMixed(t, addr, adm)

	ctx := ctxT(t, time.Minute)
	committedEnds, err := adm.ListCommittedOffsets(ctx, "mixed")
	if err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx, "mixed")
	if err != nil {
		t.Fatal(err)
	}
	for p := range int32(mixedPartitions) {
		perPart := 0
		for _, s := range m.sent {
			if s.partition == p {
				perPart++
			}
		}
		// The coordinator writes markers after it answers EndTxn, so the
		// last marker may follow the last record.
		e, _ := ends.Lookup("mixed", p)
		c, _ := committedEnds.Lookup("mixed", p)
		hwm := e.Offset
		if c.Offset != hwm {
			t.Errorf("partition %d with every transaction ended: read_committed end offset %d, end offset %d", p, c.Offset, hwm)
		}
		// Each transaction's commit or abort marker takes one offset.
		if hwm != int64(perPart+m.txns) || hwm <= m.last[p] {
			t.Errorf("partition %d: high watermark %d for %d records (the last at %d) and %d markers", p, hwm, perPart, m.last[p], m.txns)
		}
		resp, batches := rawFetch(t, addr, "mixed", p, 0, 1)
		var got [][2]int64
		for _, a := range resp.AbortedTransactions {
			got = append(got, [2]int64{a.ProducerID, a.FirstOffset})
		}
		var want [][2]int64
		for _, off := range m.aborted[p] {
			want = append(want, [2]int64{m.pid, off})
		}
		slices.SortFunc(got, func(a, b [2]int64) int { return int(a[1] - b[1]) })
		if !slices.Equal(got, want) {
			t.Errorf("partition %d: read_committed fetch lists aborted transactions (producer, first offset) %v, want %v", p, got, want)
		}
		if resp.LastStableOffset != hwm || len(batches) == 0 {
			t.Errorf("partition %d: read_committed fetch: last stable offset %d, %d batches; want %d and the log", p, resp.LastStableOffset, len(batches), hwm)
		}
	}

	wantCommitted, wantAll := m.lines(true), m.lines(false)
	sameLines(t, "franz-go read_committed", readFranz(t, addr, m, kgo.ReadCommitted()), wantCommitted)
	sameLines(t, "franz-go read_uncommitted", readFranz(t, addr, m, kgo.ReadUncommitted()), wantAll)
	sameLines(t, "kcat read_committed", readKcat(t, addr, "read_committed"), wantCommitted)
	sameLines(t, "kcat read_uncommitted", readKcat(t, addr, "read_uncommitted"), wantAll)
	sameLines(t, "confluent-kafka-python read_committed", readPython(t, addr, "read_committed"), wantCommitted)
}

// writeMixed writes nine transactions (every third aborted) of nine
// records each over the partitions, with plain records before, inside and
// after each, checking the last stable offset while the first two are
// open.
func writeMixed(t *testing.T, addr string, adm *kadm.Client) *mixedLog {
	t.Helper()
	ctx := ctxT(t, 2*time.Minute)
	txn, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.TransactionalID("mixer"), kgo.TransactionTimeout(time.Minute),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Close()
	plain, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()

	m := &mixedLog{last: map[int32]int64{}, aborted: map[int32][]int64{}, pid: -1}
	produce := func(cl *kgo.Client, visible bool, recs ...*kgo.Record) map[int32]int64 {
		t.Helper()
		res := cl.ProduceSync(ctx, recs...)
		if err := res.FirstErr(); err != nil {
			t.Fatalf("produce %s: %v", recs[0].Value, err)
		}
		first := map[int32]int64{}
		for _, r := range res {
			rec := r.Record
			if _, ok := first[rec.Partition]; !ok {
				first[rec.Partition] = rec.Offset
			}
			m.sent = append(m.sent, sentRecord{rec.Partition, rec.Offset, string(rec.Value), visible})
			m.last[rec.Partition] = max(m.last[rec.Partition], rec.Offset)
			if cl == txn {
				m.pid = rec.ProducerID
			}
		}
		return first
	}
	plainRecs := func(tag string) []*kgo.Record {
		var recs []*kgo.Record
		for p := range int32(mixedPartitions) {
			recs = append(recs, &kgo.Record{Topic: "mixed", Partition: p, Value: fmt.Appendf(nil, "plain-%s-%d", tag, p)})
		}
		return recs
	}
	txnRecs := func(k, from, to int) []*kgo.Record {
		var recs []*kgo.Record
		for i := from; i < to; i++ {
			recs = append(recs, &kgo.Record{Topic: "mixed", Partition: int32(i % mixedPartitions), Value: fmt.Appendf(nil, "txn-%d-%d", k, i)})
		}
		return recs
	}

	for k := range 9 {
		commit := k%3 != 1
		produce(plain, true, plainRecs(fmt.Sprintf("%d-before", k))...)
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		first := produce(txn, commit, txnRecs(k, 0, 6)...)
		// Plain records inside the open transaction's range: committed,
		// yet held back from read_committed readers until it ends.
		produce(plain, true, plainRecs(fmt.Sprintf("%d-inside", k))...)
		if k < 2 {
			// The previous transaction's markers came before this one
			// began: its first produce waited for them.
			hwm := map[int32]int64{}
			for p, off := range m.last {
				hwm[p] = off + 1
			}
			checkOpenTransaction(t, addr, adm, first, hwm)
		}
		produce(txn, commit, txnRecs(k, 6, 9)...)
		if err := txn.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatalf("end transaction %d (commit %v): %v", k, commit, err)
		}
		m.txns++
		if !commit {
			for p, off := range first {
				m.aborted[p] = append(m.aborted[p], off)
			}
		}
		produce(plain, true, plainRecs(fmt.Sprintf("%d-after", k))...)
	}
	return m
}

// checkOpenTransaction: while a transaction is open from offset first[p],
// read_committed ListOffsets and Fetch stop there while read_uncommitted
// ones reach the high watermark.
func checkOpenTransaction(t *testing.T, addr string, adm *kadm.Client, first, hwm map[int32]int64) {
	t.Helper()
	ctx := ctxT(t, time.Minute)
	lso, err := adm.ListCommittedOffsets(ctx, "mixed")
	if err != nil {
		t.Fatal(err)
	}
	end, err := adm.ListEndOffsets(ctx, "mixed")
	if err != nil {
		t.Fatal(err)
	}
	for p, off := range first {
		l, _ := lso.Lookup("mixed", p)
		e, _ := end.Lookup("mixed", p)
		if l.Err != nil || l.Offset != off {
			t.Errorf("partition %d, transaction open from offset %d: read_committed ListOffsets(latest) = %d (%v), want the last stable offset %d", p, off, l.Offset, l.Err, off)
		}
		if e.Err != nil || e.Offset != hwm[p] {
			t.Errorf("partition %d: read_uncommitted ListOffsets(latest) = %d (%v), want the high watermark %d", p, e.Offset, e.Err, hwm[p])
		}
		resp, batches := rawFetch(t, addr, "mixed", p, 0, 1)
		if resp.LastStableOffset != off || resp.HighWatermark != hwm[p] {
			t.Errorf("partition %d: read_committed fetch answers last stable offset %d and high watermark %d, want %d and %d", p, resp.LastStableOffset, resp.HighWatermark, off, hwm[p])
		}
		for _, b := range batches {
			if last := b.FirstOffset + int64(b.LastOffsetDelta); last >= off {
				t.Errorf("partition %d: read_committed fetch returned a batch ending at offset %d, past the last stable offset %d", p, last, off)
			}
		}
		_, all := rawFetch(t, addr, "mixed", p, 0, 0)
		if len(all) == 0 || all[len(all)-1].FirstOffset+int64(all[len(all)-1].LastOffsetDelta) != hwm[p]-1 {
			t.Errorf("partition %d: read_uncommitted fetch does not reach the high watermark %d: %d batches", p, hwm[p], len(all))
		}
	}
}

// rawFetch sends one Fetch v11 for partition p from offset at the given
// isolation level (0 read_uncommitted, 1 read_committed) and decodes the
// batches.
func rawFetch(t *testing.T, addr, topic string, p int32, offset int64, isolation int8) (*kmsg.FetchResponseTopicPartition, []kmsg.RecordBatch) {
	t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.Version = 11
	req.ReplicaID = -1
	req.MaxWaitMillis = 0
	req.MaxBytes = 16 << 20
	req.IsolationLevel = isolation
	req.SessionEpoch = -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition = p
	rp.FetchOffset = offset
	rp.PartitionMaxBytes = 16 << 20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	raw, err := harness.Request(addr, req, 10*time.Second)
	if err != nil {
		t.Fatalf("fetch %s-%d: %v", topic, p, err)
	}
	resp := raw.(*kmsg.FetchResponse)
	if resp.ErrorCode != 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("fetch %s-%d: error %d, %d topics", topic, p, resp.ErrorCode, len(resp.Topics))
	}
	part := &resp.Topics[0].Partitions[0]
	if part.ErrorCode != 0 {
		t.Fatalf("fetch %s-%d: partition error %d", topic, p, part.ErrorCode)
	}
	var batches []kmsg.RecordBatch
	for b := part.RecordBatches; len(b) > 0; {
		var rb kmsg.RecordBatch
		if err := rb.ReadFrom(b); err != nil {
			break // a partial batch at the end of the answer
		}
		batches = append(batches, rb)
		b = b[12+int(rb.Length):]
	}
	return part, batches
}

// readFranz reads topic mixed from the start at the given isolation level
// until it has the last record of every partition (a plain one).
func readFranz(t *testing.T, addr string, m *mixedLog, level kgo.IsolationLevel) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("mixed"), kgo.FetchIsolationLevel(level),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := ctxT(t, time.Minute)
	var out []string
	done := map[int32]bool{}
	for len(done) < mixedPartitions {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("franz-go reader got %d records and the end of %d partitions within a minute", len(out), len(done))
		}
		fs.EachError(func(tp string, p int32, err error) { t.Errorf("fetch %s-%d: %v", tp, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			out = append(out, fmt.Sprintf("%d:%d:%s", r.Partition, r.Offset, r.Value))
			if r.Offset == m.last[r.Partition] {
				done[r.Partition] = true
			}
		})
	}
	return out
}

func readKcat(t *testing.T, addr, isolation string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "kcat", "-C", "-b", addr, "-t", "mixed", "-o", "beginning", "-e", "-q",
		"-X", "isolation.level="+isolation, "-f", "%p:%o:%s\n").CombinedOutput()
	if err != nil {
		t.Fatalf("kcat (%s): %v\n%s", isolation, err, out)
	}
	return strings.Fields(string(out))
}

// pythonReader reads every partition of a topic from the start up to its
// end (the last stable offset, for read_committed) and prints
// partition:offset:value lines.
const pythonReader = `
import sys, time
from confluent_kafka import Consumer, TopicPartition, KafkaError, OFFSET_BEGINNING
bootstrap, topic, parts, isolation = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
c = Consumer({"bootstrap.servers": bootstrap, "group.id": "txn-test-reader", "enable.auto.commit": False,
              "enable.partition.eof": True, "isolation.level": isolation})
c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(parts)])
ended, deadline = set(), time.time() + 50
while len(ended) < parts:
    if time.time() > deadline:
        sys.exit("reached the end of %d of %d partitions in 50s" % (len(ended), parts))
    m = c.poll(0.5)
    if m is None:
        continue
    if m.error():
        if m.error().code() == KafkaError._PARTITION_EOF:
            ended.add(m.partition())
            continue
        sys.exit(str(m.error()))
    print("%d:%d:%s" % (m.partition(), m.offset(), m.value().decode()))
c.close()
`

func readPython(t *testing.T, addr, isolation string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", "-c", pythonReader, addr, "mixed", fmt.Sprint(mixedPartitions), isolation)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("confluent-kafka-python reader (%s): %v\n%s%s", isolation, err, out, stderr.String())
	}
	return strings.Fields(string(out))
}

// sameLines compares partition:offset:value lines as sets, reporting the
// first differences.
func sameLines(t *testing.T, who string, got, want []string) {
	t.Helper()
	got = slices.Sorted(slices.Values(got))
	want = slices.Sorted(slices.Values(want))
	var missing, extra []string
	for _, w := range want {
		if _, ok := slices.BinarySearch(got, w); !ok {
			missing = append(missing, w)
		}
	}
	for i, g := range got {
		if _, ok := slices.BinarySearch(want, g); !ok || (i > 0 && got[i-1] == g) {
			extra = append(extra, g)
		}
	}
	if len(missing)+len(extra) > 0 {
		t.Errorf("%s: %d records, want %d; missing %v; unexpected or repeated %v", who, len(got), len(want),
			missing[:min(8, len(missing))], extra[:min(8, len(extra))])
	}
}
