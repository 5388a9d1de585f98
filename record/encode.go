package record

import "encoding/binary"

// AppendHeader appends h as a batch header with magic 2 and placeholders
// for the batch length and CRC; append the records, then call Finish.
func AppendHeader(dst []byte, h Header) []byte {
	be := binary.BigEndian
	dst = be.AppendUint64(dst, uint64(h.BaseOffset))
	dst = be.AppendUint32(dst, 0) // batch length, set by Finish
	dst = be.AppendUint32(dst, uint32(h.PartitionLeaderEpoch))
	dst = append(dst, 2)
	dst = be.AppendUint32(dst, 0) // crc, set by Finish
	dst = be.AppendUint16(dst, uint16(h.Attributes))
	dst = be.AppendUint32(dst, uint32(h.LastOffsetDelta))
	dst = be.AppendUint64(dst, uint64(h.FirstTimestamp))
	dst = be.AppendUint64(dst, uint64(h.MaxTimestamp))
	dst = be.AppendUint64(dst, uint64(h.ProducerID))
	dst = be.AppendUint16(dst, uint16(h.ProducerEpoch))
	dst = be.AppendUint32(dst, uint32(h.BaseSequence))
	return be.AppendUint32(dst, uint32(h.NumRecords))
}

// Finish sets the length and CRC of the batch that starts at dst[start:]
// and runs to the end of dst.
func Finish(dst []byte, start int) []byte {
	b := dst[start:]
	binary.BigEndian.PutUint32(b[batchLengthPos:], uint32(len(b)-12))
	SetCRC(b)
	return dst
}

// AppendBatch appends a whole batch: h's fields (its BatchLength and CRC
// are computed) followed by the encoded records recs.
func AppendBatch(dst []byte, h Header, recs []byte) []byte {
	start := len(dst)
	dst = AppendHeader(dst, h)
	dst = append(dst, recs...)
	return Finish(dst, start)
}

// Record is one record of a batch. Key and Value are nil when null; a nil
// value is a tombstone. Headers holds the encoded header count and headers
// as they stand in the batch (nil encodes no headers).
type Record struct {
	Attributes     int8
	TimestampDelta int64
	OffsetDelta    int32
	Key            []byte
	Value          []byte
	Headers        []byte
}

// AppendRecord appends r in the v2 record encoding: its length, then its
// fields.
func AppendRecord(dst []byte, r Record) []byte {
	size := 1 + varintLen(r.TimestampDelta) + varintLen(int64(r.OffsetDelta)) +
		bytesLen(r.Key) + bytesLen(r.Value) + max(len(r.Headers), 1)
	dst = binary.AppendVarint(dst, int64(size))
	dst = append(dst, byte(r.Attributes))
	dst = binary.AppendVarint(dst, r.TimestampDelta)
	dst = binary.AppendVarint(dst, int64(r.OffsetDelta))
	dst = appendBytes(dst, r.Key)
	dst = appendBytes(dst, r.Value)
	if r.Headers == nil {
		return append(dst, 0)
	}
	return append(dst, r.Headers...)
}

func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(dst, -1)
	}
	dst = binary.AppendVarint(dst, int64(len(b)))
	return append(dst, b...)
}

func bytesLen(b []byte) int {
	if b == nil {
		return 1
	}
	return varintLen(int64(len(b))) + len(b)
}

// varintLen is the size of v as a zigzag varint.
func varintLen(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}
