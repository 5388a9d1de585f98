package record

import "testing"

// FuzzBatch feeds arbitrary bytes to everything that reads a batch from
// outside: no input may panic, and an accepted batch is the size it says.
func FuzzBatch(f *testing.F) {
	f.Add(build(f, spec{records: 2, valueSize: 5}))
	f.Add(build(f, spec{records: 3, valueSize: 40, codec: CompressionGzip}))
	f.Add(build(f, spec{records: 3, valueSize: 40, codec: CompressionSnappy, xerial: true}))
	f.Add(build(f, spec{records: 3, valueSize: 40, codec: CompressionLZ4}))
	f.Add(build(f, spec{records: 3, valueSize: 40, codec: CompressionZstd}))
	f.Add(AppendMarker(nil, 1, 2, true, 3, 4))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		// The inflaters read the headers of compressed data before any
		// checksum vouches for it.
		for _, codec := range []int8{CompressionGzip, CompressionSnappy, CompressionLZ4, CompressionZstd} {
			_, _ = Decompress(nil, codec, b)
			if len(b) > HeaderLen {
				_, _ = Decompress(nil, codec, b[HeaderLen:])
			}
		}
		h, err := Validate(b)
		_ = Split(b, func([]byte, Header) error { return nil })
		_, _ = ParseControl(b)
		if err != nil {
			return
		}
		if h.TotalSize() != len(b) {
			t.Fatalf("accepted batch of wrong size")
		}
		recs := b[HeaderLen:]
		if h.Compression() != CompressionNone {
			if recs, err = Decompress(nil, h.Compression(), recs); err != nil {
				return
			}
		}
		it := NewIter(recs, h.NumRecords)
		for _, ok := it.Next(); ok; _, ok = it.Next() {
		}
	})
}
