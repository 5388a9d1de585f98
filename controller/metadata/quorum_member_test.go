package metadata

import (
	"slices"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// The members a broker reads from the metadata log's configuration
// changes: an addition's Context, a removal's node id (raft id - 1).
func TestConfChangeMembers(t *testing.T) {
	m := QuorumMember{ID: 4, DirectoryID: "AAAAAAAAAAAAAAAAAAAAAQ", Endpoints: []QuorumEndpoint{{Name: "CONTROLLER", Host: "h4", Port: 9093}}}
	add := &raftpb.ConfChangeV2{
		Changes: []*raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeAddLearnerNode.Enum(), NodeId: proto.Uint64(5)}},
		Context: []byte(`{"id":4,"directory_id":"AAAAAAAAAAAAAAAAAAAAAQ","endpoints":[{"name":"CONTROLLER","host":"h4","port":9093}]}`),
	}
	raw, _ := proto.Marshal(add)
	got, ok, removed := ConfChangeMembers(append([]byte{byte(raftpb.EntryConfChangeV2)}, raw...))
	if !ok || got.ID != m.ID || got.AddrFor("controller") != "h4:9093" || got.DirID()[15] != 1 || len(removed) != 0 {
		t.Fatalf("addition: %+v %v %v", got, ok, removed)
	}
	rm := &raftpb.ConfChangeV2{Changes: []*raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeRemoveNode.Enum(), NodeId: proto.Uint64(2)}}}
	raw, _ = proto.Marshal(rm)
	if _, ok, removed := ConfChangeMembers(append([]byte{byte(raftpb.EntryConfChangeV2)}, raw...)); ok || !slices.Equal(removed, []int32{1}) {
		t.Fatalf("removal: %v %v", ok, removed)
	}
	// A static quorum's bootstrap changes carry no member; garbage is
	// ignored rather than fatal.
	v1, _ := proto.Marshal(&raftpb.ConfChange{Type: raftpb.ConfChangeAddNode.Enum(), NodeId: proto.Uint64(1)})
	for _, value := range [][]byte{append([]byte{byte(raftpb.EntryConfChange)}, v1...), {byte(raftpb.EntryConfChangeV2), 0xff, 0xff}, nil, {9}} {
		if _, ok, removed := ConfChangeMembers(value); ok || len(removed) != 0 {
			t.Fatalf("%x: %v %v", value, ok, removed)
		}
	}
}
