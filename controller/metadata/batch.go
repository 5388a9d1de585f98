package metadata

import "spool/record"

// Control record types. LeaderChange, SnapshotHeader and SnapshotFooter are
// Kafka's; ConfChange is ours (Kafka has no equivalent of an etcd raft
// ConfChange) and sits far above Kafka's range so the two never collide.
const (
	ControlLeaderChange   = record.ControlLeaderChange
	ControlSnapshotHeader = record.ControlSnapshotHeader
	ControlSnapshotFooter = record.ControlSnapshotFooter
	// ControlConfChange holds the protobuf bytes of a raft ConfChange (or
	// ConfChangeV2) entry.
	ControlConfChange int16 = 0x7f01
)

// BatchInfo is the header of a v2 record batch.
type BatchInfo = record.Header

// ControlRecord is the one record of a control batch.
type ControlRecord = record.Control

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
	h := batchHeader(baseOffset, epoch, timestampMs)
	h.NumRecords = int32(len(recs))
	dst = record.AppendHeader(dst, h)
	var value []byte
	for _, r := range recs {
		value = Encode(value[:0], r)
		dst = record.AppendRecord(dst, record.Record{Value: value})
	}
	return record.Finish(dst, start)
}

// AppendControlBatch appends a control batch holding one control record:
// key = version 0 and controlType, value as given. Raft's empty leader
// entries use ControlLeaderChange and configuration changes
// ControlConfChange. Like every batch it occupies the one offset baseOffset.
func AppendControlBatch(dst []byte, baseOffset int64, epoch int32, timestampMs int64, controlType int16, value []byte) []byte {
	if value == nil {
		value = []byte{}
	}
	return record.AppendControl(dst, batchHeader(baseOffset, epoch, timestampMs), controlType, value)
}

func batchHeader(baseOffset int64, epoch int32, ts int64) record.Header {
	return record.Header{
		BaseOffset: baseOffset, PartitionLeaderEpoch: epoch,
		FirstTimestamp: ts, MaxTimestamp: ts,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1,
	}
}
