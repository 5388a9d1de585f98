package metadata

import (
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/twmb/franz-go/pkg/kbin"
)

// DecodeBatch reads one v2 record batch; batch must be exactly the batch's
// bytes. A control batch yields its control record and no records; any other
// batch yields its metadata records. The CRC, magic and every length are
// checked, so garbage gives an error, never a panic. Compressed batches are
// refused: this package never writes them.
func DecodeBatch(batch []byte) (hdr BatchInfo, recs []Record, control *ControlRecord, err error) {
	hdr, err = decodeBatchHeader(batch)
	if err != nil {
		return hdr, nil, nil, err
	}
	rd := kbin.Reader{Src: batch[batchHeaderSize:]}
	if hdr.IsControl() {
		control, err = decodeControl(&rd, hdr.NumRecords)
		return hdr, nil, control, err
	}
	recs = make([]Record, 0, min(int(hdr.NumRecords), len(rd.Src)/8))
	for i := int32(0); i < hdr.NumRecords; i++ {
		_, value, err := readRecord(&rd)
		if err != nil {
			return hdr, nil, nil, fmt.Errorf("batch at offset %d, record %d: %w", hdr.BaseOffset, i, err)
		}
		r, err := Decode(value)
		if err != nil {
			return hdr, nil, nil, fmt.Errorf("batch at offset %d, record %d: %w", hdr.BaseOffset, i, err)
		}
		recs = append(recs, r)
	}
	if len(rd.Src) > 0 {
		return hdr, nil, nil, fmt.Errorf("batch at offset %d: %d bytes after the last record", hdr.BaseOffset, len(rd.Src))
	}
	return hdr, recs, nil, nil
}

func decodeBatchHeader(batch []byte) (BatchInfo, error) {
	var h BatchInfo
	if len(batch) < batchHeaderSize {
		return h, fmt.Errorf("record batch of %d bytes is shorter than a header", len(batch))
	}
	rd := kbin.Reader{Src: batch}
	h.BaseOffset = rd.Int64()
	h.Length = rd.Int32()
	h.PartitionLeaderEpoch = rd.Int32()
	h.Magic = rd.Int8()
	h.CRC = rd.Uint32()
	h.Attributes = rd.Int16()
	h.LastOffsetDelta = rd.Int32()
	h.FirstTimestamp = rd.Int64()
	h.MaxTimestamp = rd.Int64()
	h.ProducerID = rd.Int64()
	h.ProducerEpoch = rd.Int16()
	h.BaseSequence = rd.Int32()
	h.NumRecords = rd.Int32()
	switch {
	case int64(h.Length)+12 != int64(len(batch)):
		return h, fmt.Errorf("batch at offset %d: length field %d, have %d bytes", h.BaseOffset, h.Length, len(batch)-12)
	case h.Magic != recordBatchMagic:
		return h, fmt.Errorf("batch at offset %d: magic %d, want 2", h.BaseOffset, h.Magic)
	case crc32.Checksum(batch[batchCRCStart:], crc32.MakeTable(crc32.Castagnoli)) != h.CRC:
		return h, fmt.Errorf("batch at offset %d: CRC mismatch", h.BaseOffset)
	case h.Attributes&attrCompression != 0:
		return h, fmt.Errorf("batch at offset %d: compressed metadata batches are not supported", h.BaseOffset)
	case h.NumRecords < 0:
		return h, fmt.Errorf("batch at offset %d: %d records", h.BaseOffset, h.NumRecords)
	}
	return h, nil
}

func decodeControl(rd *kbin.Reader, n int32) (*ControlRecord, error) {
	if n != 1 {
		return nil, fmt.Errorf("control batch with %d records, want 1", n)
	}
	key, value, err := readRecord(rd)
	if err != nil {
		return nil, fmt.Errorf("control record: %w", err)
	}
	if len(key) < 4 {
		return nil, fmt.Errorf("control record key of %d bytes, want at least 4", len(key))
	}
	if len(rd.Src) > 0 {
		return nil, fmt.Errorf("control batch: %d bytes after the record", len(rd.Src))
	}
	kr := kbin.Reader{Src: key}
	c := &ControlRecord{Version: kr.Int16(), Type: kr.Int16(), Value: value}
	if c.Version < 0 {
		return nil, fmt.Errorf("control record key version %d", c.Version)
	}
	return c, nil
}

// readRecord reads one record of a batch and returns its key and value
// (aliasing the batch). Headers are skipped: we write none.
func readRecord(rd *kbin.Reader) (key, value []byte, err error) {
	size := rd.Varint()
	if !rd.Ok() || size < 0 || int(size) > len(rd.Src) {
		return nil, nil, fmt.Errorf("record length %d with %d bytes left", size, len(rd.Src))
	}
	r := kbin.Reader{Src: rd.Span(int(size))}
	r.Int8()    // attributes
	r.Varlong() // timestamp delta
	r.Varint()  // offset delta: 0 by our convention, not enforced on read
	key = r.VarintBytes()
	value = r.VarintBytes()
	headers := r.Varint()
	for i := int32(0); i < headers && r.Ok(); i++ {
		r.VarintBytes()
		r.VarintBytes()
	}
	if err := r.Complete(); err != nil || headers < 0 {
		return nil, nil, errors.New("truncated record")
	}
	if len(r.Src) > 0 {
		return nil, nil, fmt.Errorf("%d bytes after the record's fields", len(r.Src))
	}
	if value == nil {
		return nil, nil, errors.New("record with a null value")
	}
	return key, value, nil
}
