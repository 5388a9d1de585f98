package controller

import (
	"context"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/tracker"
)

// Stats is what the operator endpoints report about the controller.
type Stats struct {
	NodeID   int32
	Active   bool   // this node is the raft leader, the active controller
	LeaderID int32  // -1 while no leader is known
	State    string // raft state: StateLeader, StateFollower, StateCandidate, StatePreCandidate
	Term     uint64
	// CommitIndex is raft's commit index; AppliedOffset the offset of the
	// last batch applied to the image.
	CommitIndex   uint64
	AppliedOffset int64
	// Voters is each voter's replication lag behind the leader's last
	// index, known on the active controller only.
	Voters []VoterLag
	// RaftRefused counts raft messages refused by the sender, entry and
	// lease checks.
	RaftRefused int64
}

// VoterLag is one voter's replication state as the leader sees it.
type VoterLag struct {
	ID           int32
	MatchIndex   uint64
	Lag          uint64 // leader's last index - MatchIndex
	RecentActive bool
}

// InQuorum reports whether the node follows or leads a known leader: what
// a controller's readiness means.
func (s Stats) InQuorum() bool {
	return s.LeaderID >= 0 && (s.State == raft.StateLeader.String() || s.State == raft.StateFollower.String())
}

// Stats reads the raft state on the loop; it fails when the loop does not
// answer within a second (a stopped or wedged controller).
func (c *Controller) Stats() (Stats, error) {
	s := Stats{NodeID: c.cfg.NodeID, LeaderID: c.LeaderID(), RaftRefused: c.raftRefused.Load(), AppliedOffset: c.Image().Offset}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := c.do(ctx, func() {
		st := c.rn.Status()
		s.State, s.Term, s.CommitIndex = st.RaftState.String(), st.GetTerm(), st.GetCommit()
		s.Active = st.RaftState == raft.StateLeader
		if !s.Active {
			return
		}
		last := st.Progress[st.ID].Match
		c.rn.WithProgress(func(id uint64, typ raft.ProgressType, pr tracker.Progress) {
			if typ != raft.ProgressTypePeer {
				return
			}
			v := VoterLag{ID: nodeID(id), MatchIndex: pr.Match, RecentActive: pr.RecentActive || id == st.ID}
			if last > pr.Match {
				v.Lag = last - pr.Match
			}
			s.Voters = append(s.Voters, v)
		})
	})
	return s, err
}
