package storage

import (
	"errors"
	"testing"
)

func TestParseAndValidateBatch(t *testing.T) {
	b := makeBatch(t, batchSpec{records: 5, valueSize: 10, firstTs: 1000, tsStep: 2})
	h, err := ValidateBatch(b)
	if err != nil {
		t.Fatalf("valid batch rejected: %v", err)
	}
	if h.NumRecords != 5 || h.LastOffsetDelta != 4 || h.FirstTimestamp != 1000 || h.MaxTimestamp != 1008 {
		t.Fatalf("header %+v", h)
	}
	if h.TotalSize() != len(b) || h.NextOffset() != 5 || h.LastOffset() != 4 || h.Magic != 2 {
		t.Fatalf("derived values wrong: %+v", h)
	}
	if h.IsControl() || h.IsTransactional() || h.LogAppendTime() || h.Compression() != 0 {
		t.Fatalf("attribute bits wrong: %+v", h)
	}
	c := makeBatch(t, batchSpec{records: 1, control: true, codec: CompressionZstd})
	hc, err := ValidateBatch(c)
	if err != nil || !hc.IsControl() || hc.Compression() != CompressionZstd {
		t.Fatalf("control batch: %+v %v", hc, err)
	}
}

func TestValidateBatchRejects(t *testing.T) {
	good := makeBatch(t, batchSpec{records: 3, valueSize: 8, firstTs: 1})
	cases := []struct {
		name   string
		mutate func([]byte) []byte
		want   error
	}{
		{"short", func(b []byte) []byte { return b[:40] }, ErrCorruptBatch},
		{"magic", func(b []byte) []byte { b[magicPos] = 1; return b }, ErrUnsupportedMagic},
		{"crc", func(b []byte) []byte { b[len(b)-1] ^= 0xff; return b }, ErrCorruptBatch},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, ErrCorruptBatch},
		{"trailing", func(b []byte) []byte { return append(b, 0) }, ErrCorruptBatch},
		{"length", func(b []byte) []byte { b[batchLengthPos+3] = 10; return b }, ErrCorruptBatch},
		{"delta", func(b []byte) []byte { b[lastDeltaPos] = 0x80; return b }, ErrCorruptBatch},
		{"count", func(b []byte) []byte { b[numRecordsPos+3] = 9; return b }, ErrCorruptBatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.mutate(append([]byte(nil), good...))
			if _, err := ValidateBatch(b); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestPatchOutsideCRC(t *testing.T) {
	b := makeBatch(t, batchSpec{records: 2, valueSize: 4, firstTs: 50})
	SetBaseOffset(b, 12345)
	SetPartitionLeaderEpoch(b, 7)
	h, err := ValidateBatch(b)
	if err != nil {
		t.Fatalf("patched batch invalid: %v", err)
	}
	if h.BaseOffset != 12345 || h.PartitionLeaderEpoch != 7 {
		t.Fatalf("patch lost: %+v", h)
	}
	SetLogAppendTime(b, 99999)
	h, err = ValidateBatch(b)
	if err != nil {
		t.Fatalf("CRC not recomputed: %v", err)
	}
	if !h.LogAppendTime() || h.MaxTimestamp != 99999 || h.FirstTimestamp != 50 {
		t.Fatalf("log append time not applied: %+v", h)
	}
}

func TestSplitBatches(t *testing.T) {
	a := makeBatch(t, batchSpec{records: 1, valueSize: 3})
	b := makeBatch(t, batchSpec{records: 4, valueSize: 30})
	set := append(append([]byte(nil), a...), b...)
	var sizes []int
	err := SplitBatches(set, func(batch []byte, h BatchHeader) error {
		sizes = append(sizes, len(batch))
		return nil
	})
	if err != nil || len(sizes) != 2 || sizes[0] != len(a) || sizes[1] != len(b) {
		t.Fatalf("split: %v %v", sizes, err)
	}
	for _, cut := range []int{1, 30, BatchHeaderLen + 1, len(b) - 1} {
		partial := set[:len(a)+cut]
		if err := SplitBatches(partial, func([]byte, BatchHeader) error { return nil }); !errors.Is(err, ErrCorruptBatch) {
			t.Fatalf("partial tail of %d bytes: %v", cut, err)
		}
	}
}

func TestBatchHelpersDoNotAllocate(t *testing.T) {
	b := makeBatch(t, batchSpec{records: 10, valueSize: 100})
	allocs := testing.AllocsPerRun(100, func() {
		SetBaseOffset(b, 1)
		SetPartitionLeaderEpoch(b, 1)
		SetLogAppendTime(b, 5)
		if _, err := ValidateBatch(b); err != nil {
			t.Fatal(err)
		}
		_ = SplitBatches(b, func([]byte, BatchHeader) error { return nil })
	})
	if allocs != 0 {
		t.Fatalf("%v allocations", allocs)
	}
}

func FuzzValidateBatch(f *testing.F) {
	f.Add(makeBatch(f, batchSpec{records: 2, valueSize: 5}))
	f.Add(makeBatch(f, batchSpec{records: 3, valueSize: 40, codec: CompressionGzip}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ValidateBatch(b)
		if err == nil && h.TotalSize() != len(b) {
			t.Fatalf("accepted batch of wrong size")
		}
		_ = SplitBatches(b, func([]byte, BatchHeader) error { return nil })
		if err == nil {
			_, _, _ = findRecord(b, 0, func(int64) bool { return true })
		}
	})
}
