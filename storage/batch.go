package storage

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// BatchHeaderLen is the size of a v2 record batch header: baseOffset(8)
// batchLength(4) partitionLeaderEpoch(4) magic(1) crc(4) attributes(2)
// lastOffsetDelta(4) firstTimestamp(8) maxTimestamp(8) producerId(8)
// producerEpoch(2) baseSequence(4) numRecords(4).
const BatchHeaderLen = 61

// Byte positions of the header fields the log reads or patches.
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

	// batchLengthMin counts the bytes after the batchLength field in a
	// batch with no records.
	batchLengthMin = BatchHeaderLen - 12
	// crcStart is where the CRC coverage begins: everything from the
	// attributes onwards, so offsets and leader epochs can be patched freely.
	crcStart = attributesPos
)

const (
	attrCompressionMask = 0x07
	attrLogAppendTime   = 0x08
	attrTransactional   = 0x10
	attrControl         = 0x20
)

// Compression codecs as stored in the low attribute bits.
const (
	CompressionNone   int8 = 0
	CompressionGzip   int8 = 1
	CompressionSnappy int8 = 2
	CompressionLZ4    int8 = 3
	CompressionZstd   int8 = 4
)

// crcTable is computed once and only read afterwards.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// BatchHeader is the decoded fixed part of a v2 record batch.
type BatchHeader struct {
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

// ParseBatchHeader decodes the header of the batch that b starts with. It
// checks only that the header is present; see ValidateBatch for the rest.
func ParseBatchHeader(b []byte) (BatchHeader, error) {
	if len(b) < BatchHeaderLen {
		return BatchHeader{}, fmt.Errorf("%w: %d bytes, need %d for a header", ErrCorruptBatch, len(b), BatchHeaderLen)
	}
	be := binary.BigEndian
	return BatchHeader{
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

// LastOffset is the offset of the batch's last record (or last offset slot,
// after compaction removed records).
func (h BatchHeader) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// NextOffset is the offset following the batch.
func (h BatchHeader) NextOffset() int64 { return h.LastOffset() + 1 }

// TotalSize is the batch's size on the wire and on disk.
func (h BatchHeader) TotalSize() int { return 12 + int(h.BatchLength) }

// IsControl reports a transaction marker or other control batch.
func (h BatchHeader) IsControl() bool { return h.Attributes&attrControl != 0 }

// IsTransactional reports a batch written inside a transaction.
func (h BatchHeader) IsTransactional() bool { return h.Attributes&attrTransactional != 0 }

// Compression returns the codec id from the attributes.
func (h BatchHeader) Compression() int8 { return int8(h.Attributes & attrCompressionMask) }

// LogAppendTime reports whether MaxTimestamp was set by the broker.
func (h BatchHeader) LogAppendTime() bool { return h.Attributes&attrLogAppendTime != 0 }

// ValidateBatch checks that b holds exactly one whole v2 batch with a good
// CRC. It checks what holds for every batch, including those a compacted
// leader sends to followers (gaps, empty batches); produce-time rules such as
// numRecords == lastOffsetDelta+1 belong to the caller.
func ValidateBatch(b []byte) (BatchHeader, error) {
	h, err := ParseBatchHeader(b)
	if err != nil {
		return h, err
	}
	if h.Magic != 2 {
		return h, fmt.Errorf("%w: magic %d", ErrUnsupportedMagic, h.Magic)
	}
	if h.BatchLength < batchLengthMin || int64(h.BatchLength)+12 != int64(len(b)) {
		return h, fmt.Errorf("%w: batchLength %d for %d bytes", ErrCorruptBatch, h.BatchLength, len(b))
	}
	if h.LastOffsetDelta < 0 {
		return h, fmt.Errorf("%w: lastOffsetDelta %d", ErrCorruptBatch, h.LastOffsetDelta)
	}
	if h.NumRecords < 0 || int64(h.NumRecords) > int64(h.LastOffsetDelta)+1 {
		return h, fmt.Errorf("%w: %d records for lastOffsetDelta %d", ErrCorruptBatch, h.NumRecords, h.LastOffsetDelta)
	}
	if h.BaseOffset > maxOffsetValue-int64(h.LastOffsetDelta) {
		return h, fmt.Errorf("%w: offset range overflows", ErrCorruptBatch)
	}
	if got := crc32.Checksum(b[crcStart:], crcTable); got != h.CRC {
		return h, fmt.Errorf("%w: crc %08x, computed %08x", ErrCorruptBatch, h.CRC, got)
	}
	return h, nil
}

// maxOffsetValue bounds offsets so NextOffset never overflows.
const maxOffsetValue = 1<<63 - 2

// SplitBatches calls fn for each complete batch in b, in order. Only lengths
// are checked; a trailing partial batch is ErrCorruptBatch.
func SplitBatches(b []byte, fn func(batch []byte, h BatchHeader) error) error {
	for pos := 0; pos < len(b); {
		h, err := ParseBatchHeader(b[pos:])
		if err != nil {
			return fmt.Errorf("batch at byte %d: %w", pos, err)
		}
		if h.BatchLength < batchLengthMin || int64(h.BatchLength)+12 > int64(len(b)-pos) {
			return fmt.Errorf("%w: batch at byte %d has batchLength %d, %d bytes remain",
				ErrCorruptBatch, pos, h.BatchLength, len(b)-pos)
		}
		n := h.TotalSize()
		if err := fn(b[pos:pos+n], h); err != nil {
			return err
		}
		pos += n
	}
	return nil
}

// SetBaseOffset patches the batch's base offset, which the CRC does not cover.
func SetBaseOffset(b []byte, off int64) { binary.BigEndian.PutUint64(b, uint64(off)) }

// SetPartitionLeaderEpoch patches the leader epoch, which the CRC does not
// cover.
func SetPartitionLeaderEpoch(b []byte, e int32) {
	binary.BigEndian.PutUint32(b[leaderEpochPos:], uint32(e))
}

// SetLogAppendTime stamps the batch with the broker's time, as LogAppendTime
// topics require, and recomputes the CRC because both fields it changes are
// covered by it.
func SetLogAppendTime(b []byte, ts int64) {
	be := binary.BigEndian
	be.PutUint64(b[maxTsPos:], uint64(ts))
	be.PutUint16(b[attributesPos:], be.Uint16(b[attributesPos:])|attrLogAppendTime)
	be.PutUint32(b[crcPos:], crc32.Checksum(b[crcStart:], crcTable))
}

// batchBase, batchTotal and batchLast read single fields without decoding
// the whole header, for the scans over headers read from disk.
func batchBase(b []byte) int64 { return int64(binary.BigEndian.Uint64(b)) }

func batchTotal(b []byte) int64 {
	return 12 + int64(int32(binary.BigEndian.Uint32(b[batchLengthPos:])))
}

func batchLast(b []byte) int64 {
	return batchBase(b) + int64(int32(binary.BigEndian.Uint32(b[lastDeltaPos:])))
}

func batchMaxTs(b []byte) int64 { return int64(binary.BigEndian.Uint64(b[maxTsPos:])) }
