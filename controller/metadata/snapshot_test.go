package metadata

import (
	"bytes"
	"reflect"
	"testing"
)

func TestSnapshotRoundTrip(t *testing.T) {
	d := NewDelta(Empty())
	d.Replay(&FeatureLevelRecord{Name: MetadataVersionFeature, FeatureLevel: 25})
	d.Replay(&RegisterBrokerRecord{BrokerID: 1, BrokerEpoch: 5})
	for i := 0; i < 2500; i++ { // several snapshot batches
		id := [16]byte{byte(i), byte(i >> 8), 1}
		d.Replay(&TopicRecord{Name: "t" + string(rune('a'+i%26)) + string(rune('0'+i/26%10)) + string(rune('a'+i/260)), TopicID: id})
		d.Replay(&PartitionRecord{PartitionID: 0, TopicID: id, Replicas: []int32{1}, ISR: []int32{1}, Leader: 1})
	}
	d.SetOffset(41, 3)
	img := d.Apply()
	extra := []ControlRecord{{Type: ControlConfChange, Value: []byte("conf")}}
	var buf bytes.Buffer
	if err := WriteSnapshot(&buf, img, 1000, extra); err != nil {
		t.Fatal(err)
	}
	id := SnapshotID{EndOffset: 42, Epoch: 3}
	got, gotExtra, err := ReadSnapshot(bytes.NewReader(buf.Bytes()), id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Offset != 41 || got.Epoch != 3 || got.Topics.Len() != img.Topics.Len() {
		t.Fatalf("offset %d epoch %d topics %d", got.Offset, got.Epoch, got.Topics.Len())
	}
	if !reflect.DeepEqual(got.Records(), img.Records()) {
		t.Fatal("snapshot image differs from the original")
	}
	if len(gotExtra) != 1 || string(gotExtra[0].Value) != "conf" {
		t.Fatalf("extra %+v", gotExtra)
	}
	// Any truncation is an incomplete snapshot, never a panic or a
	// partial image.
	for _, cut := range []int{0, 5, 61, buf.Len() / 2, buf.Len() - 1} {
		if _, _, err := ReadSnapshot(bytes.NewReader(buf.Bytes()[:cut]), id); err == nil {
			t.Fatalf("snapshot cut at %d read without error", cut)
		}
	}
	if name := id.FileName(); name != "00000000000000000042-0000000003.checkpoint" {
		t.Fatal(name)
	}
	if back, ok := ParseSnapshotFileName(id.FileName()); !ok || back != id {
		t.Fatal(back)
	}
}
