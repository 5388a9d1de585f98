package metadata

import "github.com/twmb/franz-go/pkg/kbin"

// Sentinels of PartitionChangeRecord.Leader (and of Partition.Leader for
// NoLeader).
const (
	NoLeader       int32 = -1
	NoLeaderChange int32 = -2
)

// NoLeaderRecoveryChange is PartitionChangeRecord.LeaderRecoveryState when
// the state does not change.
const NoLeaderRecoveryChange int8 = -1

// PartitionChangeRecord (type 5, versions 0-2) changes some fields of a
// partition. Every changeable field is tagged and has a "no change" value:
// nil for the slices, NoLeaderChange for Leader and NoLeaderRecoveryChange for
// LeaderRecoveryState. Those two are not Go's zero values, so build the
// record with NewPartitionChangeRecord.
type PartitionChangeRecord struct {
	versionPin
	PartitionID            int32
	TopicID                [16]byte
	ISR                    []int32    // tag 0
	Leader                 int32      // tag 1; NoLeader is "now leaderless"
	Replicas               []int32    // tag 2
	RemovingReplicas       []int32    // tag 3
	AddingReplicas         []int32    // tag 4
	LeaderRecoveryState    int8       // tag 5
	EligibleLeaderReplicas []int32    // v2+, tag 6
	LastKnownELR           []int32    // v2+, tag 7
	Directories            [][16]byte // v1+, tag 8
	UnknownTags            []Tag
}

// NewPartitionChangeRecord returns a record that changes nothing yet.
func NewPartitionChangeRecord(topicID [16]byte, partition int32) *PartitionChangeRecord {
	return &PartitionChangeRecord{
		PartitionID:         partition,
		TopicID:             topicID,
		Leader:              NoLeaderChange,
		LeaderRecoveryState: NoLeaderRecoveryChange,
	}
}

func (*PartitionChangeRecord) Type() int16 { return TypePartitionChange }

// Version is 1, what Kafka 4.0 writes without ELR, or 2 when an ELR field is
// set, unless pinned.
func (r *PartitionChangeRecord) Version() int16 {
	if r.EligibleLeaderReplicas != nil || r.LastKnownELR != nil {
		return r.pick(2)
	}
	return r.pick(1)
}

func (r *PartitionChangeRecord) AppendTo(dst []byte) []byte {
	v := r.Version()
	dst = kbin.AppendInt32(dst, r.PartitionID)
	dst = kbin.AppendUuid(dst, r.TopicID)
	return appendTags(dst, r.knownTags(v), r.UnknownTags)
}

// knownTags lists the fields that differ from "no change", in tag order.
func (r *PartitionChangeRecord) knownTags(v int16) []Tag {
	var known []Tag
	addInt32s := func(key uint32, s []int32) {
		if s != nil {
			known = append(known, Tag{key, appendInt32s(nil, s)})
		}
	}
	addInt32s(0, r.ISR)
	if r.Leader != NoLeaderChange {
		known = append(known, Tag{1, kbin.AppendInt32(nil, r.Leader)})
	}
	addInt32s(2, r.Replicas)
	addInt32s(3, r.RemovingReplicas)
	addInt32s(4, r.AddingReplicas)
	if r.LeaderRecoveryState != NoLeaderRecoveryChange {
		known = append(known, Tag{5, kbin.AppendInt8(nil, r.LeaderRecoveryState)})
	}
	if v >= 2 {
		addInt32s(6, r.EligibleLeaderReplicas)
		addInt32s(7, r.LastKnownELR)
	}
	if v >= 1 && r.Directories != nil {
		known = append(known, Tag{8, appendUUIDs(nil, r.Directories)})
	}
	return known
}

func (r *PartitionChangeRecord) ReadFrom(b []byte, v int16) error {
	if err := checkVersion(v, 2); err != nil {
		return err
	}
	*r = *NewPartitionChangeRecord([16]byte{}, 0)
	r.SetVersion(v)
	rd := newReader(b)
	r.PartitionID = rd.Int32()
	r.TopicID = rd.Uuid()
	r.UnknownTags = rd.tags(func(key uint32, f *reader) bool {
		return r.readTag(key, v, f)
	})
	return rd.finish()
}

func (r *PartitionChangeRecord) readTag(key uint32, v int16, f *reader) bool {
	switch {
	case key == 0:
		r.ISR = f.int32s(true)
	case key == 1:
		r.Leader = f.Int32()
	case key == 2:
		r.Replicas = f.int32s(true)
	case key == 3:
		r.RemovingReplicas = f.int32s(true)
	case key == 4:
		r.AddingReplicas = f.int32s(true)
	case key == 5:
		r.LeaderRecoveryState = f.Int8()
	case key == 6 && v >= 2:
		r.EligibleLeaderReplicas = f.int32s(true)
	case key == 7 && v >= 2:
		r.LastKnownELR = f.int32s(true)
	case key == 8 && v >= 1:
		r.Directories = f.uuids(true)
	default:
		return false
	}
	return true
}
