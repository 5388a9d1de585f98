package group

import (
	"errors"
	"fmt"

	"spool/record"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Key versions of __consumer_offsets records: 0 and 1 are offset commits,
// 2 is group metadata.
const (
	offsetKeyVersion = 1
	groupKeyVersion  = 2
)

// OffsetKey is the record key of a committed offset.
func OffsetKey(group, topic string, partition int32) []byte {
	k := kmsg.NewOffsetCommitKey()
	k.Version, k.Group, k.Topic, k.Partition = offsetKeyVersion, group, topic, partition
	return k.AppendTo(nil)
}

// OffsetValue is the record value of a committed offset (version 3: with
// leader epoch, without the expire timestamp that KIP-211 retired).
func OffsetValue(o Offset) []byte {
	v := kmsg.NewOffsetCommitValue()
	v.Version = 3
	v.Offset, v.LeaderEpoch, v.Metadata, v.CommitTimestamp = o.Offset, o.LeaderEpoch, o.Metadata, o.CommitMs
	return v.AppendTo(nil)
}

// GroupKey is the record key of a group's metadata.
func GroupKey(group string) []byte {
	k := kmsg.NewGroupMetadataKey()
	k.Version, k.Group = groupKeyVersion, group
	return k.AppendTo(nil)
}

// EncodeBatch makes an uncompressed magic-2 record batch of recs, with
// base offset 0 (the log assigns offsets) and every timestamp at nowMs.
func EncodeBatch(recs []Record, nowMs int64) []byte {
	return encodeBatch(recs, nowMs, nil)
}

// EncodeTxnBatch is EncodeBatch for a transactional producer: the header
// carries its id and epoch, the transactional bit and no sequence (-1), as
// Kafka's coordinator writes a TxnOffsetCommit.
func EncodeTxnBatch(recs []Record, nowMs int64, p Producer) []byte {
	return encodeBatch(recs, nowMs, &p)
}

func encodeBatch(recs []Record, nowMs int64, p *Producer) []byte {
	h := record.Header{
		PartitionLeaderEpoch: -1, // set by the log
		LastOffsetDelta:      int32(len(recs) - 1),
		FirstTimestamp:       nowMs, MaxTimestamp: nowMs,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1,
		NumRecords: int32(len(recs)),
	}
	if p != nil {
		h.Attributes, h.ProducerID, h.ProducerEpoch = record.AttrTransactional, p.ID, p.Epoch
	}
	b := record.AppendHeader(make([]byte, 0, record.HeaderLen+64*len(recs)), h)
	for i, r := range recs {
		b = record.AppendRecord(b, record.Record{OffsetDelta: int32(i), Key: r.Key, Value: r.Value})
	}
	return record.Finish(b, 0)
}

// ErrCompressed is returned for batches this package cannot read: Spool
// writes __consumer_offsets uncompressed.
var ErrCompressed = errors.New("compressed __consumer_offsets batch")

// DecodeBatch calls fn with each record of one uncompressed v2 batch.
// Control batches hold no records of ours and are skipped.
func DecodeBatch(batch []byte, fn func(Record) error) error {
	return decodeBatch(batch, func(r Record, _ int64) error { return fn(r) })
}

// decodeBatch is DecodeBatch that also gives each record's offset delta:
// compaction leaves gaps, so a record's index is not its offset.
func decodeBatch(batch []byte, fn func(r Record, delta int64) error) error {
	h, err := record.ParseHeader(batch)
	if err != nil || h.Magic != 2 {
		return fmt.Errorf("decode batch: not a v2 batch of %d bytes", len(batch))
	}
	if h.IsControl() {
		return nil
	}
	if h.Compression() != record.CompressionNone {
		return ErrCompressed
	}
	it := record.NewIter(batch[record.HeaderLen:], h.NumRecords)
	for r, ok := it.Next(); ok; r, ok = it.Next() {
		if err := fn(Record{Key: r.Key, Value: r.Value}, int64(r.OffsetDelta)); err != nil {
			return err
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("decode batch: %w", err)
	}
	return nil
}
