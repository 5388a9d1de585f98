package metadata

import (
	"reflect"
	"strings"
	"testing"
)

func replayAll(t *testing.T, base *Image, recs ...Record) (*Image, *Delta) {
	t.Helper()
	d := NewDelta(base)
	for _, r := range recs {
		if err := d.Replay(r); err != nil {
			t.Fatalf("replay %T: %v", r, err)
		}
	}
	d.SetOffset(base.Offset+1, 1)
	return d.Apply(), d
}

// topicRecords creates topic name with id and one partition per replica set,
// the first replica leading.
func topicRecords(name string, id [16]byte, replicas ...[]int32) []Record {
	recs := []Record{&TopicRecord{Name: name, TopicID: id}}
	for i, rs := range replicas {
		recs = append(recs, &PartitionRecord{
			PartitionID: int32(i), TopicID: id, Replicas: rs, ISR: rs, Leader: rs[0],
		})
	}
	return recs
}

func register(id int32, epoch int64) *RegisterBrokerRecord {
	return &RegisterBrokerRecord{
		BrokerID: id, BrokerEpoch: epoch, Fenced: true, IncarnationID: uuid(byte(id)),
		EndPoints: []BrokerEndpoint{{Name: "PLAINTEXT", Host: "localhost", Port: 9092 + uint16(id)}},
		Features:  []BrokerFeature{{Name: MetadataVersionFeature, MinSupportedVersion: 1, MaxSupportedVersion: 25}},
	}
}

func change(id [16]byte, p int32, f func(*PartitionChangeRecord)) *PartitionChangeRecord {
	r := NewPartitionChangeRecord(id, p)
	f(r)
	return r
}

func baseImage(t *testing.T) *Image {
	t.Helper()
	recs := []Record{
		&FeatureLevelRecord{Name: MetadataVersionFeature, FeatureLevel: 25},
		register(1, 10), register(2, 20), register(3, 30),
		&ConfigRecord{ResourceType: ConfigResourceTopic, ResourceName: "a", Name: "retention.ms", Value: strp("1000")},
	}
	recs = append(recs, topicRecords("a", uuid(0xa0), []int32{1, 2}, []int32{2, 3}, []int32{3, 1})...)
	recs = append(recs, topicRecords("b", uuid(0xb0), []int32{1})...)
	recs = append(recs, topicRecords("c", uuid(0xc0), []int32{2})...)
	img, _ := replayAll(t, Empty(), recs...)
	return img
}

func TestDeltaReplay(t *testing.T) {
	a, b := uuid(0xa0), uuid(0xb0)
	tests := []struct {
		name    string
		recs    []Record
		wantErr string
		check   func(t *testing.T, old, img *Image, c TopicChanges)
	}{{
		name: "create topic",
		recs: topicRecords("d", uuid(0xd0), []int32{1, 2}, []int32{2, 3}),
		check: func(t *testing.T, old, img *Image, c TopicChanges) {
			d := img.Topics.ByName("d")
			if d == nil || img.Topics.ByID(uuid(0xd0)) != d || img.Topics.Len() != 4 || len(d.Partitions) != 2 {
				t.Fatalf("topic d: %+v, len %d", d, img.Topics.Len())
			}
			if p := d.Partition(1); p.ID != 1 || p.Leader != 2 || !reflect.DeepEqual(p.ISR, []int32{2, 3}) {
				t.Fatalf("partition 1: %+v", p)
			}
			if len(c.Created) != 1 || c.Created[0] != d || len(c.Changed)+len(c.Deleted) != 0 {
				t.Fatalf("changes %+v", c)
			}
		},
	}, {
		name: "leader change bumps both epochs",
		recs: []Record{change(a, 0, func(r *PartitionChangeRecord) { r.Leader, r.ISR = 2, []int32{2} })},
		check: func(t *testing.T, old, img *Image, c TopicChanges) {
			p := img.Topics.ByID(a).Partitions[0]
			if p.Leader != 2 || p.LeaderEpoch != 1 || p.PartitionEpoch != 1 || !reflect.DeepEqual(p.ISR, []int32{2}) {
				t.Fatalf("partition %+v", p)
			}
			if len(c.Changed) != 1 || c.Changed[0].Topic != img.Topics.ByID(a) || !reflect.DeepEqual(c.Changed[0].Partitions, []int32{0}) {
				t.Fatalf("changes %+v", c)
			}
		},
	}, {
		name: "ISR change bumps only the partition epoch",
		recs: []Record{change(a, 1, func(r *PartitionChangeRecord) { r.ISR = []int32{2} })},
		check: func(t *testing.T, old, img *Image, c TopicChanges) {
			p := img.Topics.ByID(a).Partitions[1]
			if p.Leader != 2 || p.LeaderEpoch != 0 || p.PartitionEpoch != 1 || !reflect.DeepEqual(p.Replicas, []int32{2, 3}) {
				t.Fatalf("partition %+v", p)
			}
		},
	}, {
		name: "same leader still bumps the leader epoch, as in Kafka",
		recs: []Record{
			change(a, 2, func(r *PartitionChangeRecord) { r.Leader = 3 }),
			change(a, 2, func(r *PartitionChangeRecord) { r.Leader = NoLeader; r.LeaderRecoveryState = 1 }),
		},
		check: func(t *testing.T, old, img *Image, c TopicChanges) {
			p := img.Topics.ByID(a).Partitions[2]
			if p.Leader != NoLeader || p.LeaderEpoch != 2 || p.PartitionEpoch != 2 || p.LeaderRecoveryState != 1 {
				t.Fatalf("partition %+v", p)
			}
		},
	}, {
		name: "reassignment fields",
		recs: []Record{change(b, 0, func(r *PartitionChangeRecord) {
			r.Replicas, r.AddingReplicas, r.RemovingReplicas = []int32{1, 2}, []int32{2}, []int32{}
		})},
		check: func(t *testing.T, old, img *Image, c TopicChanges) {
			p := img.Topics.ByID(b).Partitions[0]
			if !reflect.DeepEqual(p.Replicas, []int32{1, 2}) || !reflect.DeepEqual(p.AddingReplicas, []int32{2}) || p.RemovingReplicas != nil {
				t.Fatalf("partition %+v", p)
			}
		},
	}, {
		name: "add a partition",
		recs: []Record{&PartitionRecord{PartitionID: 1, TopicID: b, Replicas: []int32{2}, ISR: []int32{2}, Leader: 2}},
		check: func(t *testing.T, old, img *Image, c TopicChanges) {
			if n := len(img.Topics.ByID(b).Partitions); n != 2 || len(old.Topics.ByID(b).Partitions) != 1 {
				t.Fatalf("%d partitions", n)
			}
			if len(c.Changed) != 1 || !reflect.DeepEqual(c.Changed[0].Partitions, []int32{1}) {
				t.Fatalf("changes %+v", c)
			}
		},
	}, {
		name: "fence, unfence, controlled shutdown",
		recs: []Record{
			&UnfenceBrokerRecord{ID: 1, Epoch: 10},
			&BrokerRegistrationChangeRecord{BrokerID: 2, BrokerEpoch: 20, Fenced: FenceChangeUnfence, InControlledShutdown: 1},
			&BrokerRegistrationChangeRecord{BrokerID: 3, BrokerEpoch: 30, Fenced: FenceChangeUnfence},
			&FenceBrokerRecord{ID: 3, Epoch: 30},
		},
		check: func(t *testing.T, old, img *Image, c TopicChanges) {
			b1, b2, b3 := img.Brokers[1], img.Brokers[2], img.Brokers[3]
			if b1.Fenced || b2.Fenced || !b2.InControlledShutdown || !b3.Fenced {
				t.Fatalf("brokers %+v %+v %+v", b1, b2, b3)
			}
			if !old.Brokers[1].Fenced || old.Brokers[2].InControlledShutdown {
				t.Fatal("base brokers changed")
			}
		},
	}, {
		name: "re-register and unregister",
		recs: []Record{register(1, 11), &UnregisterBrokerRecord{BrokerID: 2, BrokerEpoch: 20}},
		check: func(t *testing.T, old, img *Image, c TopicChanges) {
			if img.Brokers[1].Epoch != 11 || img.Brokers[2] != nil || len(img.Brokers) != 2 || len(old.Brokers) != 3 {
				t.Fatalf("brokers %v", img.Brokers)
			}
			if ep, ok := img.Brokers[1].Endpoint("PLAINTEXT"); !ok || ep.Port != 9093 {
				t.Fatalf("endpoint %+v", ep)
			}
		},
	}, {
		name: "remove topic and its configs",
		recs: []Record{&RemoveTopicRecord{TopicID: a}},
		check: func(t *testing.T, old, img *Image, c TopicChanges) {
			if img.Topics.ByName("a") != nil || img.Topics.ByID(a) != nil || img.Topics.Len() != 2 {
				t.Fatal("topic a still there")
			}
			if img.TopicConfig("a") != nil || old.TopicConfig("a") == nil {
				t.Fatalf("configs %v", img.Configs)
			}
			if len(c.Deleted) != 1 || c.Deleted[0] != old.Topics.ByID(a) || len(c.Created)+len(c.Changed) != 0 {
				t.Fatalf("changes %+v", c)
			}
		},
	}, {
		name: "remove and re-create under the same name",
		recs: append([]Record{&RemoveTopicRecord{TopicID: a}}, topicRecords("a", uuid(0xa1), []int32{1})...),
		check: func(t *testing.T, old, img *Image, c TopicChanges) {
			if tp := img.Topics.ByName("a"); tp == nil || tp.ID != uuid(0xa1) || img.Topics.Len() != 3 {
				t.Fatalf("topic a: %+v", tp)
			}
			if len(c.Deleted) != 1 || len(c.Created) != 1 || c.Created[0].ID != uuid(0xa1) {
				t.Fatalf("changes %+v", c)
			}
		},
	}, {
		name: "create then remove in one delta",
		recs: append(topicRecords("d", uuid(0xd0), []int32{1}), &RemoveTopicRecord{TopicID: uuid(0xd0)}),
		check: func(t *testing.T, old, img *Image, c TopicChanges) {
			if img.Topics.ByName("d") != nil || img.Topics.Len() != 3 || len(c.Created)+len(c.Deleted) != 0 {
				t.Fatalf("changes %+v", c)
			}
		},
	}, {
		name: "configs set and delete",
		recs: []Record{
			&ConfigRecord{ResourceType: ConfigResourceTopic, ResourceName: "b", Name: "cleanup.policy", Value: strp("compact")},
			&ConfigRecord{ResourceType: ConfigResourceTopic, ResourceName: "a", Name: "retention.ms"},
			&ConfigRecord{ResourceType: ConfigResourceBroker, ResourceName: "", Name: "log.retention.ms", Value: strp("5")},
		},
		check: func(t *testing.T, old, img *Image, c TopicChanges) {
			want := map[ConfigResource]map[string]string{
				{ConfigResourceTopic, "b"}: {"cleanup.policy": "compact"},
				{ConfigResourceBroker, ""}: {"log.retention.ms": "5"},
			}
			if !reflect.DeepEqual(img.Configs, want) || old.TopicConfig("a")["retention.ms"] != "1000" {
				t.Fatalf("configs %v, base %v", img.Configs, old.Configs)
			}
		},
	}, {
		name: "features and producer ids",
		recs: []Record{
			&FeatureLevelRecord{Name: "transaction.version", FeatureLevel: 2},
			&FeatureLevelRecord{Name: "transaction.version", FeatureLevel: 0},
			&FeatureLevelRecord{Name: "group.version", FeatureLevel: 1},
			&ProducerIdsRecord{BrokerID: 1, BrokerEpoch: 10, NextProducerID: 1000},
			&NoOpRecord{},
		},
		check: func(t *testing.T, old, img *Image, c TopicChanges) {
			want := map[string]int16{MetadataVersionFeature: 25, "group.version": 1}
			if !reflect.DeepEqual(img.Features, want) || img.NextProducerID != 1000 || len(old.Features) != 1 {
				t.Fatalf("features %v, next pid %d", img.Features, img.NextProducerID)
			}
		},
	},
		{name: "partition of unknown topic", recs: []Record{&PartitionRecord{TopicID: uuid(0xee)}}, wantErr: "unknown topic"},
		{name: "change of unknown partition", recs: []Record{change(a, 3, func(*PartitionChangeRecord) {})}, wantErr: "no partition 3"},
		{name: "partition gap", recs: []Record{&PartitionRecord{TopicID: b, PartitionID: 2}}, wantErr: "cannot add partition 2"},
		{name: "duplicate name", recs: []Record{&TopicRecord{Name: "a", TopicID: uuid(0xee)}}, wantErr: "topic a already exists"},
		{name: "duplicate id", recs: []Record{&TopicRecord{Name: "z", TopicID: b}}, wantErr: "already exists"},
		{name: "remove unknown topic", recs: []Record{&RemoveTopicRecord{TopicID: uuid(0xee)}}, wantErr: "unknown topic"},
		{name: "fence unknown broker", recs: []Record{&FenceBrokerRecord{ID: 9}}, wantErr: "unknown broker 9"},
		{name: "stale broker epoch", recs: []Record{&UnfenceBrokerRecord{ID: 1, Epoch: 9}}, wantErr: "epoch 10, record has 9"},
		{name: "unregister unknown", recs: []Record{&UnregisterBrokerRecord{BrokerID: 7}}, wantErr: "unknown broker 7"},
		{name: "bad fence value", recs: []Record{&BrokerRegistrationChangeRecord{BrokerID: 1, BrokerEpoch: 10, Fenced: 3}}, wantErr: "fenced change 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := baseImage(t)
			before := snapshotBytes(old)
			d := NewDelta(old)
			var err error
			for _, r := range tt.recs {
				if err = d.Replay(r); err != nil {
					break
				}
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d.SetOffset(old.Offset+1, 2)
			img := d.Apply()
			if img.Offset != old.Offset+1 || img.Epoch != 2 {
				t.Fatalf("offset %d epoch %d", img.Offset, img.Epoch)
			}
			checkIndex(t, img)
			tt.check(t, old, img, d.ChangedTopics())
			if after := snapshotBytes(old); string(after) != string(before) {
				t.Fatal("base image changed")
			}
		})
	}
}

func TestReplayAfterApply(t *testing.T) {
	d := NewDelta(Empty())
	d.Apply()
	if err := d.Replay(&NoOpRecord{}); err == nil {
		t.Fatal("replay after apply succeeded")
	}
}

// snapshotBytes encodes everything an image holds, to detect changes to it.
func snapshotBytes(img *Image) []byte {
	b := AppendRecordBatch(nil, img.Offset, img.Epoch, 0, img.Records())
	return b
}

// checkIndex verifies the two topic indexes agree with each other and Len.
func checkIndex(t *testing.T, img *Image) {
	t.Helper()
	n := 0
	img.Topics.Range(func(tp *Topic) bool {
		n++
		if img.Topics.ByName(tp.Name) != tp || img.Topics.ByID(tp.ID) != tp {
			t.Fatalf("topic %s indexed inconsistently", tp.Name)
		}
		for i, p := range tp.Partitions {
			if p == nil || p.ID != int32(i) {
				t.Fatalf("topic %s partition %d: %+v", tp.Name, i, p)
			}
		}
		return true
	})
	if n != img.Topics.Len() {
		t.Fatalf("Len %d, Range saw %d", img.Topics.Len(), n)
	}
}
