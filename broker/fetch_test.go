package broker

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// oneFetch is a sessionless fetch of one partition.
func oneFetch(version int16, topic string, id [16]byte, partition int32, offset int64) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(version)
	req.MaxBytes, req.SessionEpoch = 1<<20, sessionEpochFinal
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, id
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = partition, offset, 1<<20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func TestFetchLongPollWakesOnAppend(t *testing.T) {
	e := newDataEnv(t, nil)
	id := e.topic("lp", 1, nil)
	req := oneFetch(18, "lp", id, 0, 0)
	req.MinBytes, req.MaxWaitMillis = 1, 10_000
	go func() {
		time.Sleep(200 * time.Millisecond)
		e.append("lp", 0, testBatch(1, 10, 1, 0))
	}()
	start := time.Now()
	resp := fetchDirect(t, e, req)
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("long poll answered after %v; the append should have woken it", took)
	}
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 || len(p.RecordBatches) == 0 || p.HighWatermark != 1 {
		t.Fatalf("got error %d, %d record bytes, hw %d", p.ErrorCode, len(p.RecordBatches), p.HighWatermark)
	}
	if n := waiterCount(e.part("lp", 0)); n != 0 {
		t.Fatalf("%d waiters left registered", n)
	}
}

func TestFetchLongPollTimesOut(t *testing.T) {
	e := newDataEnv(t, nil)
	id := e.topic("lp", 1, nil)
	e.append("lp", 0, testBatch(1, 10, 1, 0))
	req := oneFetch(13, "lp", id, 0, 1)
	req.MinBytes, req.MaxWaitMillis = 1, 300
	start := time.Now()
	resp := fetchDirect(t, e, req)
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Fatalf("answered after %v, before MaxWait", took)
	}
	if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || len(p.RecordBatches) != 0 || p.HighWatermark != 1 {
		t.Fatalf("got error %d, %d record bytes, hw %d", p.ErrorCode, len(p.RecordBatches), p.HighWatermark)
	}
}

func TestFetchLongPollEndsAtShutdown(t *testing.T) {
	e := newDataEnv(t, nil)
	id := e.topic("lp", 1, nil)
	req := oneFetch(13, "lp", id, 0, 0)
	req.MinBytes, req.MaxWaitMillis = 1, 60_000
	go func() {
		time.Sleep(100 * time.Millisecond)
		e.b.endLongPolls()
	}()
	start := time.Now()
	fetchDirect(t, e, req)
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("shutdown left a long poll waiting %v", took)
	}
}

func waiterCount(p *partition) int {
	p.waitMu.Lock()
	defer p.waitMu.Unlock()
	return len(p.waiters)
}

func TestFetchOffsets(t *testing.T) {
	e := newDataEnv(t, nil)
	id := e.topic("o", 1, nil)
	e.append("o", 0, testBatch(2, 10, 1, 0))
	p := e.part("o", 0)
	// Appended but not yet visible: offsets 2-3 are past the high
	// watermark yet inside the log, which Kafka answers with no records.
	if _, err := p.log.Append(testBatch(2, 10, 1, 0), 3, -1); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		offset  int64
		code    int16
		records bool
	}{
		{0, 0, true}, {1, 0, true}, {2, 0, false}, {3, 0, false}, {4, 0, false},
		{5, kerr.OffsetOutOfRange.Code, false}, {-1, kerr.OffsetOutOfRange.Code, false},
	}
	for _, c := range cases {
		got := fetchDirect(t, e, oneFetch(12, "o", id, 0, c.offset)).Topics[0].Partitions[0]
		if got.ErrorCode != c.code || (len(got.RecordBatches) > 0) != c.records {
			t.Errorf("offset %d: error %d, %d record bytes; want error %d, records %v", c.offset, got.ErrorCode, len(got.RecordBatches), c.code, c.records)
		}
		if c.records && got.HighWatermark != 2 {
			t.Errorf("offset %d: high watermark %d, want 2", c.offset, got.HighWatermark)
		}
	}
	if _, err := p.log.DeleteRecordsBefore(1); err != nil {
		t.Fatal(err)
	}
	if got := fetchDirect(t, e, oneFetch(12, "o", id, 0, 0)).Topics[0].Partitions[0]; got.ErrorCode != kerr.OffsetOutOfRange.Code {
		t.Errorf("offset below the log start: error %d", got.ErrorCode)
	}
}

func TestFetchLeaderEpoch(t *testing.T) {
	e := newDataEnv(t, nil)
	id := e.topic("ep", 1, nil)
	for epoch, code := range map[int32]int16{-1: 0, 3: 0, 2: kerr.FencedLeaderEpoch.Code, 4: kerr.UnknownLeaderEpoch.Code} {
		req := oneFetch(16, "ep", id, 0, 0)
		req.Topics[0].Partitions[0].CurrentLeaderEpoch = epoch
		got := fetchDirect(t, e, req)
		p := got.Topics[0].Partitions[0]
		if p.ErrorCode != code {
			t.Errorf("epoch %d: error %d, want %d", epoch, p.ErrorCode, code)
		}
		fenced := code == kerr.FencedLeaderEpoch.Code
		if fenced != (p.CurrentLeader.LeaderID == 1 && p.CurrentLeader.LeaderEpoch == 3) || fenced != (len(got.Brokers) == 1) {
			t.Errorf("epoch %d: current leader %+v, brokers %v", epoch, p.CurrentLeader, got.Brokers)
		}
	}
}

// TestFetchSendfileOverTCP consumes a large partition with franz-go through
// a real listener and checks the record bytes left by sendfile.
func TestFetchSendfileOverTCP(t *testing.T) {
	e := newDataEnv(t, nil)
	addr := e.serve()
	e.topic("big", 1, nil)
	const batches = 64
	var total int
	for i := 0; i < batches; i++ {
		b := testBatch(1, 64<<10, int64(i), 0)
		total += len(b)
		e.append("big", 0, b)
	}
	stats := e.b.NetStats()
	sent0, copied0 := stats.SendfileBytes.Load(), stats.CopiedBytes.Load()

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"big": {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	got := 0
	for got < batches {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", got, batches, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("%s-%d: %v", topic, p, err) })
		got += fs.NumRecords()
	}
	sent, copied := stats.SendfileBytes.Load()-sent0, stats.CopiedBytes.Load()-copied0
	if sent < int64(total) || copied != 0 {
		t.Fatalf("sendfile moved %d bytes and %d were copied; want at least the %d record bytes by sendfile", sent, copied, total)
	}
}
