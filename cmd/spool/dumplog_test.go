package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"spool/record"
)

// A segment holding a zstd batch that inflates past record.MaxInflated is
// refused at that batch, named by its offset, after the batches before it
// are decoded, and without the tool allocating what the batch claims.
func TestDumpLogRefusesBatchInflatingPastTheLimit(t *testing.T) {
	var z bytes.Buffer
	w, err := zstd.NewWriter(&z, zstd.WithWindowSize(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range record.MaxInflated>>20 + 8 {
		w.Write(zeros)
	}
	w.Close()
	ok, err := record.Compress(nil, record.CompressionZstd, record.AppendRecord(nil, record.Record{Key: []byte("k"), Value: []byte("v")}), false)
	if err != nil {
		t.Fatal(err)
	}
	h := record.Header{Magic: 2, Attributes: int16(record.CompressionZstd), NumRecords: 1, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
	seg := record.AppendBatch(nil, h, ok)
	h.BaseOffset, h.LastOffsetDelta, h.NumRecords = 1, 9, 10
	seg = record.AppendBatch(seg, h, z.Bytes())
	path := filepath.Join(t.TempDir(), "00000000000000000000.log")
	if err := os.WriteFile(path, seg, 0o644); err != nil {
		t.Fatal(err)
	}

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	d, err := dumpFile(path, true)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Batches) != 1 || len(d.Batches[0].Records) != 1 {
		t.Fatalf("want the good batch before the bomb decoded, got %+v", d.Batches)
	}
	if !strings.Contains(d.Problem, "batch at offset 1") || !strings.Contains(d.Problem, "inflates beyond") {
		t.Fatalf("problem %q does not name the batch and the limit", d.Problem)
	}
	t.Log(d.Problem, (after.TotalAlloc-before.TotalAlloc)>>20, "MiB")
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Fatalf("dump-log allocated %d MiB for a batch it refused", alloc>>20)
	}
}
