package record

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// spec describes a batch for tests.
type spec struct {
	records   int
	valueSize int
	firstTs   int64
	tsStep    int64
	codec     int8
	xerial    bool
	control   bool
}

// build encodes a batch with kmsg's record encoder, so the tests check
// this package against a second implementation of the format.
func build(t testing.TB, sp spec) []byte {
	t.Helper()
	var recs []byte
	maxTs := sp.firstTs
	for i := 0; i < sp.records; i++ {
		r := kmsg.Record{
			TimestampDelta64: int64(i) * sp.tsStep,
			OffsetDelta:      int32(i),
			Key:              []byte{byte(i)},
			Value:            bytes.Repeat([]byte{byte('a' + i%26)}, sp.valueSize),
		}
		r.Length = int32(len(r.AppendTo(nil)) - 1)
		recs = r.AppendTo(recs)
		maxTs = max(maxTs, sp.firstTs+int64(i)*sp.tsStep)
	}
	if sp.codec != CompressionNone {
		var err error
		if recs, err = Compress(nil, sp.codec, recs, sp.xerial); err != nil {
			t.Fatal(err)
		}
	}
	attrs := int16(sp.codec)
	if sp.control {
		attrs |= AttrControl
	}
	b := kmsg.RecordBatch{
		Magic: 2, Attributes: attrs, LastOffsetDelta: int32(sp.records - 1),
		FirstTimestamp: sp.firstTs, MaxTimestamp: maxTs,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1,
		NumRecords: int32(sp.records), Records: recs,
	}
	b.Length = int32(HeaderLen - 12 + len(recs))
	out := b.AppendTo(nil)
	SetCRC(out)
	return out
}
