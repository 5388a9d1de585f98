package controller

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"

	"spool/controller/metadata"
)

// The controller quorum's membership. etcd raft's configuration (voters and
// learners, by raft id) is the membership; what raft does not keep, each
// controller's metadata log directory id and controller endpoints, travels
// in the Context of the configuration change that adds it (JSON of a
// Member) and in snapshots, so every controller, and a restarted one,
// knows how to reach every other. A learner is a controller catching up
// before AddRaftVoter promotes it (Kafka's observer).

// Endpoint and Member are shared with brokers (controller/metadata).
type (
	Endpoint = metadata.QuorumEndpoint
	Member   = metadata.QuorumMember
)

// DirIDBytes decodes a base64url directory id; a malformed one is zero.
func DirIDBytes(s string) [16]byte { return Member{DirectoryID: s}.DirID() }

func memberContext(m Member) []byte {
	b, _ := json.Marshal(m)
	return b
}

func parseMemberContext(b []byte) (Member, bool) { return metadata.ParseQuorumMember(b) }

// memberView is the membership as other goroutines read it (the raft
// guard, DescribeCluster, DescribeQuorum's nodes).
type memberView struct {
	members  map[int32]Member
	voters   []int32
	learners []int32
}

func (v *memberView) isVoter(id int32) bool   { return slices.Contains(v.voters, id) }
func (v *memberView) isLearner(id int32) bool { return slices.Contains(v.learners, id) }

// listenerName is the controller listener peers are reached on: the first
// of controller.listener.names, as in Kafka.
func (c *Controller) listenerName() string {
	if c.cfg.Static != nil {
		if names := c.cfg.Static.List("controller.listener.names"); len(names) > 0 {
			return strings.ToUpper(names[0])
		}
	}
	return "CONTROLLER"
}

// staticMembers are the members a static quorum names in its config.
func (c *Controller) staticMembers() map[int32]Member {
	out := map[int32]Member{}
	for _, v := range c.cfg.Voters {
		out[v.ID] = Member{ID: v.ID, Endpoints: []Endpoint{{Name: c.listenerName(), Host: v.Host, Port: v.Port}}}
	}
	return out
}

// applyConfChange applies a committed configuration change to raft and to
// the membership; loop only.
func (c *Controller) applyConfChange(cc raftpb.ConfChangeI) {
	c.confState = c.rn.ApplyConfChange(cc)
	v2 := cc.AsV2()
	m, hasMember := parseMemberContext(v2.Context)
	members := maps.Clone(c.members)
	if members == nil {
		members = map[int32]Member{}
	}
	for _, ch := range v2.Changes {
		id := nodeID(ch.GetNodeId())
		switch ch.GetType() {
		case raftpb.ConfChangeAddNode, raftpb.ConfChangeAddLearnerNode:
			if hasMember && m.ID == id {
				members[id] = m
			}
			// raft sends a new member the snapshot it holds, which must
			// name the member (etcd raft refuses one that does not): once
			// the log has been compacted, snapshot again with it.
			c.snapshotNow = c.snapshotNow || c.store.snapshot.EndOffset > 0
		case raftpb.ConfChangeRemoveNode:
			if !c.cfg.Dynamic {
				continue
			}
			delete(members, id)
		}
		c.log.Info("controller quorum changed", zap.Int32("node", id), zap.Stringer("change", ch.GetType()),
			zap.Int32s("voters", nodeIDs(c.confState.Voters)), zap.Int32s("learners", nodeIDs(c.confState.Learners)))
	}
	c.members = members
	c.publishMembers()
	c.memberOpApplied(v2)
}

// publishMembers makes the membership visible to other goroutines and
// points the transport at every member; loop only.
func (c *Controller) publishMembers() {
	v := &memberView{members: c.members}
	if c.confState != nil {
		v.voters, v.learners = nodeIDs(c.confState.Voters), nodeIDs(c.confState.Learners)
	}
	c.view.Store(v)
	for id, m := range c.members {
		if a := m.AddrFor(c.listenerName()); a != "" && id != c.cfg.NodeID {
			c.trans.setPeer(raftID(id), a)
		}
	}
	for rid := range c.trans.peers {
		id := nodeID(rid)
		if _, ok := c.members[id]; !ok && !v.isVoter(id) && !v.isLearner(id) && c.discovered[id] == "" {
			c.trans.removePeer(rid)
		}
	}
}

// peerAddr is where member id is reached: its endpoints, else what the
// bootstrap servers said; loop only.
func (c *Controller) peerAddr(id int32) string {
	if m, ok := c.members[id]; ok {
		if a := m.AddrFor(c.listenerName()); a != "" {
			return a
		}
	}
	return c.discovered[id]
}

func nodeIDs(raftIDs []uint64) []int32 {
	out := make([]int32, len(raftIDs))
	for i, id := range raftIDs {
		out[i] = nodeID(id)
	}
	return out
}
