package metadata

import (
	"errors"
	"fmt"

	"spool/record"
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
	it := record.NewIter(batch[record.HeaderLen:], hdr.NumRecords)
	if hdr.IsControl() {
		control, err = decodeControl(&it, hdr.NumRecords)
		return hdr, nil, control, err
	}
	recs = make([]Record, 0, min(int(hdr.NumRecords), (len(batch)-record.HeaderLen)/8))
	for rec, ok := it.Next(); ok; rec, ok = it.Next() {
		i := it.Index() - 1
		if rec.Value == nil {
			return hdr, nil, nil, fmt.Errorf("batch at offset %d, record %d: record with a null value", hdr.BaseOffset, i)
		}
		r, err := Decode(rec.Value)
		if err != nil {
			return hdr, nil, nil, fmt.Errorf("batch at offset %d, record %d: %w", hdr.BaseOffset, i, err)
		}
		recs = append(recs, r)
	}
	if err := it.Err(); err != nil {
		return hdr, nil, nil, fmt.Errorf("batch at offset %d: %w", hdr.BaseOffset, err)
	}
	if len(it.Rest()) > 0 {
		return hdr, nil, nil, fmt.Errorf("batch at offset %d: %d bytes after the last record", hdr.BaseOffset, len(it.Rest()))
	}
	return hdr, recs, nil, nil
}

func decodeBatchHeader(batch []byte) (BatchInfo, error) {
	if len(batch) < record.HeaderLen {
		return BatchInfo{}, fmt.Errorf("record batch of %d bytes is shorter than a header", len(batch))
	}
	h, _ := record.ParseHeader(batch)
	switch {
	case int64(h.BatchLength)+12 != int64(len(batch)):
		return h, fmt.Errorf("batch at offset %d: length field %d, have %d bytes", h.BaseOffset, h.BatchLength, len(batch)-12)
	case h.Magic != 2:
		return h, fmt.Errorf("batch at offset %d: magic %d, want 2", h.BaseOffset, h.Magic)
	case record.BatchChecksum(batch) != h.CRC:
		return h, fmt.Errorf("batch at offset %d: CRC mismatch", h.BaseOffset)
	case h.Compression() != record.CompressionNone:
		return h, fmt.Errorf("batch at offset %d: compressed metadata batches are not supported", h.BaseOffset)
	case h.NumRecords < 0:
		return h, fmt.Errorf("batch at offset %d: %d records", h.BaseOffset, h.NumRecords)
	}
	return h, nil
}

func decodeControl(it *record.Iter, n int32) (*ControlRecord, error) {
	if n != 1 {
		return nil, fmt.Errorf("control batch with %d records, want 1", n)
	}
	r, ok := it.Next()
	if !ok {
		return nil, fmt.Errorf("control record: %w", it.Err())
	}
	if len(r.Key) < 4 {
		return nil, fmt.Errorf("control record key of %d bytes, want at least 4", len(r.Key))
	}
	if len(it.Rest()) > 0 {
		return nil, fmt.Errorf("control batch: %d bytes after the record", len(it.Rest()))
	}
	c := &ControlRecord{Version: int16(uint16(r.Key[0])<<8 | uint16(r.Key[1])), Type: int16(uint16(r.Key[2])<<8 | uint16(r.Key[3])), Value: r.Value}
	if c.Version < 0 {
		return nil, errors.New("control record key version below 0")
	}
	if c.Value == nil {
		return nil, errors.New("control record with a null value")
	}
	return c, nil
}
