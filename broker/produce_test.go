package broker

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
	"spool/record"
	"spool/storage"
)

type validationCase struct {
	name    string
	configs map[string]string
	version int16
	batch   func(t *testing.T) []byte
	want    *kerr.Error
	recErr  int32 // index of the record error to expect, -1 for none
}

func TestProduceValidation(t *testing.T) {
	now := time.Now().UnixMilli()
	keyless := []testRec{{key: []byte("k"), value: []byte("v")}, {key: nil, value: []byte("w")}}
	compact := map[string]string{"cleanup.policy": "compact"}
	tests := []validationCase{
		{"flipped byte fails the crc", nil, 12, func(t *testing.T) []byte {
			b := buildBatch(t, batchSpec{recs: values(3, 20)})
			b[len(b)-5] ^= 1
			return b
		}, kerr.CorruptMessage, -1},
		{"magic 1", nil, 12, func(t *testing.T) []byte {
			b := buildBatch(t, batchSpec{recs: values(1, 5)})
			b[16] = 1
			return b
		}, kerr.InvalidRecord, -1},
		{"two batches", nil, 12, func(t *testing.T) []byte {
			b := buildBatch(t, batchSpec{recs: values(1, 5)})
			return append(b, b...)
		}, kerr.InvalidRecord, -1},
		{"no batch", nil, 12, func(t *testing.T) []byte { return nil }, kerr.InvalidRecord, -1},
		{"cut off batch", nil, 12, func(t *testing.T) []byte {
			b := buildBatch(t, batchSpec{recs: values(2, 5)})
			return b[:len(b)-3]
		}, kerr.InvalidRecord, -1},
		{"batch over max.message.bytes", map[string]string{"max.message.bytes": "500"}, 12, func(t *testing.T) []byte {
			return buildBatch(t, batchSpec{recs: values(5, 100)})
		}, kerr.MessageTooLarge, -1},
		{"timestamp too old", map[string]string{"message.timestamp.before.max.ms": "60000"}, 12, func(t *testing.T) []byte {
			return buildBatch(t, batchSpec{recs: []testRec{{key: []byte("a")}, {key: []byte("b"), tsDelta: 3_600_000}}, firstTs: now - 3_600_000})
		}, kerr.InvalidTimestamp, 0},
		{"timestamp too new", map[string]string{"message.timestamp.after.max.ms": "60000"}, 12, func(t *testing.T) []byte {
			return buildBatch(t, batchSpec{recs: []testRec{{key: []byte("a")}, {key: []byte("b"), tsDelta: 3_600_000}}, firstTs: now})
		}, kerr.InvalidTimestamp, 1},
		{"producer sets LogAppendTime", nil, 12, func(t *testing.T) []byte {
			return buildBatch(t, batchSpec{recs: []testRec{{key: []byte("a")}}, firstTs: -1, attrs: 0x08})
		}, kerr.InvalidTimestamp, 0},
		{"offset delta out of order", nil, 12, func(t *testing.T) []byte {
			return buildBatch(t, batchSpec{recs: values(2, 5), tweak: func(b []byte) []byte {
				b[3] = 2 // first record's offset delta 0 -> zigzag 1
				return b
			}})
		}, kerr.InvalidRecord, -1},
		{"bytes after the last record", nil, 12, func(t *testing.T) []byte {
			return buildBatch(t, batchSpec{recs: values(2, 5), tweak: func(b []byte) []byte { return append(b, 0) }})
		}, kerr.InvalidRecord, -1},
		{"record count disagrees with offsets", nil, 12, func(t *testing.T) []byte {
			b := buildBatch(t, batchSpec{recs: values(3, 5)})
			binary.BigEndian.PutUint32(b[57:], 2)
			fixCRC(b)
			return b
		}, kerr.InvalidRecord, -1},
		{"control batch", nil, 12, func(t *testing.T) []byte {
			return buildBatch(t, batchSpec{recs: values(1, 5), attrs: 0x20})
		}, kerr.InvalidRecord, -1},
		{"transactional batch without producer id", nil, 12, func(t *testing.T) []byte {
			return buildBatch(t, batchSpec{recs: values(1, 5), attrs: 0x10, producerID: -1, baseSeq: -1})
		}, kerr.InvalidRecord, -1},
		{"idempotent batch without sequence", nil, 12, func(t *testing.T) []byte {
			return buildBatch(t, batchSpec{recs: values(1, 5), producerID: 9, baseSeq: -1})
		}, kerr.InvalidRecord, -1},
		{"zstd before v7", nil, 6, func(t *testing.T) []byte {
			return buildBatch(t, batchSpec{recs: values(1, 5), codec: record.CompressionZstd})
		}, kerr.UnsupportedCompressionType, -1},
		{"keyless on compacted, uncompressed", compact, 12, func(t *testing.T) []byte {
			return buildBatch(t, batchSpec{recs: keyless})
		}, kerr.InvalidRecord, 1},
		{"keyless on delete policy is fine", nil, 12, func(t *testing.T) []byte {
			return buildBatch(t, batchSpec{recs: keyless})
		}, nil, -1},
	}
	for _, codec := range []struct {
		name   string
		id     int8
		xerial bool
	}{{"gzip", 1, false}, {"snappy", 2, false}, {"snappy-xerial", 2, true}, {"lz4", 3, false}, {"zstd", 4, false}} {
		tests = append(tests, validationCase{"keyless on compacted, " + codec.name, compact, 12, func(t *testing.T) []byte {
			return buildBatch(t, batchSpec{recs: keyless, codec: codec.id, xerial: codec.xerial})
		}, kerr.InvalidRecord, 1}, validationCase{"keyed on compacted, " + codec.name, compact, 12, func(t *testing.T) []byte {
			return buildBatch(t, batchSpec{recs: values(50, 100), codec: codec.id, xerial: codec.xerial})
		}, nil, -1}, validationCase{"corrupt " + codec.name + " payload", nil, 12, func(t *testing.T) []byte {
			b := buildBatch(t, batchSpec{recs: values(50, 100), codec: codec.id, xerial: codec.xerial})
			for i := record.HeaderLen + 20; i < len(b); i += 7 {
				b[i] ^= 0x5a
			}
			fixCRC(b)
			return b
		}, kerr.CorruptMessage, -1})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tb := newTestBroker(t, tt.configs, storage.Options{})
			before := tb.p.log.LogEndOffset()
			resp := tb.produce(t, produceReq(tt.version, 1, tt.batch(t))).Msg.(*kmsg.ProduceResponse)
			got := resp.Topics[0].Partitions[0]
			if want := errCode(tt.want); got.ErrorCode != want {
				t.Fatalf("error %v (%v), want %v", kerr.ErrorForCode(got.ErrorCode), str(got.ErrorMessage), tt.want)
			}
			if tt.want == nil {
				if got.BaseOffset != before || tb.p.log.LogEndOffset() == before {
					t.Fatalf("accepted batch: base %d, log end %d -> %d", got.BaseOffset, before, tb.p.log.LogEndOffset())
				}
				return
			}
			if leo := tb.p.log.LogEndOffset(); leo != before || got.BaseOffset != -1 {
				t.Fatalf("refused batch changed the log end %d -> %d (base %d)", before, leo, got.BaseOffset)
			}
			if tt.recErr >= 0 && (len(got.ErrorRecords) != 1 || got.ErrorRecords[0].RelativeOffset != tt.recErr) {
				t.Fatalf("record errors %+v, want one at %d", got.ErrorRecords, tt.recErr)
			}
		})
	}
}

func errCode(e *kerr.Error) int16 {
	if e == nil {
		return 0
	}
	return e.Code
}

func str(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func TestProduceUnknownAndNotLeader(t *testing.T) {
	tb := newTestBroker(t, nil, storage.Options{})
	batch := buildBatch(t, batchSpec{recs: values(1, 5)})
	r := produceReq(12, 1, batch)
	r.Topics[0].Partitions = append(r.Topics[0].Partitions, r.Topics[0].Partitions[0])
	r.Topics[0].Partitions[1].Partition = 7
	other := r.Topics[0]
	other.Topic = "missing"
	r.Topics = append(r.Topics, other)
	resp := tb.produce(t, r).Msg.(*kmsg.ProduceResponse)
	if p := resp.Topics[0].Partitions; p[0].ErrorCode != 0 || p[1].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("known/unknown partition: %d/%d", p[0].ErrorCode, p[1].ErrorCode)
	}
	if p := resp.Topics[1].Partitions[0]; p.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown topic: %d", p.ErrorCode)
	}

	// Leadership moves to broker 2.
	tb.p.setState(&metadata.Partition{Leader: 2, LeaderEpoch: 4, ISR: []int32{2}}, 1)
	before := tb.p.log.LogEndOffset()
	got := tb.produceOne(t, buildBatch(t, batchSpec{recs: values(1, 5)}))
	if got.ErrorCode != kerr.NotLeaderForPartition.Code || tb.p.log.LogEndOffset() != before {
		t.Fatalf("not leader: error %d, log end %d -> %d", got.ErrorCode, before, tb.p.log.LogEndOffset())
	}
}

func TestProduceAcks(t *testing.T) {
	tb := newTestBroker(t, nil, storage.Options{})
	batch := func() []byte { return buildBatch(t, batchSpec{recs: values(2, 5)}) }
	if resp := tb.produce(t, produceReq(12, 0, batch())); !resp.None || resp.Close {
		t.Fatalf("acks=0 success: %+v, want no answer", resp)
	}
	if tb.p.log.LogEndOffset() != 2 {
		t.Fatalf("acks=0 batch not appended: log end %d", tb.p.log.LogEndOffset())
	}
	bad := batch()
	bad[len(bad)-1] ^= 1
	if resp := tb.produce(t, produceReq(12, 0, bad)); !resp.Close {
		t.Fatalf("acks=0 failure: %+v, want the connection closed", resp)
	}
	resp := tb.produce(t, produceReq(12, 2, batch())).Msg.(*kmsg.ProduceResponse)
	if c := resp.Topics[0].Partitions[0].ErrorCode; c != kerr.InvalidRequiredAcks.Code || tb.p.log.LogEndOffset() != 2 {
		t.Fatalf("acks=2: error %d, log end %d", c, tb.p.log.LogEndOffset())
	}
}

// TestAcksAllAnsweredAfterFsync holds every fsync at a gate and checks that
// an acks=all produce is not answered until its fsync has completed, while
// acks=1 is answered with no fsync at all.
func TestAcksAllAnsweredAfterFsync(t *testing.T) {
	rec := &fsyncRecorder{events: make(chan string, 100), gate: make(chan struct{})}
	tb := newTestBroker(t, nil, storage.Options{Fsync: rec.fsync})

	if got := tb.produceOne(t, buildBatch(t, batchSpec{recs: values(2, 5)})); got.ErrorCode != 0 {
		t.Fatalf("acks=1: error %d", got.ErrorCode)
	}
	select {
	case e := <-rec.events:
		t.Fatalf("acks=1 caused %s", e)
	default:
	}

	answered := make(chan protocol.Response, 1)
	r := produceReq(12, -1, buildBatch(t, batchSpec{recs: values(3, 5)}))
	tb.b.handleProduce(&protocol.Request{Header: protocol.Header{Version: 12}, Msg: r}, func(resp protocol.Response) {
		rec.events <- "respond"
		answered <- resp
	})
	select {
	case <-answered:
		t.Fatal("acks=all answered before any fsync")
	case <-time.After(200 * time.Millisecond):
	}
	close(rec.gate)
	var resp protocol.Response
	select {
	case resp = <-answered:
	case <-time.After(30 * time.Second):
		t.Fatal("acks=all not answered within 30s of the fsync")
	}
	if first := <-rec.events; first != "fsync" {
		t.Fatalf("first event %q, want fsync", first)
	}
	p := resp.Msg.(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	if p.ErrorCode != 0 || p.BaseOffset != 2 {
		t.Fatalf("acks=all answer: error %d base %d, want 0 at 2", p.ErrorCode, p.BaseOffset)
	}
	if f := tb.p.log.FlushedOffset(); f < 5 {
		t.Fatalf("answered with flushed offset %d, want >= 5", f)
	}
}

func TestProduceIdempotentThroughHandler(t *testing.T) {
	tb := newTestBroker(t, nil, storage.Options{})
	for i, step := range []struct {
		spec     batchSpec
		wantErr  *kerr.Error
		wantBase int64
	}{
		{idem(11, 0, 0, 3), nil, 0},
		{idem(11, 0, 3, 2), nil, 3},
		{idem(11, 0, 0, 3), nil, 0}, // retry: original offsets
		{idem(11, 0, 7, 1), kerr.OutOfOrderSequenceNumber, -1},
		{idem(11, 1, 0, 1), nil, 5},
		{idem(11, 0, 5, 1), kerr.InvalidProducerEpoch, -1},
	} {
		got := tb.produceOne(t, buildBatch(t, step.spec))
		if got.ErrorCode != errCode(step.wantErr) || got.BaseOffset != step.wantBase {
			t.Fatalf("step %d: error %d base %d, want %v at %d", i, got.ErrorCode, got.BaseOffset, step.wantErr, step.wantBase)
		}
	}
	if leo := tb.p.log.LogEndOffset(); leo != 6 {
		t.Fatalf("log end %d, want 6 (duplicates and refusals store nothing)", leo)
	}
}

func TestProduceLogAppendTime(t *testing.T) {
	tb := newTestBroker(t, map[string]string{"message.timestamp.type": "LogAppendTime"}, storage.Options{})
	before := time.Now().UnixMilli()
	got := tb.produceOne(t, buildBatch(t, batchSpec{recs: values(2, 5), firstTs: 1}))
	if got.ErrorCode != 0 || got.LogAppendTime < before || got.LogAppendTime > time.Now().UnixMilli() {
		t.Fatalf("error %d, log append time %d, want about %d", got.ErrorCode, got.LogAppendTime, before)
	}
	sl, err := tb.p.log.Read(0, 1<<20, 100, true)
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Release()
	raw, err := sl.ReadAll(nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := record.Validate(raw)
	if err != nil || !h.LogAppendTime() || h.MaxTimestamp != got.LogAppendTime {
		t.Fatalf("stored batch: %+v %v, want LogAppendTime %d", h, err, got.LogAppendTime)
	}
}

func TestProduceSegmentTooSmall(t *testing.T) {
	tb := newTestBroker(t, map[string]string{"segment.bytes": "200"}, storage.Options{})
	got := tb.produceOne(t, buildBatch(t, batchSpec{recs: values(5, 100)}))
	if got.ErrorCode != kerr.RecordListTooLarge.Code {
		t.Fatalf("error %v, want RECORD_LIST_TOO_LARGE", kerr.ErrorForCode(got.ErrorCode))
	}
}
