package test

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// makeTopic creates a topic with one replica and the given configs.
func makeTopic(t *testing.T, adm *kadm.Client, name string, partitions int32, configs map[string]string) {
	t.Helper()
	cfg := map[string]*string{}
	for k, v := range configs {
		cfg[k] = &v
	}
	resp, err := adm.CreateTopic(ctxT(t, time.Minute), partitions, 1, cfg, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

func syncProducer(t *testing.T, addr string) *kgo.Client {
	t.Helper()
	// Uncompressed, so record sizes on disk are what the tests produce.
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func produceSync(t *testing.T, cl *kgo.Client, recs ...*kgo.Record) {
	t.Helper()
	if err := cl.ProduceSync(ctxT(t, time.Minute), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// TestFetchLongPollAndLargeRecords runs one node for the consumer-facing
// fetch behaviours: long polls end when data arrives, a record larger than
// fetch.max.bytes still comes back (KIP-74), a fetch past the end is
// OFFSET_OUT_OF_RANGE, and record bytes leave through sendfile.
func TestFetchLongPollAndLargeRecords(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, nil)
	n.Start()
	adm := admin(t, n.Addr)
	makeTopic(t, adm, "poll", 1, nil)
	makeTopic(t, adm, "large", 1, nil)
	prod := syncProducer(t, n.Addr)

	t.Run("long poll wakes on produce", func(t *testing.T) {
		const maxWait = 10 * time.Second
		cons, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.FetchMaxWait(maxWait),
			kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"poll": {0: kgo.NewOffset().AtStart()}}))
		if err != nil {
			t.Fatal(err)
		}
		defer cons.Close()
		got := make(chan time.Time, 1)
		go func() {
			fs := cons.PollFetches(ctxT(t, time.Minute))
			if fs.NumRecords() > 0 {
				got <- time.Now()
			}
			close(got)
		}()
		time.Sleep(2 * time.Second) // let the consumer settle into a long poll
		produced := time.Now()
		produceSync(t, prod, &kgo.Record{Topic: "poll", Value: []byte("wake up")})
		at, ok := <-got
		if !ok {
			t.Fatal("consumer saw no record")
		}
		if lag := at.Sub(produced); lag > maxWait/2 {
			t.Fatalf("record arrived %v after it was produced; the long poll was not woken", lag)
		}
	})

	t.Run("record larger than fetch.max.bytes", func(t *testing.T) {
		big := bytes.Repeat([]byte("x"), 200<<10)
		produceSync(t, prod, &kgo.Record{Topic: "large", Value: big}, &kgo.Record{Topic: "large", Value: []byte("small")})
		cons, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.FetchMaxBytes(1024), kgo.FetchMaxPartitionBytes(1024),
			kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"large": {0: kgo.NewOffset().AtStart()}}))
		if err != nil {
			t.Fatal(err)
		}
		defer cons.Close()
		ctx := ctxT(t, time.Minute)
		var values [][]byte
		for len(values) < 2 && ctx.Err() == nil {
			fs := cons.PollFetches(ctx)
			fs.EachError(func(_ string, _ int32, err error) { t.Errorf("fetch: %v", err) })
			fs.EachRecord(func(r *kgo.Record) { values = append(values, r.Value) })
		}
		if len(values) != 2 || !bytes.Equal(values[0], big) {
			t.Fatalf("consumed %d records; want the 200 KiB one first", len(values))
		}
	})

	t.Run("offset out of range", func(t *testing.T) {
		topics, err := adm.ListTopics(ctxT(t, time.Minute), "large")
		if err != nil {
			t.Fatal(err)
		}
		req := kmsg.NewPtrFetchRequest()
		req.MaxBytes, req.SessionEpoch = 1<<20, -1
		rt := kmsg.NewFetchRequestTopic()
		// kgo picks the version, so name the topic both ways.
		rt.Topic, rt.TopicID = "large", topics["large"].ID
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.FetchOffset, rp.PartitionMaxBytes = 1000, 1<<20
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctxT(t, time.Minute), prod)
		if err != nil {
			t.Fatal(err)
		}
		if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.OffsetOutOfRange.Code {
			t.Fatalf("fetch at 1000 of a 2-record log: %v, want OFFSET_OUT_OF_RANGE", kerr.ErrorForCode(code))
		}
	})

	if err := n.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	// The 200 KiB record went out of a file region at least once.
	m := regexp.MustCompile(`"sendfile": (\d+)`).FindStringSubmatch(n.Output())
	if m == nil {
		t.Fatalf("no response byte counts logged at shutdown:\n%s", n.Output())
	}
	if sent, _ := strconv.Atoi(m[1]); sent < 200<<10 {
		t.Fatalf("only %d bytes left through sendfile\n%s", sent, n.Output())
	}
}

// TestListOffsetsByTimestamp produces records with explicit timestamps and
// looks offsets up by time through kadm.
func TestListOffsetsByTimestamp(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, nil)
	n.Start()
	adm := admin(t, n.Addr)
	makeTopic(t, adm, "times", 1, nil)
	prod := syncProducer(t, n.Addr)
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	// Offsets 0..4 at base+0s, +10s, +20s, +5s (out of order), +30s.
	for _, d := range []int{0, 10, 20, 5, 30} {
		produceSync(t, prod, &kgo.Record{Topic: "times", Value: []byte("v"), Timestamp: base.Add(time.Duration(d) * time.Second)})
	}
	ctx := ctxT(t, time.Minute)
	for _, c := range []struct {
		after time.Duration
		want  int64
	}{
		{-time.Second, 0}, {0, 0}, {time.Second, 1}, {5 * time.Second, 1}, {11 * time.Second, 2},
		// kadm turns "no record that new" (offset -1) into the end offset.
		{21 * time.Second, 4}, {30 * time.Second, 4}, {31 * time.Second, 5},
	} {
		res, err := adm.ListOffsetsAfterMilli(ctx, base.Add(c.after).UnixMilli(), "times")
		if err != nil {
			t.Fatal(err)
		}
		lo, _ := res.Lookup("times", 0)
		if lo.Err != nil || lo.Offset != c.want {
			t.Errorf("first offset at or after base%+v: %d (%v), want %d", c.after, lo.Offset, lo.Err, c.want)
		}
	}
	starts, err := adm.ListStartOffsets(ctx, "times")
	if err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx, "times")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := starts.Lookup("times", 0)
	e, _ := ends.Lookup("times", 0)
	if s.Offset != 0 || e.Offset != 5 {
		t.Fatalf("start %d end %d, want 0 and 5", s.Offset, e.Offset)
	}
	ctxDel := ctxT(t, time.Minute)
	if _, err := adm.DeleteRecords(ctxDel, kadm.Offsets{"times": {0: kadm.Offset{Topic: "times", Partition: 0, At: 3}}}); err != nil {
		t.Fatal(err)
	}
	starts, _ = adm.ListStartOffsets(ctx, "times")
	if s, _ := starts.Lookup("times", 0); s.Offset != 3 {
		t.Fatalf("start offset %d after deleting records before 3", s.Offset)
	}
}
