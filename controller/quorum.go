package controller

import (
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/tracker"
)

type voterStatus struct {
	id          int32
	end         int64 // the voter's log end offset
	lastContact int64 // ms; -1 unknown
	learner     bool  // a learner catching up (Kafka's observer)
}

type quorumStatus struct {
	leader bool
	term   uint64
	hw     int64
	voters []voterStatus
}

// quorumStatus reads raft's progress; loop only.
func (c *Controller) quorumStatus() quorumStatus {
	st := quorumStatus{leader: c.isLeader, term: c.term, hw: c.committed.Offset + 1}
	if !c.isLeader {
		return st
	}
	nowMs := c.now().UnixMilli()
	c.rn.WithProgress(func(id uint64, typ raft.ProgressType, pr tracker.Progress) {
		v := voterStatus{id: nodeID(id), end: int64(pr.Match) + 1, lastContact: -1, learner: typ == raft.ProgressTypeLearner}
		if pr.RecentActive || id == raftID(c.cfg.NodeID) {
			v.lastContact = nowMs
		}
		st.voters = append(st.voters, v)
	})
	return st
}
