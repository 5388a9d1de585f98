package metadata

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
)

func uuid(b byte) [16]byte {
	var u [16]byte
	for i := range u {
		u[i] = b + byte(i)
	}
	return u
}

func strp(s string) *string { return &s }

var unknownTags = []Tag{{Key: 30, Value: []byte{1, 2, 3}}, {Key: 31, Value: nil}}

// pinned sets the version of records that have several.
func pinned[R interface {
	Record
	SetVersion(int16)
}](r R, v int16) R {
	r.SetVersion(v)
	return r
}

func registerBroker(v int16) Record {
	r := &RegisterBrokerRecord{
		BrokerID: 3, IncarnationID: uuid(1), BrokerEpoch: 77,
		EndPoints: []BrokerEndpoint{
			{Name: "PLAINTEXT", Host: "h1", Port: 9092, SecurityProtocol: 0},
			{Name: "SSL", Host: "h1", Port: 9093, SecurityProtocol: 1, UnknownTags: unknownTags},
		},
		Features:    []BrokerFeature{{Name: "metadata.version", MinSupportedVersion: 7, MaxSupportedVersion: 25}},
		Rack:        strp("r1"),
		Fenced:      true,
		UnknownTags: unknownTags,
	}
	if v >= 1 {
		r.InControlledShutdown = true
	}
	if v >= 2 {
		r.IsMigratingZkBroker = true
	}
	if v >= 3 {
		r.LogDirs = [][16]byte{uuid(2), uuid(3)}
	}
	return pinned(r, v)
}

func partitionRecord(v int16) Record {
	r := &PartitionRecord{
		PartitionID: 4, TopicID: uuid(9), Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2},
		RemovingReplicas: []int32{3}, AddingReplicas: []int32{4}, Leader: 1,
		LeaderRecoveryState: 1, LeaderEpoch: 5, PartitionEpoch: 6,
	}
	if v >= 1 {
		r.Directories = [][16]byte{uuid(4), uuid(5), uuid(6)}
	}
	if v >= 2 {
		r.EligibleLeaderReplicas = []int32{3}
		r.LastKnownELR = []int32{}
	}
	return pinned(r, v)
}

func partitionChange(v int16) Record {
	r := NewPartitionChangeRecord(uuid(9), 4)
	r.ISR = []int32{}
	r.Leader = NoLeader
	r.Replicas = []int32{1, 2}
	r.RemovingReplicas = []int32{3}
	r.AddingReplicas = []int32{4}
	r.LeaderRecoveryState = 0
	r.UnknownTags = unknownTags
	if v >= 1 {
		r.Directories = [][16]byte{uuid(4)}
	}
	if v >= 2 {
		r.EligibleLeaderReplicas = []int32{2}
		r.LastKnownELR = []int32{1}
	}
	return pinned(r, v)
}

func registrationChange(v int16) Record {
	r := &BrokerRegistrationChangeRecord{BrokerID: 2, BrokerEpoch: 10, Fenced: FenceChangeUnfence}
	if v >= 1 {
		r.InControlledShutdown = 1
	}
	if v >= 2 {
		r.LogDirs = [][16]byte{uuid(7)}
	}
	return pinned(r, v)
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
	}{
		{"RegisterBroker v0", registerBroker(0)},
		{"RegisterBroker v1", registerBroker(1)},
		{"RegisterBroker v2", registerBroker(2)},
		{"RegisterBroker v3", registerBroker(3)},
		{"RegisterBroker null rack", pinned(&RegisterBrokerRecord{BrokerID: 1}, 3)},
		{"UnregisterBroker", &UnregisterBrokerRecord{BrokerID: 1, BrokerEpoch: 2, UnknownTags: unknownTags}},
		{"Topic", &TopicRecord{Name: "orders", TopicID: uuid(1)}},
		{"Partition v0", partitionRecord(0)},
		{"Partition v1", partitionRecord(1)},
		{"Partition v2", partitionRecord(2)},
		{"Partition empty arrays", pinned(&PartitionRecord{Leader: -1, LeaderEpoch: -1}, 1)},
		{"Config", &ConfigRecord{ResourceType: ConfigResourceTopic, ResourceName: "t", Name: "retention.ms", Value: strp("1")}},
		{"Config delete", &ConfigRecord{ResourceType: ConfigResourceBroker, ResourceName: "", Name: "x"}},
		{"PartitionChange v0", partitionChange(0)},
		{"PartitionChange v1", partitionChange(1)},
		{"PartitionChange v2", partitionChange(2)},
		{"PartitionChange nothing", pinned(NewPartitionChangeRecord(uuid(1), 0), 1)},
		{"FenceBroker", &FenceBrokerRecord{ID: 1, Epoch: 5}},
		{"UnfenceBroker", &UnfenceBrokerRecord{ID: 1, Epoch: 5}},
		{"RemoveTopic", &RemoveTopicRecord{TopicID: uuid(3)}},
		{"FeatureLevel", &FeatureLevelRecord{Name: MetadataVersionFeature, FeatureLevel: 25}},
		{"ProducerIds", &ProducerIdsRecord{BrokerID: 1, BrokerEpoch: 2, NextProducerID: 5000}},
		{"BrokerRegistrationChange v0", registrationChange(0)},
		{"BrokerRegistrationChange v1", registrationChange(1)},
		{"BrokerRegistrationChange v2", registrationChange(2)},
		{"NoOp", &NoOpRecord{}},
		{"NoOp tags", &NoOpRecord{UnknownTags: unknownTags}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Encode(nil, tt.rec)
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.rec) {
				t.Fatalf("round trip:\n got %#v\nwant %#v", got, tt.rec)
			}
			if again := Encode(nil, got); !bytes.Equal(again, b) {
				t.Fatalf("re-encode differs:\n got %x\nwant %x", again, b)
			}
		})
	}
}

func TestDefaultVersions(t *testing.T) {
	elr := &PartitionRecord{EligibleLeaderReplicas: []int32{}}
	tests := []struct {
		rec  Record
		want int16
	}{
		{&RegisterBrokerRecord{}, 3},
		{&PartitionRecord{}, 1},
		{elr, 2},
		{NewPartitionChangeRecord(uuid(0), 0), 1},
		{&PartitionChangeRecord{LastKnownELR: []int32{1}}, 2},
		{&BrokerRegistrationChangeRecord{}, 2},
		{&TopicRecord{}, 0},
	}
	for _, tt := range tests {
		if got := tt.rec.Version(); got != tt.want {
			t.Errorf("%T: version %d, want %d", tt.rec, got, tt.want)
		}
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExpectedBytes pins encodings worked out by hand from Kafka's schemas.
func TestExpectedBytes(t *testing.T) {
	id := "000102030405060708090a0b0c0d0e0f"
	tests := []struct {
		name string
		rec  Record
		want string
	}{{
		"TopicRecord v0",
		&TopicRecord{Name: "foo", TopicID: uuid(0)},
		"01 02 00" + // frame, type, version
			"04 666f6f" + id + // compact "foo", uuid
			"00", // no tags
	}, {
		"PartitionChangeRecord v1: ISR and leader",
		func() Record {
			r := NewPartitionChangeRecord(uuid(0), 7)
			r.ISR, r.Leader = []int32{1, 2}, 2
			return r
		}(),
		"01 05 01" + "00000007" + id +
			"02" + // two tags
			"00 09 03 00000001 00000002" + // tag 0 ISR: size 9, compact array of 2
			"01 04 00000002", // tag 1 Leader
	}, {
		"RegisterBrokerRecord v3",
		&RegisterBrokerRecord{
			BrokerID: 1, IncarnationID: uuid(0), BrokerEpoch: 5, Fenced: true,
			EndPoints: []BrokerEndpoint{{Name: "PLAINTEXT", Host: "h", Port: 9092}},
			LogDirs:   [][16]byte{uuid(0)},
		},
		"01 00 03" + "00000001" + "00" + id + "0000000000000005" +
			"02" + "0a 504c41494e54455854" + "02 68" + "2384" + "0000" + "00" + // endpoints
			"01" + // no features
			"00" + // null rack
			"01" + "00" + // fenced, not in controlled shutdown
			"01 00 11 02" + id, // tag 0 LogDirs: size 17
	}, {
		"ConfigRecord delete",
		&ConfigRecord{ResourceType: 2, ResourceName: "t", Name: "k"},
		"01 04 00 02 0274 026b 00 00",
	}, {
		"PartitionRecord v1",
		&PartitionRecord{PartitionID: 0, TopicID: uuid(0), Replicas: []int32{1}, ISR: []int32{1}, Leader: 1, LeaderEpoch: 0, PartitionEpoch: 0},
		"01 03 01 00000000" + id + "02 00000001 02 00000001 01 01 00000001 00000000 00000000 01 00",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := unhex(t, tt.want)
			if got := Encode(nil, tt.rec); !bytes.Equal(got, want) {
				t.Fatalf("encode:\n got %x\nwant %x", got, want)
			}
			if _, err := Decode(want); err != nil {
				t.Fatalf("decode: %v", err)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	topic := Encode(nil, &TopicRecord{Name: "foo", TopicID: uuid(0)})
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "frame"},
		{"frame 0", []byte{0, 2, 0}, "frame version 0"},
		{"unknown type", []byte{1, 6, 0}, "unsupported type 6"},
		{"named unknown type", []byte{1, 21, 0}, "ZkMigrationStateRecord"},
		{"bad version", []byte{1, 2, 1, 0}, "unsupported version 1"},
		{"truncated", topic[:len(topic)-3], "truncated"},
		{"trailing", append(append([]byte{}, topic...), 0), "trailing"},
		{"null name", unhex(t, "010200 00 000102030405060708090a0b0c0d0e0f 00"), "null"},
		{"huge array", unhex(t, "010300 00000000 000102030405060708090a0b0c0d0e0f ffffff7f"), "array"},
		{"bad known tag", unhex(t, "010501 00000000 000102030405060708090a0b0c0d0e0f 01 01 02 0000"), "tag 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
