package txn

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// be builds big-endian golden bytes field by field, as Kafka's schemas lay
// them out.
type be struct{ b []byte }

func (w *be) i8(v int8) *be   { w.b = append(w.b, byte(v)); return w }
func (w *be) i16(v int16) *be { w.b = binary.BigEndian.AppendUint16(w.b, uint16(v)); return w }
func (w *be) i32(v int32) *be { w.b = binary.BigEndian.AppendUint32(w.b, uint32(v)); return w }
func (w *be) i64(v int64) *be { w.b = binary.BigEndian.AppendUint64(w.b, uint64(v)); return w }
func (w *be) str(s string) *be {
	w.i16(int16(len(s)))
	w.b = append(w.b, s...)
	return w
}

func TestKeyGolden(t *testing.T) {
	want := (&be{}).i16(0).str("my-txn").b
	if got := Key("my-txn"); !bytes.Equal(got, want) {
		t.Fatalf("key %x, want %x", got, want)
	}
	id, err := DecodeKey(want)
	if err != nil || id != "my-txn" {
		t.Fatalf("decode %q %v", id, err)
	}
	if _, err := DecodeKey((&be{}).i16(1).str("x").b); err == nil {
		t.Fatal("key version 1 accepted")
	}
	if _, err := DecodeKey([]byte{0}); err == nil {
		t.Fatal("truncated key accepted")
	}
}

// TransactionLogValue v0: producer id, epoch, timeout, status, partitions
// (nullable array of topic + partition ids), last update, start.
func TestValueGolden(t *testing.T) {
	tr := &Transit{
		ProducerID: 4242, ProducerEpoch: 7, TimeoutMs: 60_000, State: Ongoing,
		Partitions: []Partition{{"a", 0}, {"a", 3}, {"b", 1}},
		StartMs:    1_700_000_000_000, LastUpdateMs: 1_700_000_000_123,
	}
	want := (&be{}).i16(0).i64(4242).i16(7).i32(60_000).i8(1).
		i32(2).str("a").i32(2).i32(0).i32(3).str("b").i32(1).i32(1).
		i64(1_700_000_000_123).i64(1_700_000_000_000).b
	got := Value(tr)
	if !bytes.Equal(got, want) {
		t.Fatalf("value\n got %x\nwant %x", got, want)
	}
	// kmsg reads it as Kafka's tools would.
	var v kmsg.TxnMetadataValue
	if err := v.ReadFrom(got); err != nil {
		t.Fatal(err)
	}
	if v.ProducerID != 4242 || v.ProducerEpoch != 7 || v.TimeoutMillis != 60_000 || v.State != 1 ||
		len(v.Topics) != 2 || v.Topics[0].Topic != "a" || !slices.Equal(v.Topics[0].Partitions, []int32{0, 3}) ||
		v.LastUpdateTimestamp != 1_700_000_000_123 || v.StartTimestamp != 1_700_000_000_000 {
		t.Fatalf("kmsg decoded %+v", v)
	}

	// An Empty transaction's partitions are a null array.
	empty := &Transit{ProducerID: 1, ProducerEpoch: 0, TimeoutMs: 1000, State: Empty, StartMs: -1, LastUpdateMs: 5}
	want = (&be{}).i16(0).i64(1).i16(0).i32(1000).i8(0).i32(-1).i64(5).i64(-1).b
	if got := Value(empty); !bytes.Equal(got, want) {
		t.Fatalf("empty value\n got %x\nwant %x", got, want)
	}
	// A completed one's are an empty array.
	done := &Transit{ProducerID: 1, ProducerEpoch: 0, TimeoutMs: 1000, State: CompleteCommit, StartMs: 3, LastUpdateMs: 5}
	want = (&be{}).i16(0).i64(1).i16(0).i32(1000).i8(4).i32(0).i64(5).i64(3).b
	if got := Value(done); !bytes.Equal(got, want) {
		t.Fatalf("complete value\n got %x\nwant %x", got, want)
	}
}

func TestValueRoundTrip(t *testing.T) {
	tr := &Transit{ProducerID: 9, ProducerEpoch: 3, TimeoutMs: 500, State: PrepareCommit,
		Partitions: []Partition{{"x", 2}, {"y", 0}}, StartMs: 10, LastUpdateMs: 20}
	x, err := DecodeValue("id", Value(tr))
	if err != nil {
		t.Fatal(err)
	}
	if x.ID != "id" || x.ProducerID != 9 || x.ProducerEpoch != 3 || x.TimeoutMs != 500 || x.State != PrepareCommit ||
		x.StartMs != 10 || x.LastUpdateMs != 20 || !slices.Equal(x.Partitions(), tr.Partitions) ||
		x.LastProducerEpoch != NoEpoch || x.PrevProducerID != NoProducerID {
		t.Fatalf("decoded %+v %v", x, x.Partitions())
	}
	if x, err := DecodeValue("id", nil); x != nil || err != nil {
		t.Fatalf("tombstone: %+v %v", x, err)
	}
	// Kafka 4's flexible v1 is read too, with its tagged fields.
	v := kmsg.NewTxnMetadataValue()
	v.Version, v.ProducerID, v.ProducerEpoch, v.State = 1, 77, 2, 5
	v.PreviousProducerID = 76
	v.Topics = []kmsg.TxnMetadataValueTopic{{Topic: "t", Partitions: []int32{1}}}
	x, err = DecodeValue("v1", v.AppendTo(nil))
	if err != nil || x.ProducerID != 77 || x.PrevProducerID != 76 || x.State != CompleteAbort {
		t.Fatalf("v1: %+v %v", x, err)
	}
	for name, b := range map[string][]byte{
		"truncated":     Value(tr)[:12],
		"version 2":     (&be{}).i16(2).b,
		"unknown state": (&be{}).i16(0).i64(1).i16(0).i32(1).i8(9).i32(-1).i64(0).i64(0).b,
	} {
		if _, err := DecodeValue("id", b); err == nil {
			t.Fatalf("%s value accepted", name)
		}
	}
}

// Empty values keep no partitions even if a writer put some there.
func TestEmptyValueIgnoresPartitions(t *testing.T) {
	v := kmsg.NewTxnMetadataValue()
	v.State = 0
	v.Topics = []kmsg.TxnMetadataValueTopic{{Topic: "t", Partitions: []int32{1}}}
	x, err := DecodeValue("id", v.AppendTo(nil))
	if err != nil || len(x.Partitions()) != 0 {
		t.Fatalf("%v %v", x.Partitions(), err)
	}
}

func TestLoader(t *testing.T) {
	l := NewLoader()
	apply := func(id string, tr *Transit) {
		t.Helper()
		if err := l.Apply(Key(id), Value(tr)); err != nil {
			t.Fatal(err)
		}
	}
	apply("a", &Transit{ProducerID: 1, State: Empty, StartMs: -1})
	apply("a", &Transit{ProducerID: 1, State: Ongoing, Partitions: []Partition{{"t", 0}}, StartMs: 5})
	apply("b", &Transit{ProducerID: 2, State: PrepareCommit, Partitions: []Partition{{"t", 1}}})
	apply("c", &Transit{ProducerID: 3, State: CompleteAbort})
	apply("c", &Transit{State: Dead}) // tombstone
	apply("d", &Transit{ProducerID: 4, State: PrepareEpochFence, Partitions: []Partition{{"t", 2}}})
	apply("e", &Transit{ProducerID: 5, State: Empty})
	if err := l.Apply(Key("e"), (&be{}).i16(0).i64(5).i16(0).i32(1).i8(6).i32(-1).i64(0).i64(0).b); err != nil {
		t.Fatal(err) // a Dead value, which Kafka never writes
	}
	if err := l.Apply((&be{}).i16(3).str("z").b, []byte("whatever")); err != nil {
		t.Fatalf("unknown key version: %v", err)
	}
	if err := l.Apply(Key("f"), []byte{0, 0, 1}); err == nil {
		t.Fatal("corrupt value accepted")
	}
	txns := l.Txns()
	if len(txns) != 3 || l.Skipped != 1 {
		t.Fatalf("loaded %v, skipped %d", txns, l.Skipped)
	}
	if a := txns["a"]; a.State != Ongoing || a.StartMs != 5 || len(a.Partitions()) != 1 {
		t.Fatalf("a: %+v", a)
	}
	if d := txns["d"]; d.State != Ongoing {
		t.Fatalf("a loaded fence is %v, want Ongoing", d.State)
	}
	prepared := Prepared(txns)
	if len(prepared) != 1 || prepared[0].ID != "b" {
		t.Fatalf("prepared %v", prepared)
	}
}

func TestPartitionForMatchesJava(t *testing.T) {
	for _, tt := range []struct {
		id   string
		want int32
	}{
		{"hello", 22},             // hashCode 99162322
		{"my-txn", 45},            // hashCode -1061187895
		{"polygenelubricants", 0}, // hashCode Integer.MIN_VALUE
		{"tx-😀", 0},               // a surrogate pair: two UTF-16 units
		{"zzzzzz", 14},
		{"", 0},
	} {
		if got := PartitionFor(tt.id, 50); got != tt.want {
			t.Fatalf("%q: %d, want %d", tt.id, got, tt.want)
		}
	}
}
