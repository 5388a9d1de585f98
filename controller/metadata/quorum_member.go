package metadata

import (
	"encoding/base64"
	"encoding/json"
	"net"
	"strconv"
	"strings"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// A dynamic controller quorum's members (KIP-853). The raft configuration
// changes that add a controller carry it, as JSON of a QuorumMember, in
// their Context, so every reader of the metadata log (controllers, and
// brokers looking for the active controller) learns where each voter
// listens.

// QuorumEndpoint is one controller listener of a member.
type QuorumEndpoint struct {
	Name string `json:"name"`
	Host string `json:"host"`
	Port int    `json:"port"`
}

// Addr is host:port.
func (e QuorumEndpoint) Addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// QuorumMember is a controller of the quorum: its node id, the directory id
// of its metadata log dir (base64url, as in meta.properties) and its
// controller endpoints.
type QuorumMember struct {
	ID          int32            `json:"id"`
	DirectoryID string           `json:"directory_id,omitempty"`
	Endpoints   []QuorumEndpoint `json:"endpoints"`
}

// DirID is the directory id as Kafka's 16-byte Uuid; zero if unknown.
func (m QuorumMember) DirID() [16]byte {
	var id [16]byte
	b, err := base64.RawURLEncoding.DecodeString(m.DirectoryID)
	if err == nil && len(b) == 16 {
		copy(id[:], b)
	}
	return id
}

// EndpointFor is the member's endpoint on listener name, or its first one.
func (m QuorumMember) EndpointFor(name string) QuorumEndpoint {
	for _, e := range m.Endpoints {
		if strings.EqualFold(e.Name, name) {
			return e
		}
	}
	if len(m.Endpoints) > 0 {
		return m.Endpoints[0]
	}
	return QuorumEndpoint{}
}

// AddrFor is host:port of EndpointFor(name), or "" if the member has none.
func (m QuorumMember) AddrFor(name string) string {
	if e := m.EndpointFor(name); e.Host != "" || e.Port != 0 {
		return e.Addr()
	}
	return ""
}

// ParseQuorumMember decodes a configuration change's Context.
func ParseQuorumMember(b []byte) (QuorumMember, bool) {
	var m QuorumMember
	if len(b) == 0 || json.Unmarshal(b, &m) != nil || len(m.Endpoints) == 0 {
		return QuorumMember{}, false
	}
	return m, true
}

// ConfChangeMembers reads a ControlConfChange record's value (the raft
// entry type byte, then the protobuf ConfChange or ConfChangeV2): the
// member it adds (ok false if none) and the node ids it removes.
func ConfChangeMembers(value []byte) (added QuorumMember, ok bool, removed []int32) {
	if len(value) == 0 {
		return QuorumMember{}, false, nil
	}
	var cc raftpb.ConfChangeI
	switch raftpb.EntryType(value[0]) {
	case raftpb.EntryConfChange:
		var v1 raftpb.ConfChange
		if proto.Unmarshal(value[1:], &v1) != nil {
			return QuorumMember{}, false, nil
		}
		cc = &v1
	case raftpb.EntryConfChangeV2:
		var v2 raftpb.ConfChangeV2
		if proto.Unmarshal(value[1:], &v2) != nil {
			return QuorumMember{}, false, nil
		}
		cc = &v2
	default:
		return QuorumMember{}, false, nil
	}
	v2 := cc.AsV2()
	added, ok = ParseQuorumMember(v2.Context)
	for _, ch := range v2.Changes {
		if ch.GetType() == raftpb.ConfChangeRemoveNode {
			removed = append(removed, int32(ch.GetNodeId())-1) // raft id = node id + 1
		}
	}
	return added, ok, removed
}

// DirIDString encodes a directory id as meta.properties writes it.
func DirIDString(id [16]byte) string {
	if id == [16]byte{} {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(id[:])
}
