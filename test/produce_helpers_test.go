package test

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"spool/record"

	"github.com/twmb/franz-go/pkg/kgo"
)

// rawRecord is a record for a hand-built batch; a nil key is null.
type rawRecord struct {
	key, value []byte
}

// rawBatch encodes an uncompressed v2 record batch without a producer id,
// with every record at timestamp ts, so tests can send what clients never
// would.
func rawBatch(ts int64, recs ...rawRecord) []byte {
	var body []byte
	for i, r := range recs {
		var rec []byte
		rec = append(rec, 0)
		rec = binary.AppendVarint(rec, 0)
		rec = binary.AppendVarint(rec, int64(i))
		if r.key == nil {
			rec = binary.AppendVarint(rec, -1)
		} else {
			rec = binary.AppendVarint(rec, int64(len(r.key)))
			rec = append(rec, r.key...)
		}
		rec = binary.AppendVarint(rec, int64(len(r.value)))
		rec = append(rec, r.value...)
		rec = binary.AppendVarint(rec, 0)
		body = binary.AppendVarint(body, int64(len(rec)))
		body = append(body, rec...)
	}
	be := binary.BigEndian
	b := make([]byte, 61, 61+len(body))
	be.PutUint32(b[8:], uint32(49+len(body)))
	be.PutUint32(b[12:], 0xffffffff)
	b[16] = 2
	be.PutUint32(b[23:], uint32(len(recs)-1))
	be.PutUint64(b[27:], uint64(ts))
	be.PutUint64(b[35:], uint64(ts))
	be.PutUint64(b[43:], 0xffffffffffffffff)
	be.PutUint16(b[51:], 0xffff)
	be.PutUint32(b[53:], 0xffffffff)
	be.PutUint32(b[57:], uint32(len(recs)))
	b = append(b, body...)
	record.SetCRC(b)
	return b
}

// diskBatch is one batch header read back from a segment file.
type diskBatch struct {
	base, last  int64
	producerID  int64
	baseSeq     int32
	numRecords  int32
	compression int
	crc         uint32 // covers the records, so equal CRCs mean equal content
}

// readDiskLog walks every segment of a partition directory, checking each
// batch's CRC-32C, magic and that offsets follow on without overlap, so a
// test sees what is on disk independently of the broker's read path.
func readDiskLog(t *testing.T, dir string) []diskBatch {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(segs)
	var out []diskBatch
	next := int64(-1)
	for _, seg := range segs {
		raw, err := os.ReadFile(seg)
		if err != nil {
			t.Fatal(err)
		}
		for pos := 0; pos < len(raw); {
			b, n, err := parseDiskBatch(raw[pos:])
			if err != nil {
				t.Fatalf("%s at byte %d: %v", seg, pos, err)
			}
			if next >= 0 && b.base != next {
				t.Fatalf("%s at byte %d: batch at offset %d, want %d", seg, pos, b.base, next)
			}
			next = b.last + 1
			out = append(out, b)
			pos += n
		}
	}
	return out
}

func parseDiskBatch(b []byte) (diskBatch, int, error) {
	be := binary.BigEndian
	if len(b) < 61 {
		return diskBatch{}, 0, fmt.Errorf("%d bytes left, not a header", len(b))
	}
	n := 12 + int(int32(be.Uint32(b[8:])))
	switch {
	case n < 61 || n > len(b):
		return diskBatch{}, 0, fmt.Errorf("batch length %d with %d bytes left", n, len(b))
	case b[16] != 2:
		return diskBatch{}, 0, fmt.Errorf("magic %d", b[16])
	case record.BatchChecksum(b[:n]) != be.Uint32(b[17:]):
		return diskBatch{}, 0, fmt.Errorf("crc mismatch")
	}
	base := int64(be.Uint64(b))
	return diskBatch{
		base: base, last: base + int64(int32(be.Uint32(b[23:]))),
		producerID: int64(be.Uint64(b[43:])), baseSeq: int32(be.Uint32(b[53:])),
		numRecords: int32(be.Uint32(b[57:])), compression: int(b[22] & 7),
		crc: be.Uint32(b[17:]),
	}, n, nil
}

// counterValue is record i's value: a fixed-width counter then filler, so
// a consumer can check both identity and bytes.
func counterValue(i int, size int) []byte {
	v := make([]byte, size)
	copy(v, fmt.Sprintf("%010d|", i))
	for j := 11; j < size; j++ {
		v[j] = byte('a' + (i+j)%26)
	}
	return v
}

func counterOf(v []byte) (int, bool) {
	var i int
	if len(v) < 10 {
		return 0, false
	}
	_, err := fmt.Sscanf(string(v[:10]), "%010d", &i)
	return i, err == nil
}

// consumeAll reads the topic from the start until want records arrived or
// the deadline passed, handing each record to fn.
func consumeAll(t *testing.T, addr, topic string, want int, deadline time.Duration, fn func(*kgo.Record)) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(16<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := ctxT(t, deadline)
	got := 0
	for got < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records before the deadline", got, want)
		}
		fs.EachError(func(tp string, p int32, err error) {
			if !strings.Contains(err.Error(), "context") {
				t.Errorf("fetch %s-%d: %v", tp, p, err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			got++
			fn(r)
		})
	}
}
