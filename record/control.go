package record

import (
	"encoding/binary"
	"fmt"
)

// Control record types: the key of a control record is its version (int16,
// 0) then its type (int16). Abort and commit are transaction markers;
// LeaderChange, SnapshotHeader and SnapshotFooter belong to the metadata
// log.
const (
	ControlAbort          int16 = 0
	ControlCommit         int16 = 1
	ControlLeaderChange   int16 = 2
	ControlSnapshotHeader int16 = 3
	ControlSnapshotFooter int16 = 4
)

// Control is a control batch's record: its key version and type, and its
// value (aliasing the batch).
type Control struct {
	Version int16
	Type    int16
	Value   []byte
}

// AppendControl appends a control batch (the control bit set in h's
// attributes, which the caller fills otherwise) holding one control record
// of type typ with value.
func AppendControl(dst []byte, h Header, typ int16, value []byte) []byte {
	h.Attributes |= AttrControl
	h.NumRecords = 1
	var key [4]byte
	binary.BigEndian.PutUint16(key[2:], uint16(typ))
	start := len(dst)
	dst = AppendHeader(dst, h)
	dst = AppendRecord(dst, Record{Key: key[:], Value: value})
	return Finish(dst, start)
}

// AppendMarker appends a transaction marker: a transactional control
// batch of the producer whose one record says commit or abort, with the
// marker version (0) and the coordinator epoch as its value. The base
// offset and leader epoch are left for the log to assign.
func AppendMarker(dst []byte, producerID int64, producerEpoch int16, commit bool, coordinatorEpoch int32, nowMs int64) []byte {
	typ := ControlAbort
	if commit {
		typ = ControlCommit
	}
	var value [6]byte
	binary.BigEndian.PutUint32(value[2:], uint32(coordinatorEpoch))
	h := Header{
		PartitionLeaderEpoch: -1, Attributes: AttrTransactional,
		FirstTimestamp: nowMs, MaxTimestamp: nowMs,
		ProducerID: producerID, ProducerEpoch: producerEpoch, BaseSequence: -1,
	}
	return AppendControl(dst, h, typ, value[:])
}

// ParseControl reads the first record of a whole, uncompressed control
// batch (Kafka never compresses them).
func ParseControl(batch []byte) (Control, error) {
	h, err := ParseHeader(batch)
	if err != nil {
		return Control{}, err
	}
	if !h.IsControl() || h.Compression() != CompressionNone || h.NumRecords < 1 {
		return Control{}, fmt.Errorf("%w: batch at %d is not an uncompressed control batch", ErrCorrupt, h.BaseOffset)
	}
	it := NewIter(batch[HeaderLen:min(len(batch), max(h.TotalSize(), HeaderLen))], 1)
	r, ok := it.Next()
	if !ok {
		return Control{}, fmt.Errorf("control batch at %d: %w", h.BaseOffset, it.Err())
	}
	if len(r.Key) < 4 {
		return Control{}, fmt.Errorf("%w: control batch at %d: key of %d bytes", ErrCorrupt, h.BaseOffset, len(r.Key))
	}
	be := binary.BigEndian
	return Control{Version: int16(be.Uint16(r.Key)), Type: int16(be.Uint16(r.Key[2:])), Value: r.Value}, nil
}

// Marker is a transaction marker's meaning.
type Marker struct {
	Type             int16 // ControlAbort or ControlCommit
	CoordinatorEpoch int32 // -1 when the value does not carry it
}

// ParseMarker reads the marker of a control batch; Type says whether it is
// a transaction marker at all.
func ParseMarker(batch []byte) (Marker, error) {
	c, err := ParseControl(batch)
	if err != nil {
		return Marker{}, err
	}
	m := Marker{Type: c.Type, CoordinatorEpoch: -1}
	if len(c.Value) >= 6 {
		m.CoordinatorEpoch = int32(binary.BigEndian.Uint32(c.Value[2:]))
	}
	return m, nil
}

// IsMarker reports whether a control record type ends a transaction.
func IsMarker(typ int16) bool { return typ == ControlAbort || typ == ControlCommit }
