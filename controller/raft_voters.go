package controller

import (
	"context"
	"fmt"
	"slices"
	"spool/controller/metadata"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
)

// Voter changes (KIP-853) as raft configuration changes, one at a time.
// Adding a voter first adds it as a learner, which the leader replicates to
// like any follower; once its log reaches the commit index it is promoted
// to voter, so a new voter never stalls commits while it catches up. A
// learner that does not catch up before the request's timeout is removed
// again. Removing a voter removes it from the configuration; a removed
// leader steps down once the change commits.

type memberOpKind int

const (
	opAdd memberOpKind = iota
	opRemove
	opUpdate
)

type memberOp struct {
	kind   memberOpKind
	member Member
	// added is set once the new member is a learner; addedHere when this
	// request made it one (so a timeout removes it again).
	added, addedHere, promoting bool
	// undoing is set while a learner that did not catch up is being
	// removed; failed is the answer once it is.
	undoing  bool
	failed   error
	deadline time.Time
	done     func(error)
}

// changeVoters starts a voter change on the loop and waits for its end.
func (c *Controller) changeVoters(ctx context.Context, start func() (*memberOp, error)) error {
	result := make(chan error, 1)
	err := c.do(ctx, func() {
		op, err := start()
		if err != nil {
			result <- err
			return
		}
		op.done = func(err error) { result <- err }
		c.memberOp = op
		c.advanceMemberOp(c.now())
	})
	if err != nil {
		return err
	}
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// checkVoterChange holds what every voter change needs; loop only.
func (c *Controller) checkVoterChange(clusterID *string) error {
	switch {
	case !c.cfg.Dynamic:
		return fmt.Errorf("%w: the controller quorum is static (controller.quorum.voters); voters can be added and removed only in a quorum formatted for it (controller.quorum.bootstrap.servers and storage format --standalone or --initial-controllers)", kerr.UnsupportedVersion)
	case clusterID != nil && *clusterID != "" && *clusterID != c.cfg.ClusterID:
		return fmt.Errorf("%w: cluster id %s is not this cluster's (%s)", kerr.InconsistentClusterID, *clusterID, c.cfg.ClusterID)
	case !c.ready:
		return ErrNotController
	case c.memberOp != nil:
		return fmt.Errorf("%w: another voter change is in progress", kerr.RequestTimedOut)
	}
	return nil
}

// AddVoter makes m a voter: a learner first, promoted once caught up.
func (c *Controller) AddVoter(ctx context.Context, clusterID *string, m Member, timeout time.Duration) error {
	return c.changeVoters(ctx, func() (*memberOp, error) {
		if err := c.checkVoterChange(clusterID); err != nil {
			return nil, err
		}
		v := c.view.Load()
		if v.isVoter(m.ID) {
			return nil, fmt.Errorf("%w: node %d is already a voter", kerr.DuplicateVoter, m.ID)
		}
		if m.AddrFor(c.listenerName()) == "" || !slices.ContainsFunc(m.Endpoints, func(e Endpoint) bool { return strings.EqualFold(e.Name, c.listenerName()) }) {
			return nil, fmt.Errorf("%w: the new voter's listeners must include %s, the quorum's controller listener", kerr.InvalidRequest, c.listenerName())
		}
		op := &memberOp{kind: opAdd, member: m, deadline: c.now().Add(timeout), added: v.isLearner(m.ID)}
		if !op.added {
			op.addedHere = true
			if err := c.proposeMemberChange(raftpb.ConfChangeAddLearnerNode, m); err != nil {
				return nil, err
			}
		}
		return op, nil
	})
}

// RemoveVoter removes voter id (whose directory id must match dirID unless
// either is unknown) from the quorum.
func (c *Controller) RemoveVoter(ctx context.Context, clusterID *string, id int32, dirID [16]byte) error {
	return c.changeVoters(ctx, func() (*memberOp, error) {
		if err := c.checkVoterChange(clusterID); err != nil {
			return nil, err
		}
		v := c.view.Load()
		m, known := c.members[id]
		if !v.isVoter(id) || (known && dirID != [16]byte{} && m.DirID() != [16]byte{} && m.DirID() != dirID) {
			return nil, fmt.Errorf("%w: no voter %d with directory id %s", kerr.VoterNotFound, id, metadata.DirIDString(dirID))
		}
		if err := c.checkLiveMajority(raftID(id)); err != nil {
			return nil, err
		}
		m.ID = id
		if err := c.proposeMemberChange(raftpb.ConfChangeRemoveNode, m); err != nil {
			return nil, err
		}
		return &memberOp{kind: opRemove, member: m, deadline: c.now().Add(requestTimeout)}, nil
	})
}

// UpdateVoter records voter m's new endpoints.
func (c *Controller) UpdateVoter(ctx context.Context, clusterID *string, m Member) error {
	return c.changeVoters(ctx, func() (*memberOp, error) {
		if err := c.checkVoterChange(clusterID); err != nil {
			return nil, err
		}
		old, known := c.members[m.ID]
		if !c.view.Load().isVoter(m.ID) || (known && old.DirectoryID != "" && m.DirectoryID != "" && old.DirectoryID != m.DirectoryID) {
			return nil, fmt.Errorf("%w: no voter %d with directory id %s", kerr.VoterNotFound, m.ID, m.DirectoryID)
		}
		if m.DirectoryID == "" {
			m.DirectoryID = old.DirectoryID
		}
		if err := c.proposeMemberChange(raftpb.ConfChangeAddNode, m); err != nil {
			return nil, err
		}
		return &memberOp{kind: opUpdate, member: m, deadline: c.now().Add(requestTimeout)}, nil
	})
}

// checkLiveMajority refuses a removal that would leave the voters without
// a majority the leader has heard from lately.
func (c *Controller) checkLiveMajority(removed uint64) error {
	var voters, live int
	self := raftID(c.cfg.NodeID)
	c.rn.WithProgress(func(id uint64, typ raft.ProgressType, pr tracker.Progress) {
		if typ != raft.ProgressTypePeer || id == removed {
			return
		}
		voters++
		if pr.RecentActive || id == self {
			live++
		}
	})
	switch {
	case voters == 0:
		return fmt.Errorf("%w: the quorum's only voter cannot be removed", kerr.InvalidRequest)
	case live <= voters/2:
		return fmt.Errorf("%w: without this voter only %d of the remaining %d voters would be reachable, not a majority", kerr.InvalidRequest, live, voters)
	}
	return nil
}

func (c *Controller) proposeMemberChange(typ raftpb.ConfChangeType, m Member) error {
	cc := &raftpb.ConfChangeV2{
		Changes: []*raftpb.ConfChangeSingle{{Type: typ.Enum(), NodeId: proto.Uint64(raftID(m.ID))}},
		Context: memberContext(m),
	}
	if err := c.rn.ProposeConfChange(cc); err != nil {
		return ErrNotController
	}
	return nil
}

// advanceMemberOp promotes a caught-up learner and expires the change in
// progress; loop only (each tick, and when a change starts).
func (c *Controller) advanceMemberOp(now time.Time) {
	op := c.memberOp
	if op == nil {
		return
	}
	if now.After(op.deadline) {
		timedOut := fmt.Errorf("%w: the voter change did not complete in time (is node %d running, reachable and caught up?)", kerr.RequestTimedOut, op.member.ID)
		if op.kind == opAdd && !op.promoting && op.addedHere && op.added && !op.undoing {
			// A learner that never caught up is not kept: the answer waits
			// (briefly) for its removal, so the caller sees the quorum as
			// it was.
			if c.proposeMemberChange(raftpb.ConfChangeRemoveNode, op.member) == nil {
				op.undoing, op.failed, op.deadline = true, timedOut, now.Add(c.cfg.ElectionTimeout)
				return
			}
		}
		c.finishMemberOp(timedOut)
		return
	}
	if op.kind != opAdd || !op.added || op.promoting || op.undoing || !c.caughtUp(raftID(op.member.ID)) {
		return
	}
	if err := c.proposeMemberChange(raftpb.ConfChangeAddNode, op.member); err != nil {
		c.finishMemberOp(err)
		return
	}
	op.promoting = true
	c.log.Info("promoting caught-up controller to voter", zap.Int32("node", op.member.ID))
}

// caughtUp reports whether learner id has the log up to the commit index.
func (c *Controller) caughtUp(id uint64) bool {
	commit := c.rn.BasicStatus().GetCommit()
	ok := false
	c.rn.WithProgress(func(pid uint64, _ raft.ProgressType, pr tracker.Progress) {
		if pid == id && pr.Match >= commit {
			ok = true
		}
	})
	return ok
}

// memberOpApplied moves the change in progress on when its configuration
// change commits; loop only.
func (c *Controller) memberOpApplied(cc *raftpb.ConfChangeV2) {
	op := c.memberOp
	if op == nil {
		return
	}
	for _, ch := range cc.Changes {
		if nodeID(ch.GetNodeId()) != op.member.ID {
			continue
		}
		switch {
		case op.undoing && ch.GetType() == raftpb.ConfChangeRemoveNode:
			c.finishMemberOp(op.failed)
		case op.kind == opAdd && ch.GetType() == raftpb.ConfChangeAddLearnerNode:
			op.added = true
		case op.kind == opAdd && ch.GetType() == raftpb.ConfChangeAddNode && op.promoting,
			op.kind == opRemove && ch.GetType() == raftpb.ConfChangeRemoveNode,
			op.kind == opUpdate && ch.GetType() == raftpb.ConfChangeAddNode:
			c.finishMemberOp(nil)
		}
	}
}

func (c *Controller) finishMemberOp(err error) {
	if op := c.memberOp; op != nil {
		c.memberOp = nil
		op.done(err)
	}
}
