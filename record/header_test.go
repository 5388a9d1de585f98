package record

import (
	"errors"
	"testing"
)

func TestParseAndValidate(t *testing.T) {
	b := build(t, spec{records: 5, valueSize: 10, firstTs: 1000, tsStep: 2})
	h, err := Validate(b)
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
	if BaseOffsetOf(b) != 0 || SizeOf(b) != int64(len(b)) || LastOffsetOf(b) != 4 || MaxTimestampOf(b) != 1008 {
		t.Fatalf("field readers disagree with the header")
	}
	c := build(t, spec{records: 1, control: true, codec: CompressionZstd})
	hc, err := Validate(c)
	if err != nil || !hc.IsControl() || hc.Compression() != CompressionZstd {
		t.Fatalf("control batch: %+v %v", hc, err)
	}
}

func TestValidateRejects(t *testing.T) {
	good := build(t, spec{records: 3, valueSize: 8, firstTs: 1})
	cases := []struct {
		name   string
		mutate func([]byte) []byte
		want   error
	}{
		{"short", func(b []byte) []byte { return b[:40] }, ErrCorrupt},
		{"magic", func(b []byte) []byte { b[magicPos] = 1; return b }, ErrUnsupportedMagic},
		{"crc", func(b []byte) []byte { b[len(b)-1] ^= 0xff; return b }, ErrCorrupt},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, ErrCorrupt},
		{"trailing", func(b []byte) []byte { return append(b, 0) }, ErrCorrupt},
		{"length", func(b []byte) []byte { b[batchLengthPos+3] = 10; return b }, ErrCorrupt},
		{"delta", func(b []byte) []byte { b[lastDeltaPos] = 0x80; return b }, ErrCorrupt},
		{"count", func(b []byte) []byte { b[numRecordsPos+3] = 9; return b }, ErrCorrupt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.mutate(append([]byte(nil), good...))
			if _, err := Validate(b); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestPatchOutsideCRC(t *testing.T) {
	b := build(t, spec{records: 2, valueSize: 4, firstTs: 50})
	SetBaseOffset(b, 12345)
	SetPartitionLeaderEpoch(b, 7)
	h, err := Validate(b)
	if err != nil {
		t.Fatalf("patched batch invalid: %v", err)
	}
	if h.BaseOffset != 12345 || h.PartitionLeaderEpoch != 7 {
		t.Fatalf("patch lost: %+v", h)
	}
	SetLogAppendTime(b, 99999)
	if h, err = Validate(b); err != nil {
		t.Fatalf("CRC not recomputed: %v", err)
	}
	if !h.LogAppendTime() || h.MaxTimestamp != 99999 || h.FirstTimestamp != 50 {
		t.Fatalf("log append time not applied: %+v", h)
	}
	SetProducerID(b, 77)
	if h, err = Validate(b); err != nil || h.ProducerID != 77 {
		t.Fatalf("producer id patch: %+v %v", h, err)
	}
}

func TestSplit(t *testing.T) {
	a := build(t, spec{records: 1, valueSize: 3})
	b := build(t, spec{records: 4, valueSize: 30})
	set := append(append([]byte(nil), a...), b...)
	var sizes []int
	err := Split(set, func(batch []byte, h Header) error {
		sizes = append(sizes, len(batch))
		return nil
	})
	if err != nil || len(sizes) != 2 || sizes[0] != len(a) || sizes[1] != len(b) {
		t.Fatalf("split: %v %v", sizes, err)
	}
	for _, cut := range []int{1, 30, HeaderLen + 1, len(b) - 1} {
		partial := set[:len(a)+cut]
		if err := Split(partial, func([]byte, Header) error { return nil }); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("partial tail of %d bytes: %v", cut, err)
		}
	}
}

func TestHelpersDoNotAllocate(t *testing.T) {
	b := build(t, spec{records: 10, valueSize: 100})
	allocs := testing.AllocsPerRun(100, func() {
		SetBaseOffset(b, 1)
		SetPartitionLeaderEpoch(b, 1)
		SetLogAppendTime(b, 5)
		if _, err := Validate(b); err != nil {
			t.Fatal(err)
		}
		_ = Split(b, func([]byte, Header) error { return nil })
		it := NewIter(b[HeaderLen:], 10)
		for _, ok := it.Next(); ok; _, ok = it.Next() {
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations", allocs)
	}
}

// TestEncodeMatchesKmsg checks the one encoder against kmsg's: the same
// header and records give the same bytes.
func TestEncodeMatchesKmsg(t *testing.T) {
	want := build(t, spec{records: 7, valueSize: 33, firstTs: 123, tsStep: 5})
	h, err := Validate(want)
	if err != nil {
		t.Fatal(err)
	}
	var recs []byte
	it := NewIter(want[HeaderLen:], h.NumRecords)
	for r, ok := it.Next(); ok; r, ok = it.Next() {
		recs = AppendRecord(recs, r)
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	if got := AppendBatch(nil, h, recs); string(got) != string(want) {
		t.Fatalf("re-encoded batch differs:\n%x\n%x", got, want)
	}
}
