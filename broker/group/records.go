package group

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

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

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// batchHeaderLen is the size of a v2 record batch header.
const batchHeaderLen = 61

// Batch attribute bits this package reads and writes.
const (
	attrTransactional = 0x10
	attrControl       = 0x20
)

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
	b := make([]byte, batchHeaderLen, batchHeaderLen+64*len(recs))
	for i, r := range recs {
		b = appendRecord(b, i, r)
	}
	be := binary.BigEndian
	be.PutUint32(b[8:], uint32(len(b)-12))
	be.PutUint32(b[12:], 0xffffffff) // partition leader epoch: set by the log
	b[16] = 2
	be.PutUint32(b[23:], uint32(len(recs)-1))
	be.PutUint64(b[27:], uint64(nowMs))
	be.PutUint64(b[35:], uint64(nowMs))
	be.PutUint64(b[43:], 0xffffffffffffffff) // no producer id
	be.PutUint16(b[51:], 0xffff)
	if p != nil {
		be.PutUint16(b[21:], attrTransactional)
		be.PutUint64(b[43:], uint64(p.ID))
		be.PutUint16(b[51:], uint16(p.Epoch))
	}
	be.PutUint32(b[53:], 0xffffffff) // no sequence
	be.PutUint32(b[57:], uint32(len(recs)))
	be.PutUint32(b[17:], crc32.Checksum(b[21:], castagnoli))
	return b
}

func appendRecord(dst []byte, i int, r Record) []byte {
	var body []byte
	body = append(body, 0) // attributes
	body = binary.AppendVarint(body, 0)
	body = binary.AppendVarint(body, int64(i))
	body = appendBytes(body, r.Key)
	body = appendBytes(body, r.Value)
	body = binary.AppendVarint(body, 0) // headers
	dst = binary.AppendVarint(dst, int64(len(body)))
	return append(dst, body...)
}

func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(dst, -1)
	}
	dst = binary.AppendVarint(dst, int64(len(b)))
	return append(dst, b...)
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
	if len(batch) < batchHeaderLen || batch[16] != 2 {
		return fmt.Errorf("decode batch: not a v2 batch of %d bytes", len(batch))
	}
	attrs := binary.BigEndian.Uint16(batch[21:])
	if attrs&attrControl != 0 {
		return nil
	}
	if attrs&0x07 != 0 {
		return ErrCompressed
	}
	n := int(binary.BigEndian.Uint32(batch[57:]))
	rest := batch[batchHeaderLen:]
	for i := 0; i < n; i++ {
		rec, delta, next, err := decodeRecord(rest)
		if err != nil {
			return fmt.Errorf("decode batch record %d: %w", i, err)
		}
		if err := fn(rec, delta); err != nil {
			return err
		}
		rest = next
	}
	return nil
}

var errShort = errors.New("truncated record")

func decodeRecord(b []byte) (Record, int64, []byte, error) {
	length, n := binary.Varint(b)
	if n <= 0 || length < 0 || int64(len(b)-n) < length {
		return Record{}, 0, nil, errShort
	}
	body, rest := b[n:n+int(length)], b[n+int(length):]
	if len(body) < 1 {
		return Record{}, 0, nil, errShort
	}
	// After the attributes byte: the timestamp and offset deltas.
	body = body[1:]
	var deltas [2]int64
	for i := range deltas {
		v, n := binary.Varint(body)
		if n <= 0 {
			return Record{}, 0, nil, errShort
		}
		deltas[i], body = v, body[n:]
	}
	delta := deltas[1]
	var r Record
	var err error
	if r.Key, body, err = readBytes(body); err != nil {
		return Record{}, 0, nil, err
	}
	if r.Value, _, err = readBytes(body); err != nil {
		return Record{}, 0, nil, err
	}
	return r, delta, rest, nil
}

func readBytes(b []byte) ([]byte, []byte, error) {
	l, n := binary.Varint(b)
	if n <= 0 || l > int64(len(b)-n) {
		return nil, nil, errShort
	}
	if l < 0 {
		return nil, b[n:], nil
	}
	return b[n : n+int(l)], b[n+int(l):], nil
}
