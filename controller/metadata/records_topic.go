package metadata

import "github.com/twmb/franz-go/pkg/kbin"

// TopicRecord (type 2, version 0) creates a topic; its partitions follow as
// PartitionRecords.
type TopicRecord struct {
	Name        string
	TopicID     [16]byte
	UnknownTags []Tag
}

func (*TopicRecord) Type() int16    { return TypeTopic }
func (*TopicRecord) Version() int16 { return 0 }

func (r *TopicRecord) AppendTo(dst []byte) []byte {
	dst = appendStr(dst, r.Name)
	dst = kbin.AppendUuid(dst, r.TopicID)
	return appendTags(dst, nil, r.UnknownTags)
}

func (r *TopicRecord) ReadFrom(b []byte, v int16) error {
	if err := checkVersion(v, 0); err != nil {
		return err
	}
	rd := newReader(b)
	r.Name = rd.str()
	r.TopicID = rd.Uuid()
	r.UnknownTags = rd.tags(nil)
	return rd.finish()
}

// RemoveTopicRecord (type 9, version 0) deletes a topic, its partitions and
// its configs.
type RemoveTopicRecord struct {
	TopicID     [16]byte
	UnknownTags []Tag
}

func (*RemoveTopicRecord) Type() int16    { return TypeRemoveTopic }
func (*RemoveTopicRecord) Version() int16 { return 0 }

func (r *RemoveTopicRecord) AppendTo(dst []byte) []byte {
	dst = kbin.AppendUuid(dst, r.TopicID)
	return appendTags(dst, nil, r.UnknownTags)
}

func (r *RemoveTopicRecord) ReadFrom(b []byte, v int16) error {
	if err := checkVersion(v, 0); err != nil {
		return err
	}
	rd := newReader(b)
	r.TopicID = rd.Uuid()
	r.UnknownTags = rd.tags(nil)
	return rd.finish()
}

// PartitionRecord (type 3, versions 0-2) creates a partition or replaces it
// whole.
type PartitionRecord struct {
	versionPin
	PartitionID         int32
	TopicID             [16]byte
	Replicas            []int32
	ISR                 []int32
	RemovingReplicas    []int32
	AddingReplicas      []int32
	Leader              int32
	LeaderRecoveryState int8 // tag 0; 1 while recovering from an unclean election
	LeaderEpoch         int32
	PartitionEpoch      int32
	Directories         [][16]byte // v1+: the log dir of each replica
	// EligibleLeaderReplicas and LastKnownELR (KIP-966) are v2+, tags 1
	// and 2; nil is "not set".
	EligibleLeaderReplicas []int32
	LastKnownELR           []int32
	UnknownTags            []Tag
}

func (*PartitionRecord) Type() int16 { return TypePartition }

// Version is 1, what Kafka 4.0 writes without ELR, or 2 when an ELR field is
// set, unless pinned.
func (r *PartitionRecord) Version() int16 {
	if r.EligibleLeaderReplicas != nil || r.LastKnownELR != nil {
		return r.pick(2)
	}
	return r.pick(1)
}

func (r *PartitionRecord) AppendTo(dst []byte) []byte {
	v := r.Version()
	dst = kbin.AppendInt32(dst, r.PartitionID)
	dst = kbin.AppendUuid(dst, r.TopicID)
	dst = appendInt32s(dst, r.Replicas)
	dst = appendInt32s(dst, r.ISR)
	dst = appendInt32s(dst, r.RemovingReplicas)
	dst = appendInt32s(dst, r.AddingReplicas)
	dst = kbin.AppendInt32(dst, r.Leader)
	dst = kbin.AppendInt32(dst, r.LeaderEpoch)
	dst = kbin.AppendInt32(dst, r.PartitionEpoch)
	if v >= 1 {
		dst = appendUUIDs(dst, r.Directories)
	}
	var known []Tag
	if r.LeaderRecoveryState != 0 {
		known = append(known, Tag{0, kbin.AppendInt8(nil, r.LeaderRecoveryState)})
	}
	if v >= 2 && r.EligibleLeaderReplicas != nil {
		known = append(known, Tag{1, appendInt32s(nil, r.EligibleLeaderReplicas)})
	}
	if v >= 2 && r.LastKnownELR != nil {
		known = append(known, Tag{2, appendInt32s(nil, r.LastKnownELR)})
	}
	return appendTags(dst, known, r.UnknownTags)
}

func (r *PartitionRecord) ReadFrom(b []byte, v int16) error {
	if err := checkVersion(v, 2); err != nil {
		return err
	}
	*r = PartitionRecord{}
	r.SetVersion(v)
	rd := newReader(b)
	r.PartitionID = rd.Int32()
	r.TopicID = rd.Uuid()
	r.Replicas = rd.int32s(false)
	r.ISR = rd.int32s(false)
	r.RemovingReplicas = rd.int32s(false)
	r.AddingReplicas = rd.int32s(false)
	r.Leader = rd.Int32()
	r.LeaderEpoch = rd.Int32()
	r.PartitionEpoch = rd.Int32()
	if v >= 1 {
		r.Directories = rd.uuids(false)
	}
	r.UnknownTags = rd.tags(func(key uint32, f *reader) bool {
		switch {
		case key == 0:
			r.LeaderRecoveryState = f.Int8()
		case key == 1 && v >= 2:
			r.EligibleLeaderReplicas = f.int32s(true)
		case key == 2 && v >= 2:
			r.LastKnownELR = f.int32s(true)
		default:
			return false
		}
		return true
	})
	return rd.finish()
}
