package storage

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// attrDeleteHorizon marks a batch whose firstTimestamp holds the time after
// which its tombstones may go (KIP-534); record timestamps stay exact
// because their deltas are taken from that base.
const attrDeleteHorizon = 0x40

// record is one record of a batch, decoded as far as the cleaner needs.
type record struct {
	attrs     byte
	tsDelta   int64
	offDelta  int64
	key       []byte
	hasKey    bool
	tombstone bool
	tail      []byte // key, value and headers, copied as they are
}

// records iterates over the records region of a v2 batch.
type records struct {
	b    []byte
	left int32
}

// next decodes the next record; ok is false at the end.
func (rs *records) next() (record, bool, error) {
	if rs.left <= 0 {
		return record{}, false, nil
	}
	rs.left--
	n, rest, ok := uvarintZigzag(rs.b)
	if !ok || n < 1 || n > int64(len(rest)) {
		return record{}, false, fmt.Errorf("%w: record length", ErrCorruptBatch)
	}
	body := rest[:n]
	rs.b = rest[n:]
	r := record{attrs: body[0]}
	var ok1, ok2 bool
	r.tsDelta, body, ok1 = uvarintZigzag(body[1:])
	r.offDelta, body, ok2 = uvarintZigzag(body)
	if !ok1 || !ok2 {
		return record{}, false, fmt.Errorf("%w: record header", ErrCorruptBatch)
	}
	r.tail = body
	klen, body, ok := uvarintZigzag(body)
	if !ok || klen > int64(len(body)) {
		return record{}, false, fmt.Errorf("%w: record key", ErrCorruptBatch)
	}
	if klen >= 0 {
		r.key, r.hasKey, body = body[:klen], true, body[klen:]
	}
	vlen, _, ok := uvarintZigzag(body)
	if !ok {
		return record{}, false, fmt.Errorf("%w: record value", ErrCorruptBatch)
	}
	r.tombstone = vlen < 0
	return r, true, nil
}

// appendRecord encodes r with a new timestamp delta.
func appendRecord(dst []byte, r record, tsDelta int64) []byte {
	var hdr [1 + 2*binary.MaxVarintLen64]byte
	hdr[0] = r.attrs
	n := 1 + binary.PutVarint(hdr[1:], tsDelta)
	n += binary.PutVarint(hdr[n:], r.offDelta)
	dst = binary.AppendVarint(dst, int64(n+len(r.tail)))
	dst = append(dst, hdr[:n]...)
	return append(dst, r.tail...)
}

// encodeBatch appends a v2 batch with header fields from h (numRecords
// and the length are taken from recs) and computes its CRC.
func encodeBatch(dst []byte, h BatchHeader, recs []byte) []byte {
	be := binary.BigEndian
	start := len(dst)
	dst = be.AppendUint64(dst, uint64(h.BaseOffset))
	dst = be.AppendUint32(dst, uint32(BatchHeaderLen-12+len(recs)))
	dst = be.AppendUint32(dst, uint32(h.PartitionLeaderEpoch))
	dst = append(dst, 2)
	dst = be.AppendUint32(dst, 0) // crc, below
	dst = be.AppendUint16(dst, uint16(h.Attributes))
	dst = be.AppendUint32(dst, uint32(h.LastOffsetDelta))
	dst = be.AppendUint64(dst, uint64(h.FirstTimestamp))
	dst = be.AppendUint64(dst, uint64(h.MaxTimestamp))
	dst = be.AppendUint64(dst, uint64(h.ProducerID))
	dst = be.AppendUint16(dst, uint16(h.ProducerEpoch))
	dst = be.AppendUint32(dst, uint32(h.BaseSequence))
	dst = be.AppendUint32(dst, uint32(h.NumRecords))
	dst = append(dst, recs...)
	b := dst[start:]
	be.PutUint32(b[crcPos:], crc32.Checksum(b[crcStart:], crcTable))
	return dst
}
