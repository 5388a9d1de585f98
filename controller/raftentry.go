package controller

import (
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"spool/controller/metadata"
	"spool/record"
)

// entryToBatch encodes a raft entry as the record batch stored in the
// metadata log. Normal entries already carry a batch (the proposer encoded
// the records); only its offset and epoch are patched, outside the CRC.
// Raft's own entries become control batches: the new leader's empty entry a
// LeaderChange, configuration changes a ConfChange whose value is the entry
// type byte followed by the protobuf bytes.
func entryToBatch(dst []byte, e *raftpb.Entry, nowMs int64) []byte {
	idx, term := int64(e.GetIndex()), int32(e.GetTerm())
	switch e.GetType() {
	case raftpb.EntryNormal:
		if len(e.Data) == 0 {
			return metadata.AppendControlBatch(dst, idx, term, nowMs, metadata.ControlLeaderChange, nil)
		}
		start := len(dst)
		dst = append(dst, e.Data...)
		record.SetBaseOffset(dst[start:], idx)
		record.SetPartitionLeaderEpoch(dst[start:], term)
		return dst
	default:
		value := append([]byte{byte(e.GetType())}, e.Data...)
		return metadata.AppendControlBatch(dst, idx, term, nowMs, metadata.ControlConfChange, value)
	}
}

// batchToEntry is the inverse of entryToBatch.
func batchToEntry(batch []byte) (*raftpb.Entry, error) {
	h, err := record.ParseHeader(batch)
	if err != nil {
		return nil, err
	}
	e := &raftpb.Entry{
		Index: proto.Uint64(uint64(h.BaseOffset)),
		Term:  proto.Uint64(uint64(h.PartitionLeaderEpoch)),
		Type:  raftpb.EntryNormal.Enum(),
	}
	if !h.IsControl() {
		e.Data = append([]byte(nil), batch...)
		return e, nil
	}
	_, _, ctl, err := metadata.DecodeBatch(batch)
	if err != nil {
		return nil, err
	}
	switch ctl.Type {
	case metadata.ControlLeaderChange:
	case metadata.ControlConfChange:
		if len(ctl.Value) == 0 {
			return nil, fmt.Errorf("conf change batch at %d has no value", h.BaseOffset)
		}
		t := raftpb.EntryType(ctl.Value[0])
		e.Type = &t
		e.Data = append([]byte(nil), ctl.Value[1:]...)
	default:
		return nil, fmt.Errorf("unexpected control type %d at offset %d", ctl.Type, h.BaseOffset)
	}
	return e, nil
}
