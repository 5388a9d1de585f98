package consumergroup

import (
	"encoding/binary"
	"fmt"

	"github.com/twmb/franz-go/pkg/kbin"

	"spool/broker/group"
)

// Record types of __consumer_offsets (the first int16 of a key), as Kafka
// numbers them. 0-2 are the classic group's and offsets' (broker/group).
const (
	TypeGroupMetadata            int16 = 3
	TypePartitionMetadata        int16 = 4
	TypeMemberMetadata           int16 = 5
	TypeTargetAssignmentMetadata int16 = 6
	TypeTargetAssignmentMember   int16 = 7
	TypeCurrentMemberAssignment  int16 = 8
	TypeRegularExpression        int16 = 16
)

// IsConsumerGroupRecord reports whether a key is one of this package's.
func IsConsumerGroupRecord(key []byte) bool {
	if len(key) < 2 {
		return false
	}
	switch int16(binary.BigEndian.Uint16(key)) {
	case TypeGroupMetadata, TypePartitionMetadata, TypeMemberMetadata, TypeTargetAssignmentMetadata,
		TypeTargetAssignmentMember, TypeCurrentMemberAssignment, TypeRegularExpression:
		return true
	}
	return false
}

// groupKey is the key of the records that have only the group id.
func groupKey(typ int16, groupID string) []byte {
	b := kbin.AppendInt16(nil, typ)
	return kbin.AppendString(b, groupID)
}

// memberKey is the key of the records of one member (or one regex).
func memberKey(typ int16, groupID, second string) []byte {
	return kbin.AppendString(groupKey(typ, groupID), second)
}

// parsedKey is a decoded key: its type, group and member id or regex.
type parsedKey struct {
	typ    int16
	group  string
	second string
}

func parseKey(b []byte) (parsedKey, error) {
	r := newReader(b)
	k := parsedKey{typ: r.Int16()}
	k.group = r.String()
	switch k.typ {
	case TypeMemberMetadata, TypeTargetAssignmentMember, TypeCurrentMemberAssignment, TypeRegularExpression:
		k.second = r.String()
	}
	if err := r.done("key"); err != nil {
		return k, err
	}
	return k, nil
}

// valueVersion is the only value version of every record type here.
const valueVersion = 0

func newValue() []byte { return kbin.AppendInt16(nil, valueVersion) }

// valueReader checks the value version and returns a reader of the body.
func valueReader(b []byte, what string) (*reader, error) {
	if len(b) < 2 {
		return nil, fmt.Errorf("%s value: %w", what, errTruncated)
	}
	if v := int16(binary.BigEndian.Uint16(b)); v != valueVersion {
		return nil, fmt.Errorf("%s value version %d is not supported", what, v)
	}
	return newReader(b[2:]), nil
}

// groupEpochRecord is ConsumerGroupMetadata: the group epoch and the hash
// of the subscribed topics' metadata it was computed against.
func groupEpochRecord(groupID string, epoch int32, metadataHash int64) group.Record {
	v := kbin.AppendInt32(newValue(), epoch)
	if metadataHash != 0 {
		v = kbin.AppendUvarint(v, 1)
		v = appendTag(v, 0, kbin.AppendInt64(nil, metadataHash))
	} else {
		v = kbin.AppendUvarint(v, 0)
	}
	return group.Record{Key: groupKey(TypeGroupMetadata, groupID), Value: v}
}

func readGroupEpoch(b []byte) (epoch int32, hash int64, err error) {
	r, err := valueReader(b, "ConsumerGroupMetadata")
	if err != nil {
		return 0, 0, err
	}
	epoch = r.Int32()
	r.tags(func(tag uint32, f *reader) {
		if tag == 0 {
			hash = f.Int64()
		}
	})
	return epoch, hash, r.done("ConsumerGroupMetadata")
}

// targetEpochRecord is ConsumerGroupTargetAssignmentMetadata.
func targetEpochRecord(groupID string, epoch int32, atMs int64) group.Record {
	v := kbin.AppendInt32(newValue(), epoch)
	v = kbin.AppendUvarint(v, 1)
	v = appendTag(v, 0, kbin.AppendInt64(nil, atMs))
	return group.Record{Key: groupKey(TypeTargetAssignmentMetadata, groupID), Value: v}
}

func readTargetEpoch(b []byte) (epoch int32, atMs int64, err error) {
	r, err := valueReader(b, "ConsumerGroupTargetAssignmentMetadata")
	if err != nil {
		return 0, 0, err
	}
	epoch = r.Int32()
	r.tags(func(tag uint32, f *reader) {
		if tag == 0 {
			atMs = f.Int64()
		}
	})
	return epoch, atMs, r.done("ConsumerGroupTargetAssignmentMetadata")
}

// targetMemberRecord is ConsumerGroupTargetAssignmentMember.
func targetMemberRecord(groupID, memberID string, a Assignment) group.Record {
	v := appendAssignment(newValue(), a)
	v = kbin.AppendUvarint(v, 0)
	return group.Record{Key: memberKey(TypeTargetAssignmentMember, groupID, memberID), Value: v}
}

func readTargetMember(b []byte) (Assignment, error) {
	r, err := valueReader(b, "ConsumerGroupTargetAssignmentMember")
	if err != nil {
		return nil, err
	}
	a := readAssignment(r)
	r.tags(nil)
	return a, r.done("ConsumerGroupTargetAssignmentMember")
}

// appendAssignment writes an assignment as Kafka's []TopicPartitions
// (topic id, partitions, no tagged fields), topics in id order.
func appendAssignment(dst []byte, a Assignment) []byte {
	ids := a.topicIDs()
	dst = kbin.AppendCompactArrayLen(dst, len(ids))
	for _, id := range ids {
		dst = kbin.AppendUuid(dst, id)
		dst = appendInt32s(dst, a[id])
		dst = kbin.AppendUvarint(dst, 0)
	}
	return dst
}

func readAssignment(r *reader) Assignment {
	n := r.CompactArrayLen()
	a := Assignment{}
	for i := int32(0); i < n && r.Ok(); i++ {
		id := r.Uuid()
		ps := r.int32s()
		r.tags(nil)
		if len(ps) > 0 {
			a[id] = normalize(ps)
		}
	}
	return a
}

// regexRecord is ConsumerGroupRegularExpression: what a subscribed regex
// resolved to, against which topics version, and when.
func regexRecord(groupID, regex string, topics []string, version, atMs int64) group.Record {
	v := appendStrings(newValue(), topics)
	v = kbin.AppendInt64(v, version)
	v = kbin.AppendInt64(v, atMs)
	v = kbin.AppendUvarint(v, 0)
	return group.Record{Key: memberKey(TypeRegularExpression, groupID, regex), Value: v}
}

func readRegex(b []byte) (resolvedRegex, error) {
	r, err := valueReader(b, "ConsumerGroupRegularExpression")
	if err != nil {
		return resolvedRegex{}, err
	}
	var rr resolvedRegex
	rr.topics = r.strings()
	rr.version = r.Int64()
	rr.atMs = r.Int64()
	r.tags(nil)
	return rr, r.done("ConsumerGroupRegularExpression")
}

func tombstone(key []byte) group.Record { return group.Record{Key: key} }
