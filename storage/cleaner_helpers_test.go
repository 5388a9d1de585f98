package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spool/record"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// kv is a record for tests; a nil value is a tombstone.
type kv struct {
	key   string
	value []byte
}

// producer fields of a test batch; pid -1 is a plain producer.
type producerFields struct {
	pid   int64
	epoch int16
	seq   int32
}

var noProducer = producerFields{pid: -1, epoch: -1, seq: -1}

// keyedBatch encodes a v2 batch of keyed records, timestamps ts, ts+1, ...
func keyedBatch(t testing.TB, codec int8, ts int64, pf producerFields, kvs ...kv) []byte {
	t.Helper()
	var recs []byte
	for i, r := range kvs {
		rec := kmsg.Record{TimestampDelta64: int64(i), OffsetDelta: int32(i), Key: []byte(r.key), Value: r.value}
		rec.Length = int32(len(rec.AppendTo(nil)) - varintLen(0))
		recs = rec.AppendTo(recs)
	}
	if codec != record.CompressionNone {
		recs = compress(t, codec, recs)
	}
	b := kmsg.RecordBatch{
		Magic: 2, Attributes: int16(codec), LastOffsetDelta: int32(len(kvs) - 1),
		FirstTimestamp: ts, MaxTimestamp: ts + int64(len(kvs)) - 1,
		ProducerID: pf.pid, ProducerEpoch: pf.epoch, FirstSequence: pf.seq,
		NumRecords: int32(len(kvs)), Records: recs,
	}
	b.Length = int32(record.HeaderLen - 12 + len(recs))
	out := b.AppendTo(nil)
	record.SetCRC(out)
	return out
}

// logRecord is a record read back from a log.
type logRecord struct {
	offset    int64
	ts        int64
	key       string
	value     string
	tombstone bool
}

// readRecords reads every record of the log through Read, checking batch
// CRCs and that offsets only grow.
func readRecords(t testing.TB, l *Log) []logRecord {
	t.Helper()
	var out []logRecord
	next := int64(-1)
	for _, b := range readAllBatches(t, l) {
		h, err := record.Validate(b)
		if err != nil {
			t.Fatal(err)
		}
		if h.BaseOffset < next {
			t.Fatalf("batch at %d follows offset %d", h.BaseOffset, next-1)
		}
		next = h.NextOffset()
		recs := b[record.HeaderLen:]
		if h.Compression() != record.CompressionNone {
			if recs, err = record.Decompress(nil, h.Compression(), recs); err != nil {
				t.Fatalf("batch at %d: %v", h.BaseOffset, err)
			}
		}
		it := record.NewIter(recs, h.NumRecords)
		for r, ok := it.Next(); ok; r, ok = it.Next() {
			lr := logRecord{offset: h.BaseOffset + int64(r.OffsetDelta), ts: h.FirstTimestamp + r.TimestampDelta,
				key: string(r.Key), value: string(r.Value), tombstone: r.Value == nil}
			if lr.offset > h.LastOffset() {
				t.Fatalf("record offset %d beyond batch last offset %d", lr.offset, h.LastOffset())
			}
			out = append(out, lr)
		}
		if it.Err() != nil {
			t.Fatalf("batch at %d: %v", h.BaseOffset, it.Err())
		}
	}
	return out
}

// latestByKey returns each key's last record.
func latestByKey(recs []logRecord) map[string]logRecord {
	m := map[string]logRecord{}
	for _, r := range recs {
		m[r.key] = r
	}
	return m
}

// compactConfig is a compacted log with small segments.
func compactConfig() Config {
	c := smallConfig()
	c.Compact, c.Delete = true, false
	c.SegmentBytes = 64 << 10
	c.MaxIndexBytes = 64 << 10
	c.MinCleanableDirtyRatio = 0
	return c
}

// rollNow closes the active segment by appending a sentinel record after
// the segment's age limit, so everything before it becomes cleanable.
func rollNow(t testing.TB, l *Log, clk *fakeClock) {
	t.Helper()
	cfg := l.Config()
	clk.Advance(time.Duration(cfg.SegmentMs)*time.Millisecond + time.Hour)
	ts := clk.Now().UnixMilli()
	if _, err := l.Append(keyedBatch(t, 0, ts, noProducer, kv{"~sentinel", []byte("x")}), 1, -1); err != nil {
		t.Fatal(err)
	}
}

// cleanAll cleans until the whole cleanable range is mapped.
func cleanAll(t testing.TB, c *Cleaner, l *Log) []CleanResult {
	t.Helper()
	var out []CleanResult
	for i := 0; ; i++ {
		res, err := c.Clean(context.Background(), l, 1<<62)
		if err != nil {
			t.Fatalf("clean: %v", err)
		}
		out = append(out, res)
		if res.Segments == 0 || l.CleanerStats().CleanableBytes == 0 || i > 1000 {
			return out
		}
	}
}

// leftovers lists files of interrupted cleans in dir.
func leftovers(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		for _, suf := range []string{cleanedSuffix, swapSuffix, deletedSuffix} {
			if strings.HasSuffix(e.Name(), suf) {
				out = append(out, filepath.Join(dir, e.Name()))
			}
		}
	}
	return out
}

// checkIndexes reads at the base offset of every batch and checks the read
// starts there, which fails if an index points anywhere else.
func checkReadsAtEveryBatch(t testing.TB, l *Log) {
	t.Helper()
	for _, b := range readAllBatches(t, l) {
		h, _ := record.ParseHeader(b)
		for _, off := range []int64{h.BaseOffset, h.LastOffset()} {
			sl, err := l.Read(off, 1<<20, 1<<62, true)
			if err != nil {
				t.Fatalf("read at %d: %v", off, err)
			}
			got, err := sl.ReadAll(nil)
			sl.Release()
			if err != nil || len(got) < record.HeaderLen || record.BaseOffsetOf(got) != h.BaseOffset {
				t.Fatalf("read at %d did not start at batch %d (err %v)", off, h.BaseOffset, err)
			}
		}
	}
}

func value(key string, i int) []byte { return []byte(fmt.Sprintf("%s=v%d", key, i)) }
