package storage

import (
	"bytes"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"spool/record"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// batchSpec describes a batch for tests.
type batchSpec struct {
	records   int
	valueSize int
	firstTs   int64
	tsStep    int64 // timestamp delta between records
	codec     int8
	control   bool
}

// makeBatch encodes a v2 batch with kmsg and a Castagnoli CRC.
func makeBatch(t testing.TB, sp batchSpec) []byte {
	t.Helper()
	var recs []byte
	maxTs := sp.firstTs
	for i := 0; i < sp.records; i++ {
		v := bytes.Repeat([]byte{byte('a' + i%26)}, sp.valueSize)
		r := kmsg.Record{
			TimestampDelta64: int64(i) * sp.tsStep,
			OffsetDelta:      int32(i),
			Key:              []byte{byte(i)},
			Value:            v,
		}
		body := r.AppendTo(nil)
		// AppendTo writes Length as given; compute it from the body.
		r.Length = int32(len(body) - varintLen(0))
		recs = r.AppendTo(recs)
		maxTs = max(maxTs, sp.firstTs+int64(i)*sp.tsStep)
	}
	if sp.codec != record.CompressionNone {
		recs = compress(t, sp.codec, recs)
	}
	attrs := int16(sp.codec)
	if sp.control {
		attrs |= record.AttrControl
	}
	b := kmsg.RecordBatch{
		FirstOffset:     0,
		Magic:           2,
		Attributes:      attrs,
		LastOffsetDelta: int32(sp.records - 1),
		FirstTimestamp:  sp.firstTs,
		MaxTimestamp:    maxTs,
		ProducerID:      -1,
		ProducerEpoch:   -1,
		FirstSequence:   -1,
		NumRecords:      int32(sp.records),
		Records:         recs,
	}
	b.Length = int32(record.HeaderLen - 12 + len(recs))
	out := b.AppendTo(nil)
	record.SetCRC(out)
	return out
}

func varintLen(v int64) int {
	var buf [binary.MaxVarintLen64]byte
	return binary.PutVarint(buf[:], v)
}

func compress(t testing.TB, codec int8, src []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch codec {
	case record.CompressionGzip:
		w := gzip.NewWriter(&buf)
		_, _ = w.Write(src)
		_ = w.Close()
	case record.CompressionSnappy:
		return s2.EncodeSnappy(nil, src)
	case record.CompressionLZ4:
		w := lz4.NewWriter(&buf)
		_, _ = w.Write(src)
		_ = w.Close()
	case record.CompressionZstd:
		w, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(src)
		_ = w.Close()
	}
	return buf.Bytes()
}

// fakeClock is an injectable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.UnixMilli(1_700_000_000_000)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func smallConfig() Config {
	c := DefaultConfig()
	c.SegmentBytes = 16 << 10
	c.IndexIntervalBytes = 512
	c.MaxIndexBytes = 4096
	c.RetentionMs = -1
	return c
}

func openTestLog(t testing.TB, dir string, cfg Config, opts Options) *Log {
	t.Helper()
	l, err := Open(dir, cfg, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return l
}

// appendN appends n single batches of recs records each and returns the
// batches as written (with offsets assigned).
func appendN(t testing.TB, l *Log, n, recs, valueSize int, ts func(i int) int64) [][]byte {
	t.Helper()
	var out [][]byte
	for i := 0; i < n; i++ {
		b := makeBatch(t, batchSpec{records: recs, valueSize: valueSize, firstTs: ts(i), tsStep: 1})
		if _, err := l.Append(b, 3, -1); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		out = append(out, b)
	}
	return out
}

// readAllBatches reads the whole log from start through Read and returns the
// batches in order.
func readAllBatches(t testing.TB, l *Log) [][]byte {
	t.Helper()
	var out [][]byte
	off := l.LogStartOffset()
	for off < l.LogEndOffset() {
		sl, err := l.Read(off, 1<<20, 1<<62, true)
		if err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
		if sl.Empty() {
			t.Fatalf("empty read at %d below end %d", off, l.LogEndOffset())
		}
		data, err := sl.ReadAll(nil)
		sl.Release()
		if err != nil {
			t.Fatal(err)
		}
		err = record.Split(data, func(b []byte, h record.Header) error {
			if _, err := record.Validate(b); err != nil {
				return err
			}
			out = append(out, append([]byte(nil), b...))
			off = h.NextOffset()
			return nil
		})
		if err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
	}
	return out
}
