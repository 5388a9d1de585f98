package broker

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
	"spool/record"
	"spool/storage"
)

// BenchmarkProduceAppend runs the produce handler (lookup, validation of
// every record, producer-state check, append) for one idempotent batch of
// 1 KiB records per request, acks=1. allocs/record must stay 0: whatever
// allocates does so per request, never per record.
func BenchmarkProduceAppend(b *testing.B) {
	for _, n := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			tb := newTestBroker(b, nil, storage.Options{})
			spec := batchSpec{recs: values(n, 1024), producerID: 77}
			batch := buildBatch(b, spec)
			req := produceReq(12, 1, batch)
			preq := &protocol.Request{Header: protocol.Header{Version: 12}, Msg: req}
			var resp protocol.Response
			respond := func(r protocol.Response) { resp = r }
			seq := int32(0)
			var ms0, ms1 runtime.MemStats
			b.SetBytes(int64(len(batch)))
			b.ReportAllocs()
			runtime.ReadMemStats(&ms0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%4096 == 4095 {
					b.StopTimer()
					resetLog(b, tb)
					b.StartTimer()
				}
				setSequence(batch, seq)
				seq += int32(n)
				tb.b.handleProduce(preq, respond)
				if c := resp.Msg.(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode; c != 0 {
					b.Fatalf("request %d: error %d", i, c)
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&ms1)
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(b.N*n), "allocs/record")
		})
	}
}

// setSequence gives the batch its next base sequence, fixing the CRC.
func setSequence(batch []byte, seq int32) {
	batch[53], batch[54], batch[55], batch[56] = byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq)
	fixCRC(batch)
}

// resetLog empties the log so a long run does not fill the disk; the
// producer state carries on, as the offsets continue from the old end.
func resetLog(b *testing.B, tb *testBroker) {
	if err := tb.p.log.Reset(tb.p.log.LogEndOffset()); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkValidateProduce checks one batch of 1000 1 KiB records the way
// franz-go sends them by default (zero-filled values, snappy), and
// uncompressed: what the reading goroutine spends per produced record
// before the append.
func BenchmarkValidateProduce(b *testing.B) {
	recs := make([]testRec, 1000)
	for i := range recs {
		recs[i] = testRec{value: make([]byte, 1024)}
	}
	cfg := produceConfig{maxMessageBytes: 64 << 20, segmentBytes: 1 << 30, beforeMaxMs: 1 << 60, afterMaxMs: 1 << 60, minInsync: 1}
	for _, codec := range []int8{record.CompressionNone, record.CompressionSnappy, record.CompressionLZ4, record.CompressionZstd} {
		batch := buildBatch(b, batchSpec{recs: recs, codec: codec, producerID: 7})
		b.Run(fmt.Sprintf("codec=%d", codec), func(b *testing.B) {
			now := time.Now().UnixMilli()
			b.ReportAllocs()
			b.SetBytes(int64(len(recs)) * 1024)
			for b.Loop() {
				if _, bad := validateProduce(batch, 12, &cfg, now, record.Room{}); bad.err != nil {
					b.Fatal(bad.msg)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
		})
	}
}
