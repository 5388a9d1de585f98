package storage

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Control record types, the key of a control batch's one record: the
// version (int16, 0) then the type (int16).
const (
	ControlAbort  int16 = 0
	ControlCommit int16 = 1
)

// EncodeControlBatch appends a transaction marker batch: one control record
// whose value is the marker version (0) and the coordinator epoch. The base
// offset and leader epoch are left for the log to assign.
func EncodeControlBatch(dst []byte, producerID int64, producerEpoch int16, commit bool, coordinatorEpoch int32, nowMs int64) []byte {
	typ := ControlAbort
	if commit {
		typ = ControlCommit
	}
	start := len(dst)
	dst = append(dst, make([]byte, BatchHeaderLen)...)
	var body [24]byte
	rec := body[:0]
	rec = append(rec, 0)                        // attributes
	rec = binary.AppendVarint(rec, 0)           // timestamp delta
	rec = binary.AppendVarint(rec, 0)           // offset delta
	rec = binary.AppendVarint(rec, 4)           // key length
	rec = binary.BigEndian.AppendUint16(rec, 0) // key version
	rec = binary.BigEndian.AppendUint16(rec, uint16(typ))
	rec = binary.AppendVarint(rec, 6)           // value length
	rec = binary.BigEndian.AppendUint16(rec, 0) // value version
	rec = binary.BigEndian.AppendUint32(rec, uint32(coordinatorEpoch))
	rec = binary.AppendVarint(rec, 0) // headers
	dst = binary.AppendVarint(dst, int64(len(rec)))
	dst = append(dst, rec...)
	b := dst[start:]
	be := binary.BigEndian
	be.PutUint32(b[batchLengthPos:], uint32(len(b)-12))
	be.PutUint32(b[leaderEpochPos:], 0xffffffff)
	b[magicPos] = 2
	be.PutUint16(b[attributesPos:], attrTransactional|attrControl)
	be.PutUint32(b[lastDeltaPos:], 0)
	be.PutUint64(b[firstTsPos:], uint64(nowMs))
	be.PutUint64(b[maxTsPos:], uint64(nowMs))
	be.PutUint64(b[producerIDPos:], uint64(producerID))
	be.PutUint16(b[producerEpPos:], uint16(producerEpoch))
	be.PutUint32(b[baseSequencePos:], 0xffffffff)
	be.PutUint32(b[numRecordsPos:], 1)
	be.PutUint32(b[crcPos:], crc32.Checksum(b[crcStart:], crcTable))
	return dst
}

// ControlRecord is the decoded marker of a control batch.
type ControlRecord struct {
	Type             int16 // ControlAbort or ControlCommit
	CoordinatorEpoch int32 // -1 when the value is absent
}

// ParseControlBatch reads the first control record of a whole, uncompressed
// control batch (Kafka never compresses them).
func ParseControlBatch(batch []byte) (ControlRecord, error) {
	h, err := ParseBatchHeader(batch)
	if err != nil {
		return ControlRecord{}, err
	}
	if !h.IsControl() || h.Compression() != CompressionNone || h.NumRecords < 1 {
		return ControlRecord{}, fmt.Errorf("%w: batch at %d is not an uncompressed control batch", ErrLogCorrupt, h.BaseOffset)
	}
	b := batch[BatchHeaderLen:min(len(batch), h.TotalSize())]
	bad := func(what string) (ControlRecord, error) {
		return ControlRecord{}, fmt.Errorf("%w: control batch at %d: %s", ErrLogCorrupt, h.BaseOffset, what)
	}
	var ok bool
	var n int64
	if _, b, ok = uvarintZigzag(b); !ok || len(b) < 1 { // record length
		return bad("record length")
	}
	b = b[1:]     // attributes
	for range 2 { // timestamp and offset deltas
		if _, b, ok = uvarintZigzag(b); !ok {
			return bad("record deltas")
		}
	}
	if n, b, ok = uvarintZigzag(b); !ok || n < 4 || int64(len(b)) < n {
		return bad("key")
	}
	rec := ControlRecord{Type: int16(binary.BigEndian.Uint16(b[2:])), CoordinatorEpoch: -1}
	b = b[n:]
	if n, b, ok = uvarintZigzag(b); ok && n >= 6 && int64(len(b)) >= n {
		rec.CoordinatorEpoch = int32(binary.BigEndian.Uint32(b[2:]))
	}
	return rec, nil
}
