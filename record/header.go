package record

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// HeaderLen is the size of a v2 batch header: baseOffset(8) batchLength(4)
// partitionLeaderEpoch(4) magic(1) crc(4) attributes(2) lastOffsetDelta(4)
// firstTimestamp(8) maxTimestamp(8) producerId(8) producerEpoch(2)
// baseSequence(4) numRecords(4).
const HeaderLen = 61

// Byte positions of the header fields.
const (
	batchLengthPos  = 8
	leaderEpochPos  = 12
	magicPos        = 16
	crcPos          = 17
	attributesPos   = 21
	lastDeltaPos    = 23
	firstTsPos      = 27
	maxTsPos        = 35
	producerIDPos   = 43
	producerEpPos   = 51
	baseSequencePos = 53
	numRecordsPos   = 57

	// crcStart is where the CRC coverage begins: the attributes onwards,
	// so offsets and leader epochs can be patched without recomputing it.
	crcStart = attributesPos
)

// OffsetsLen is the header prefix that holds the base offset, the batch
// length and the last offset delta: enough for BaseOffsetOf, SizeOf and
// LastOffsetOf. Scans over a segment read only this much per batch.
const OffsetsLen = lastDeltaPos + 4

// MinBatchLength is the batchLength of a batch with no records: the header
// bytes after the batchLength field.
const MinBatchLength = HeaderLen - 12

// Attribute bits.
const (
	AttrCompressionMask = 0x07
	AttrLogAppendTime   = 0x08
	AttrTransactional   = 0x10
	AttrControl         = 0x20
	// AttrDeleteHorizon marks a batch whose firstTimestamp holds the time
	// after which its tombstones and markers may go (KIP-534).
	AttrDeleteHorizon = 0x40
)

// Compression codecs as stored in the low attribute bits.
const (
	CompressionNone   int8 = 0
	CompressionGzip   int8 = 1
	CompressionSnappy int8 = 2
	CompressionLZ4    int8 = 3
	CompressionZstd   int8 = 4
)

var (
	// ErrCorrupt reports bytes that are not a well-formed v2 batch or
	// record: bad lengths, a bad CRC, a truncated batch.
	ErrCorrupt = errors.New("corrupt record batch")
	// ErrUnsupportedMagic reports a batch whose magic byte is not 2.
	ErrUnsupportedMagic = errors.New("unsupported record batch magic")
)

// Header is the decoded fixed part of a v2 batch.
type Header struct {
	BaseOffset           int64
	BatchLength          int32
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

// ParseHeader decodes the header b starts with. It checks only that the
// header is there; Validate checks the rest.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, fmt.Errorf("%w: %d bytes, need %d for a header", ErrCorrupt, len(b), HeaderLen)
	}
	be := binary.BigEndian
	return Header{
		BaseOffset:           int64(be.Uint64(b)),
		BatchLength:          int32(be.Uint32(b[batchLengthPos:])),
		PartitionLeaderEpoch: int32(be.Uint32(b[leaderEpochPos:])),
		Magic:                int8(b[magicPos]),
		CRC:                  be.Uint32(b[crcPos:]),
		Attributes:           int16(be.Uint16(b[attributesPos:])),
		LastOffsetDelta:      int32(be.Uint32(b[lastDeltaPos:])),
		FirstTimestamp:       int64(be.Uint64(b[firstTsPos:])),
		MaxTimestamp:         int64(be.Uint64(b[maxTsPos:])),
		ProducerID:           int64(be.Uint64(b[producerIDPos:])),
		ProducerEpoch:        int16(be.Uint16(b[producerEpPos:])),
		BaseSequence:         int32(be.Uint32(b[baseSequencePos:])),
		NumRecords:           int32(be.Uint32(b[numRecordsPos:])),
	}, nil
}

// LastOffset is the offset of the batch's last record (or last offset
// slot, after compaction removed records).
func (h Header) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// NextOffset is the offset following the batch.
func (h Header) NextOffset() int64 { return h.LastOffset() + 1 }

// TotalSize is the batch's size on the wire and on disk.
func (h Header) TotalSize() int { return 12 + int(h.BatchLength) }

// IsControl reports a transaction marker or other control batch.
func (h Header) IsControl() bool { return h.Attributes&AttrControl != 0 }

// IsTransactional reports a batch written inside a transaction.
func (h Header) IsTransactional() bool { return h.Attributes&AttrTransactional != 0 }

// Compression returns the codec from the attributes.
func (h Header) Compression() int8 { return int8(h.Attributes & AttrCompressionMask) }

// LogAppendTime reports whether MaxTimestamp was set by the broker.
func (h Header) LogAppendTime() bool { return h.Attributes&AttrLogAppendTime != 0 }

// HasDeleteHorizon reports a batch whose FirstTimestamp is the delete
// horizon of its tombstones (KIP-534).
func (h Header) HasDeleteHorizon() bool { return h.Attributes&AttrDeleteHorizon != 0 }

// BaseOffsetOf, SizeOf, LastOffsetOf and MaxTimestampOf read one field
// without decoding the whole header, for scans over headers read from
// disk. The first three need OffsetsLen bytes, MaxTimestampOf the whole
// header up to the producer id.
func BaseOffsetOf(b []byte) int64 { return int64(binary.BigEndian.Uint64(b)) }

// SizeOf is the batch's total size from its batchLength field.
func SizeOf(b []byte) int64 {
	return 12 + int64(int32(binary.BigEndian.Uint32(b[batchLengthPos:])))
}

// LastOffsetOf is the offset of the batch's last record.
func LastOffsetOf(b []byte) int64 {
	return BaseOffsetOf(b) + int64(int32(binary.BigEndian.Uint32(b[lastDeltaPos:])))
}

// MaxTimestampOf is the batch's max timestamp.
func MaxTimestampOf(b []byte) int64 { return int64(binary.BigEndian.Uint64(b[maxTsPos:])) }

// SetBaseOffset patches the base offset, which the CRC does not cover.
func SetBaseOffset(b []byte, off int64) { binary.BigEndian.PutUint64(b, uint64(off)) }

// SetPartitionLeaderEpoch patches the leader epoch, which the CRC does not
// cover.
func SetPartitionLeaderEpoch(b []byte, e int32) {
	binary.BigEndian.PutUint32(b[leaderEpochPos:], uint32(e))
}

// SetLogAppendTime stamps the batch with the broker's time, as
// LogAppendTime topics require, and recomputes the CRC, which covers both
// fields it changes.
func SetLogAppendTime(b []byte, ts int64) {
	be := binary.BigEndian
	be.PutUint64(b[maxTsPos:], uint64(ts))
	be.PutUint16(b[attributesPos:], be.Uint16(b[attributesPos:])|AttrLogAppendTime)
	SetCRC(b)
}

// SetProducerID patches the producer id and recomputes the CRC.
func SetProducerID(b []byte, id int64) {
	binary.BigEndian.PutUint64(b[producerIDPos:], uint64(id))
	SetCRC(b)
}
