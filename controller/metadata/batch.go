package metadata

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/twmb/franz-go/pkg/kbin"
)

// Control record types. LeaderChange, SnapshotHeader and SnapshotFooter are
// Kafka's; ConfChange is ours (Kafka has no equivalent of an etcd raft
// ConfChange) and sits far above Kafka's range so the two never collide.
const (
	ControlLeaderChange   int16 = 2
	ControlSnapshotHeader int16 = 3
	ControlSnapshotFooter int16 = 4
	// ControlConfChange holds the protobuf bytes of a raft ConfChange (or
	// ConfChangeV2) entry.
	ControlConfChange int16 = 0x7f01
)

const (
	batchHeaderSize  = 61
	batchCRCStart    = 21 // the CRC covers attributes onwards
	attrCompression  = 0x07
	attrControl      = 0x20
	recordBatchMagic = 2
)

// BatchInfo is the header of a v2 record batch.
type BatchInfo struct {
	BaseOffset           int64
	Length               int32 // bytes after the Length field
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	FirstTimestamp       int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	NumRecords           int32
}

// IsControl reports whether the batch holds a control record.
func (h BatchInfo) IsControl() bool { return h.Attributes&attrControl != 0 }

// ControlRecord is the one record of a control batch.
type ControlRecord struct {
	Version int16 // of the key, always 0 today
	Type    int16
	Value   []byte // aliases the batch
}

// AppendRecordBatch appends one uncompressed v2 record batch holding recs,
// each as a Kafka record with a null key and the framed record as its value.
//
// One batch is one raft entry and occupies exactly one offset, baseOffset (the
// raft index); epoch is the raft term, stored as partitionLeaderEpoch. So
// lastOffsetDelta is 0 and every record in the batch has offsetDelta 0, unlike
// Kafka, which gives each record its own offset. An offset therefore names a
// whole batch, which is the unit the image is advanced by.
func AppendRecordBatch(dst []byte, baseOffset int64, epoch int32, timestampMs int64, recs []Record) []byte {
	start := len(dst)
	dst = appendBatchHeader(dst, baseOffset, epoch, 0, timestampMs, len(recs))
	var value []byte
	for _, r := range recs {
		value = Encode(value[:0], r)
		dst = appendRecord(dst, nil, value)
	}
	return finishBatch(dst, start)
}

// AppendControlBatch appends a control batch (attributes bit 5) holding one
// control record: key = version 0 and controlType, value as given. Raft's
// empty leader entries use ControlLeaderChange and configuration changes
// ControlConfChange. Like every batch it occupies the one offset baseOffset.
func AppendControlBatch(dst []byte, baseOffset int64, epoch int32, timestampMs int64, controlType int16, value []byte) []byte {
	start := len(dst)
	dst = appendBatchHeader(dst, baseOffset, epoch, attrControl, timestampMs, 1)
	var key [4]byte
	binary.BigEndian.PutUint16(key[2:], uint16(controlType))
	dst = appendRecord(dst, key[:], value)
	return finishBatch(dst, start)
}

func appendBatchHeader(dst []byte, baseOffset int64, epoch int32, attrs int16, ts int64, n int) []byte {
	dst = kbin.AppendInt64(dst, baseOffset)
	dst = kbin.AppendInt32(dst, 0) // length, patched by finishBatch
	dst = kbin.AppendInt32(dst, epoch)
	dst = kbin.AppendInt8(dst, recordBatchMagic)
	dst = kbin.AppendUint32(dst, 0) // crc, patched by finishBatch
	dst = kbin.AppendInt16(dst, attrs)
	dst = kbin.AppendInt32(dst, 0) // lastOffsetDelta: one offset per batch
	dst = kbin.AppendInt64(dst, ts)
	dst = kbin.AppendInt64(dst, ts)
	dst = kbin.AppendInt64(dst, -1) // producer id
	dst = kbin.AppendInt16(dst, -1) // producer epoch
	dst = kbin.AppendInt32(dst, -1) // base sequence
	return kbin.AppendInt32(dst, int32(n))
}

// appendRecord appends one record with timestamp and offset deltas 0 and no
// headers; a nil key is written as null.
func appendRecord(dst, key, value []byte) []byte {
	keyLen := int32(len(key))
	if key == nil {
		keyLen = -1
	}
	size := 3 + kbin.VarintLen(keyLen) + len(key) + kbin.VarintLen(int32(len(value))) + len(value) + 1
	dst = kbin.AppendVarint(dst, int32(size))
	dst = append(dst, 0, 0, 0) // attributes, timestampDelta, offsetDelta
	dst = kbin.AppendVarint(dst, keyLen)
	dst = append(dst, key...)
	dst = kbin.AppendVarint(dst, int32(len(value)))
	dst = append(dst, value...)
	return append(dst, 0) // no headers
}

func finishBatch(dst []byte, start int) []byte {
	b := dst[start:]
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
	crc := crc32.Checksum(b[batchCRCStart:], crc32.MakeTable(crc32.Castagnoli))
	binary.BigEndian.PutUint32(b[17:], crc)
	return dst
}
