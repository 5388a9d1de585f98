package controller

import (
	"context"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"

	"spool/protocol"
)

// A voter whose controller listeners changed (it restarted with another
// address) tells the quorum, as Kafka's voters do at start-up
// (UpdateRaftVoter, KIP-853): the leader records the new endpoints with a
// configuration change; a follower asks the leader to.

const selfUpdateEvery = 5 * time.Second

// maybeUpdateSelf checks, at most every selfUpdateEvery, whether the
// quorum knows this voter by other endpoints than its own; loop only.
func (c *Controller) maybeUpdateSelf(now time.Time) {
	self := c.cfg.Self
	if !c.cfg.Dynamic || len(self.Endpoints) == 0 || now.Before(c.nextSelfUpdate) {
		return
	}
	c.nextSelfUpdate = now.Add(selfUpdateEvery)
	v := c.view.Load()
	known, ok := c.members[self.ID]
	if !v.isVoter(self.ID) || !ok || slices.Equal(known.Endpoints, self.Endpoints) {
		return
	}
	if self.DirectoryID == "" {
		self.DirectoryID = known.DirectoryID
	}
	c.log.Info("the quorum knows this voter by other endpoints; updating them", zap.Any("known", known.Endpoints), zap.Any("now", self.Endpoints))
	if c.ready {
		if c.memberOp == nil && c.proposeMemberChange(raftpb.ConfChangeAddNode, self) == nil {
			c.memberOp = &memberOp{kind: opUpdate, member: self, deadline: now.Add(requestTimeout), done: func(error) {}}
		}
		return
	}
	// The leader may not be known: it cannot reach this voter before the
	// update. Any other voter refuses with NOT_CONTROLLER.
	var addrs []string
	if a := c.peerAddr(c.LeaderID()); a != "" {
		addrs = append(addrs, a)
	}
	for _, id := range v.voters {
		if a := c.peerAddr(id); id != self.ID && a != "" && !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	go c.sendUpdateVoter(addrs, self)
}

// sendUpdateVoter asks each of addrs in turn to record self's endpoints
// until the active controller does.
func (c *Controller) sendUpdateVoter(addrs []string, self Member) {
	for _, addr := range addrs {
		if c.updateVoterAt(addr, self) {
			return
		}
	}
}

func (c *Controller) updateVoterAt(addr string, self Member) bool {
	cl := protocol.NewClientDial(addr, "spool-update-voter", c.cfg.Dial)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	req := kmsg.NewPtrUpdateRaftVoterRequest()
	req.ClusterID = &c.cfg.ClusterID
	req.CurrentLeaderEpoch = c.Epoch()
	req.VoterID, req.VoterDirectoryID = self.ID, self.DirID()
	for _, e := range self.Endpoints {
		l := kmsg.NewUpdateRaftVoterRequestListener()
		l.Name, l.Host, l.Port = e.Name, e.Host, uint16(e.Port)
		req.Listeners = append(req.Listeners, l)
	}
	raw, err := cl.Request(ctx, req)
	if err != nil {
		c.log.Debug("UpdateRaftVoter failed", zap.String("controller", addr), zap.Error(err))
		return false
	}
	switch code := raw.(*kmsg.UpdateRaftVoterResponse).ErrorCode; code {
	case 0:
		return true
	case kerr.NotController.Code:
		return false
	default:
		c.log.Warn("the active controller refused UpdateRaftVoter; retrying", zap.String("controller", addr), zap.Int16("error_code", code))
		return true
	}
}
