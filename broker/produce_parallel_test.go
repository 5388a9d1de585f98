package broker

import (
	"runtime"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
	"spool/record"
)

// A request big enough to be validated on several cores answers each
// partition exactly as one validated in turn would: good batches are
// appended with their offsets, and every bad one gets its own error.
func TestProduceValidatedInParallel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	e := newDataEnv(t, nil)
	e.topic("par", 4, map[string]string{"message.timestamp.before.max.ms": "3600000"})
	big := values(200, 1024) // 200 KiB a batch: the request passes parallelValidateBytes
	old := time.Now().Add(-365 * 24 * time.Hour).UnixMilli()
	batches := [][]byte{
		buildBatch(t, batchSpec{recs: big, codec: record.CompressionSnappy}),
		buildBatch(t, batchSpec{recs: big}),
		buildBatch(t, batchSpec{recs: big, firstTs: old}), // before message.timestamp.before.max.ms
		buildBatch(t, batchSpec{recs: big, codec: record.CompressionLZ4}),
	}
	batches[1][len(batches[1])-1] ^= 0xff // CRC no longer matches
	r := kmsg.NewPtrProduceRequest()
	r.SetVersion(9)
	r.Acks, r.TimeoutMillis = 1, 30000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "par"
	for i, b := range batches {
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Partition, rp.Records = int32(i), b
		rt.Partitions = append(rt.Partitions, rp)
	}
	// A partition the topic does not have is refused before validation.
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = 9, batches[0]
	rt.Partitions = append(rt.Partitions, rp)
	r.Topics = append(r.Topics, rt)

	var resp protocol.Response
	e.b.handleProduce(&protocol.Request{Header: protocol.Header{Version: 9}, Msg: r}, func(x protocol.Response) { resp = x })
	got := resp.Msg.(*kmsg.ProduceResponse).Topics[0].Partitions
	want := []int16{0, kerr.CorruptMessage.Code, kerr.InvalidTimestamp.Code, 0, kerr.UnknownTopicOrPartition.Code}
	for i, p := range got {
		if p.ErrorCode != want[i] {
			t.Errorf("partition %d: error %d, want %d (%v)", p.Partition, p.ErrorCode, want[i], p.ErrorMessage)
		}
		if p.ErrorCode == 0 && (p.BaseOffset != 0 || e.part("par", p.Partition).log.LogEndOffset() != 200) {
			t.Errorf("partition %d: base offset %d, log end %d", p.Partition, p.BaseOffset, e.part("par", p.Partition).log.LogEndOffset())
		}
	}
	if n := len(got[2].ErrorRecords); n != len(big) {
		t.Errorf("%d record errors for %d records with old timestamps", n, len(big))
	}
	for _, p := range []int32{1, 2} {
		if end := e.part("par", p).log.LogEndOffset(); end != 0 {
			t.Errorf("partition %d: a refused batch was appended: log end %d", p, end)
		}
	}
}
