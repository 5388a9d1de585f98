package metadata

import (
	"reflect"
	"testing"
)

func TestApplySharesUntouched(t *testing.T) {
	old := baseImage(t)
	a, b, c := uuid(0xa0), uuid(0xb0), uuid(0xc0)
	img, _ := replayAll(t, old, change(a, 1, func(r *PartitionChangeRecord) { r.Leader = 3 }))

	if img.Topics.ByID(b) != old.Topics.ByID(b) || img.Topics.ByName("c") != old.Topics.ByID(c) {
		t.Fatal("untouched topics were copied")
	}
	na, oa := img.Topics.ByID(a), old.Topics.ByID(a)
	if na == oa {
		t.Fatal("changed topic shares its Topic with the base")
	}
	if na.Partitions[0] != oa.Partitions[0] || na.Partitions[2] != oa.Partitions[2] {
		t.Fatal("untouched partitions were copied")
	}
	if na.Partitions[1] == oa.Partitions[1] || oa.Partitions[1].Leader != 2 || na.Partitions[1].Leader != 3 {
		t.Fatalf("partition 1: old %+v new %+v", oa.Partitions[1], na.Partitions[1])
	}
	same := func(x, y any) bool { return reflect.ValueOf(x).Pointer() == reflect.ValueOf(y).Pointer() }
	if !same(img.Brokers, old.Brokers) || !same(img.Configs, old.Configs) || !same(img.Features, old.Features) {
		t.Fatal("untouched maps were copied")
	}
	for name, br := range old.Brokers {
		if img.Brokers[name] != br {
			t.Fatalf("broker %d copied", name)
		}
	}

	// A delta that touches no topic shares the whole index.
	img2, _ := replayAll(t, img, &NoOpRecord{})
	if img2.Topics != img.Topics {
		t.Fatal("topic index copied by a delta without topic changes")
	}
}

func TestRecordsRoundTrip(t *testing.T) {
	img, _ := replayAll(t, baseImage(t),
		&FeatureLevelRecord{Name: "group.version", FeatureLevel: 1},
		&FeatureLevelRecord{Name: "a.feature", FeatureLevel: 3},
		&BrokerRegistrationChangeRecord{BrokerID: 2, BrokerEpoch: 20, Fenced: FenceChangeUnfence, InControlledShutdown: 1},
		&RegisterBrokerRecord{BrokerID: 4, BrokerEpoch: 40, Rack: strp("r"), LogDirs: [][16]byte{uuid(4)}},
		change(uuid(0xa0), 0, func(r *PartitionChangeRecord) {
			r.Leader, r.ISR, r.LeaderRecoveryState = 2, []int32{2}, 1
			r.AddingReplicas, r.RemovingReplicas = []int32{3}, []int32{1}
		}),
		&ConfigRecord{ResourceType: ConfigResourceBroker, ResourceName: "1", Name: "x", Value: strp("")},
		&ProducerIdsRecord{NextProducerID: 7000},
	)
	recs := img.Records()
	if fl, ok := recs[0].(*FeatureLevelRecord); !ok || fl.Name != MetadataVersionFeature {
		t.Fatalf("first record %#v, want metadata.version", recs[0])
	}

	// Through the bytes, as a snapshot would go.
	_, decoded, _, err := DecodeBatch(AppendRecordBatch(nil, img.Offset, img.Epoch, 0, recs))
	if err != nil {
		t.Fatal(err)
	}
	d := NewDelta(Empty())
	for _, r := range decoded {
		if err := d.Replay(r); err != nil {
			t.Fatal(err)
		}
	}
	d.SetOffset(img.Offset, img.Epoch)
	got := d.Apply()
	checkIndex(t, got)
	assertImagesEqual(t, got, img)
}

func assertImagesEqual(t *testing.T, got, want *Image) {
	t.Helper()
	topics := func(img *Image) map[[16]byte]*Topic {
		m := map[[16]byte]*Topic{}
		img.Topics.Range(func(tp *Topic) bool { m[tp.ID] = tp; return true })
		return m
	}
	switch {
	case got.Offset != want.Offset || got.Epoch != want.Epoch || got.NextProducerID != want.NextProducerID:
		t.Fatalf("offset/epoch/pid %d/%d/%d, want %d/%d/%d", got.Offset, got.Epoch, got.NextProducerID,
			want.Offset, want.Epoch, want.NextProducerID)
	case !reflect.DeepEqual(got.Features, want.Features):
		t.Fatalf("features %v, want %v", got.Features, want.Features)
	case !reflect.DeepEqual(got.Brokers, want.Brokers):
		t.Fatalf("brokers differ:\n got %v\nwant %v", got.Brokers, want.Brokers)
	case !reflect.DeepEqual(got.Configs, want.Configs):
		t.Fatalf("configs %v, want %v", got.Configs, want.Configs)
	case !reflect.DeepEqual(topics(got), topics(want)):
		t.Fatal("topics differ")
	}
}
