package controller

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"spool/config"
	"spool/controller/metadata"
	"spool/protocol"
)

// What the controller checks before a raft message reaches etcd raft. The
// raft key is registered only on the controller server, so it is never
// served on a broker listener. With an authorizer, guard (authorize.go)
// has already required CLUSTER_ACTION of the connection's principal; on an
// unauthenticated controller listener a host that can reach it can still
// impersonate a voter, which is why the README says to bind it to a
// private address.

var errRaftSender = errors.New("raft message refused")

// raftPeers binds each connection that carries raft messages to the voter
// that sent its first one: a later message claiming another sender is
// refused, so one connection cannot speak for several voters.
type raftPeers struct {
	mu     sync.Mutex
	byConn map[uint64]uint64 // connection id -> raft id
}

// checkRaftMessage decides whether m, read from req, may be stepped. It
// checks the sender and recipient and decodes every entry the message
// carries, so a message that would append garbage is refused whole.
func (c *Controller) checkRaftMessage(req *protocol.Request, m *raftpb.Message) error {
	self := raftID(c.cfg.NodeID)
	if m.GetTo() != self {
		return fmt.Errorf("%w: addressed to raft id %d, this node is %d", errRaftSender, m.GetTo(), self)
	}
	from := m.GetFrom()
	if from == self || !c.mayHearFrom(nodeID(from)) {
		return fmt.Errorf("%w: sender raft id %d is not another member of the quorum", errRaftSender, from)
	}
	// The principal was checked by guard; Kafka's principals carry no
	// node id either, so any node may claim any voter id, but one
	// connection may speak for only one.
	if err := c.peers.bind(req, from); err != nil {
		return err
	}
	if m.GetType() == raftpb.MsgTimeoutNow {
		// Spool never transfers leadership; a forged one would force an
		// election past the leader's lease.
		return fmt.Errorf("%w: leadership transfer is not used", errRaftSender)
	}
	for _, e := range m.Entries {
		if err := validateEntry(e); err != nil {
			return fmt.Errorf("raft entry %d: %w", e.GetIndex(), err)
		}
	}
	return nil
}

// mayHearFrom reports whether raft messages from node id are taken: from
// the voters and learners of the configuration (and, in a static quorum,
// the configured voters). A controller that is in no configuration yet (a
// dynamic quorum's new controller, waiting to be added) hears from anyone
// reaching its controller listener, since it cannot know the leader yet.
func (c *Controller) mayHearFrom(id int32) bool {
	if slices.ContainsFunc(c.cfg.Voters, func(v config.Voter) bool { return v.ID == id }) {
		return true
	}
	v := c.view.Load()
	if v == nil {
		return false
	}
	if v.isVoter(id) || v.isLearner(id) {
		return true
	}
	self := c.cfg.NodeID
	return c.cfg.Dynamic && !v.isVoter(self) && !v.isLearner(self)
}

func (p *raftPeers) bind(req *protocol.Request, from uint64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byConn == nil {
		p.byConn = map[uint64]uint64{}
	}
	got, ok := p.byConn[req.ConnID]
	if ok && got != from {
		return fmt.Errorf("%w: connection speaks for raft id %d, message claims %d", errRaftSender, got, from)
	}
	if !ok {
		p.byConn[req.ConnID] = from
		id := req.ConnID
		go func() {
			<-req.Context().Done()
			p.mu.Lock()
			delete(p.byConn, id)
			p.mu.Unlock()
		}()
	}
	return nil
}

// validateEntry decodes an entry as the apply step will: a normal entry is
// an empty leader entry or a record batch whose every record decodes; a
// configuration change must parse.
func validateEntry(e *raftpb.Entry) error {
	switch e.GetType() {
	case raftpb.EntryNormal:
		if len(e.Data) == 0 {
			return nil
		}
		hdr, _, ctl, err := metadata.DecodeBatch(e.Data)
		if err != nil {
			return err
		}
		if ctl != nil || hdr.IsControl() {
			return errors.New("a control batch is not a normal entry")
		}
		return nil
	case raftpb.EntryConfChange:
		return proto.Unmarshal(e.Data, &raftpb.ConfChange{})
	case raftpb.EntryConfChangeV2:
		return proto.Unmarshal(e.Data, &raftpb.ConfChangeV2{})
	}
	return fmt.Errorf("unknown entry type %d", e.GetType())
}

// leaseGuard drops messages that would depose a leader the node still
// hears from, the way etcd raft's CheckQuorum lease already treats votes:
// a heartbeat, append or snapshot of a higher term while the node leads, or
// while it heard from its leader within the election timeout, and one of
// the current term from a node other than the known leader (two leaders in
// one term cannot exist). Ignoring a message is always safe in raft; a
// true new leader is heard once the old lease lapses. Loop only.
func (c *Controller) leaseGuard(m *raftpb.Message) bool {
	switch m.GetType() {
	case raftpb.MsgApp, raftpb.MsgHeartbeat, raftpb.MsgSnap:
	default:
		return true
	}
	st := c.rn.BasicStatus()
	term := st.GetTerm()
	switch {
	case m.GetTerm() > term:
		if st.RaftState == raft.StateLeader {
			return false
		}
		return st.Lead == raft.None || c.now().Sub(c.lastLeaderContact) >= c.cfg.ElectionTimeout
	case m.GetTerm() == term:
		if st.RaftState == raft.StateLeader || (st.Lead != raft.None && st.Lead != m.GetFrom()) {
			return false
		}
		c.lastLeaderContact = c.now()
	}
	return true
}
