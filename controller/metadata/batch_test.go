package metadata

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"spool/record"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func sampleRecords() []Record {
	return []Record{
		&FeatureLevelRecord{Name: MetadataVersionFeature, FeatureLevel: 25},
		&TopicRecord{Name: "orders", TopicID: uuid(1)},
		&PartitionRecord{TopicID: uuid(1), Replicas: []int32{1}, ISR: []int32{1}, Leader: 1},
		&NoOpRecord{},
	}
}

// kmsgRecords splits a batch's records with kmsg, an independent reader of
// the v2 format.
func kmsgRecords(t *testing.T, b []byte) (kmsg.RecordBatch, []kmsg.Record) {
	t.Helper()
	var batch kmsg.RecordBatch
	if err := batch.ReadFrom(b); err != nil {
		t.Fatalf("kmsg batch: %v", err)
	}
	var recs []kmsg.Record
	rest := batch.Records
	for len(rest) > 0 {
		l, n := kbin.Varint(rest)
		var r kmsg.Record
		if err := r.ReadFrom(rest[:n+int(l)]); err != nil {
			t.Fatalf("kmsg record: %v", err)
		}
		recs = append(recs, r)
		rest = rest[n+int(l):]
	}
	return batch, recs
}

func TestRecordBatch(t *testing.T) {
	recs := sampleRecords()
	prefix := []byte("prefix")
	b := AppendRecordBatch(prefix, 42, 3, 1700000000000, recs)
	if !bytes.HasPrefix(b, prefix) {
		t.Fatal("dst prefix lost")
	}
	b = b[len(prefix):]

	kb, krecs := kmsgRecords(t, b)
	if kb.FirstOffset != 42 || kb.PartitionLeaderEpoch != 3 || kb.Magic != 2 || kb.LastOffsetDelta != 0 ||
		kb.NumRecords != int32(len(recs)) || kb.ProducerID != -1 || kb.MaxTimestamp != 1700000000000 {
		t.Fatalf("header %+v", kb)
	}
	if int(kb.Length)+12 != len(b) {
		t.Fatalf("length %d for %d bytes", kb.Length, len(b))
	}
	if crc := record.BatchChecksum(b); uint32(kb.CRC) != crc {
		t.Fatalf("crc %x, want %x", uint32(kb.CRC), crc)
	}
	for i, kr := range krecs {
		if kr.Key != nil || kr.OffsetDelta != 0 || kr.TimestampDelta64 != 0 {
			t.Fatalf("record %d: key %v offsetDelta %d", i, kr.Key, kr.OffsetDelta)
		}
		if want := Encode(nil, recs[i]); !bytes.Equal(kr.Value, want) {
			t.Fatalf("record %d value %x, want %x", i, kr.Value, want)
		}
	}

	hdr, got, ctrl, err := DecodeBatch(b)
	if err != nil || ctrl != nil {
		t.Fatalf("decode: %v, control %v", err, ctrl)
	}
	if hdr.BaseOffset != 42 || hdr.PartitionLeaderEpoch != 3 || hdr.IsControl() {
		t.Fatalf("header %+v", hdr)
	}
	for i := range recs {
		if recs[i].Version() != got[i].Version() || !bytes.Equal(Encode(nil, recs[i]), Encode(nil, got[i])) {
			t.Fatalf("record %d: got %#v, want %#v", i, got[i], recs[i])
		}
	}
}

func TestControlBatch(t *testing.T) {
	b := AppendControlBatch(nil, 7, 2, 99, ControlConfChange, []byte{0xaa, 0xbb})
	kb, krecs := kmsgRecords(t, b)
	if kb.Attributes != 0x20 || len(krecs) != 1 || !bytes.Equal(krecs[0].Key, []byte{0, 0, 0x7f, 0x01}) {
		t.Fatalf("batch %+v records %+v", kb, krecs)
	}
	hdr, recs, ctrl, err := DecodeBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	want := &ControlRecord{Version: 0, Type: ControlConfChange, Value: []byte{0xaa, 0xbb}}
	if !hdr.IsControl() || recs != nil || !reflect.DeepEqual(ctrl, want) || hdr.BaseOffset != 7 {
		t.Fatalf("hdr %+v recs %v control %+v", hdr, recs, ctrl)
	}
	_, _, ctrl, err = DecodeBatch(AppendControlBatch(nil, 8, 2, 99, ControlLeaderChange, nil))
	if err != nil || ctrl.Type != ControlLeaderChange || len(ctrl.Value) != 0 {
		t.Fatalf("leader change: %+v, %v", ctrl, err)
	}
}

func TestDecodeBatchErrors(t *testing.T) {
	good := AppendRecordBatch(nil, 1, 1, 1, sampleRecords())
	recrc := func(b []byte) []byte {
		record.SetCRC(b)
		return b
	}
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"short", good[:30], "shorter than a header"},
		{"truncated", good[:len(good)-1], "length field"},
		{"crc", mutate(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), "CRC"},
		{"magic", mutate(func(b []byte) []byte { b[16] = 1; return b }), "magic"},
		{"compressed", mutate(func(b []byte) []byte { b[22] |= 1; return recrc(b) }), "compressed"},
		{"count", mutate(func(b []byte) []byte { b[60]++; return recrc(b) }), "record 4"},
		{"bad frame", mutate(func(b []byte) []byte { b[67] = 5; return recrc(b) }), "record 0: decode metadata record: unknown frame version 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := DecodeBatch(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
