package controller

import (
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"spool/controller/metadata"
)

// FuzzValidateEntry feeds arbitrary raft messages through the checks a
// message from the controller listener passes before it reaches raft:
// none may panic, and an entry they accept must apply without error.
func FuzzValidateEntry(f *testing.F) {
	batch := metadata.AppendRecordBatch(nil, 0, 1, 0, []metadata.Record{&metadata.RemoveTopicRecord{}})
	m := &raftpb.Message{Type: raftpb.MsgApp.Enum(), From: proto.Uint64(3), To: proto.Uint64(2),
		Entries: []*raftpb.Entry{{Index: proto.Uint64(1), Data: batch}}}
	raw, _ := proto.Marshal(m)
	f.Add(raw)
	f.Add(batch)
	f.Fuzz(func(t *testing.T, data []byte) {
		var m raftpb.Message
		if proto.Unmarshal(data, &m) == nil {
			for _, e := range m.Entries {
				validateEntry(e)
			}
		}
		for _, typ := range []raftpb.EntryType{raftpb.EntryNormal, raftpb.EntryConfChange, raftpb.EntryConfChangeV2} {
			e := &raftpb.Entry{Type: typ.Enum(), Data: data}
			if validateEntry(e) == nil && typ == raftpb.EntryNormal && len(data) > 0 {
				if _, _, _, err := metadata.DecodeBatch(data); err != nil {
					t.Fatalf("accepted an entry apply cannot decode: %v", err)
				}
			}
		}
	})
}
