package controller

import (
	"context"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"spool/controller/metadata"
	"spool/record"
)

// run is the controller's only goroutine touching raft and the images.
func (c *Controller) run(ctx context.Context) {
	defer close(c.done)
	tick := time.NewTicker(c.cfg.ElectionTimeout / 10)
	defer tick.Stop()
	campaigned := false
	for {
		select {
		case <-ctx.Done():
			c.failWaiters(ErrNotController)
			return
		case <-tick.C:
			if c.stalled != nil {
				if err := c.retryStalled(); err != nil {
					c.log.Fatal("metadata log write failed", zap.Error(err))
				}
				break
			}
			c.rn.Tick()
			c.maybeUpdateSelf(c.now())
			c.onTick()
		case m := <-c.recv:
			if c.stalled != nil {
				break // raft takes a dropped message as loss
			}
			if !c.leaseGuard(m) {
				c.raftRefused.Add(1)
				break
			}
			if err := c.rn.Step(m); err != nil {
				c.log.Debug("raft step", zap.Error(err))
			}
		case f := <-c.ops:
			f()
		case id := <-c.trans.unreachable:
			c.rn.ReportUnreachable(id)
		case s := <-c.trans.snapshots:
			// Either way the follower is probed again: one that could not
			// use the snapshot (or never got it) is sent the newest one.
			status := raft.SnapshotFinish
			if s.failed {
				status = raft.SnapshotFailure
			}
			c.rn.ReportSnapshot(s.to, status)
		}
		for c.stalled == nil && c.rn.HasReady() {
			if err := c.handleReady(); err != nil {
				// A controller that cannot persist its log must not go on
				// voting or leading with state it may have lost.
				c.log.Fatal("metadata log write failed", zap.Error(err))
			}
		}
		if !campaigned && c.stalled == nil && c.loneVoter() {
			// A lone voter need not wait out an election timeout; it can
			// campaign once its configuration is applied.
			campaigned = true
			c.rn.Campaign()
		}
	}
}

// loneVoter reports whether this controller is the quorum's only voter.
func (c *Controller) loneVoter() bool {
	cs := c.confState
	return cs != nil && len(cs.Voters) == 1 && cs.Voters[0] == raftID(c.cfg.NodeID)
}

func (c *Controller) handleReady() error {
	rd := c.rn.Ready()
	held, err := c.persistReady(rd, saveSnapshot)
	if err != nil || held {
		return err
	}
	return c.finishReady(rd)
}

// finishReady acts on a Ready whose state is durable: it sends the
// messages, applies committed entries and advances raft.
func (c *Controller) finishReady(rd raft.Ready) error {
	if c.store.installed {
		c.store.installed = false
		c.committed, c.spec, c.confState = c.store.image, c.store.image, c.store.confState
		if c.cfg.Dynamic {
			c.members = c.store.members
		}
		c.publishMembers()
		c.image.Store(c.committed)
		c.hw.set(c.committed.Offset)
		c.log.Info("installed metadata snapshot from the leader", zap.String("snapshot", c.store.snapshot.FileName()))
	}
	c.send(rd.Messages)
	if rd.SoftState != nil {
		c.onSoftState(rd.SoftState)
	}
	if rd.HardState != nil && rd.HardState.GetTerm() != c.term {
		c.term = rd.HardState.GetTerm()
		c.epoch.Store(int32(c.term))
	}
	if len(rd.CommittedEntries) > 0 {
		if err := c.apply(rd.CommittedEntries); err != nil {
			return err
		}
	}
	c.rn.Advance(rd)
	return nil
}

func (c *Controller) onSoftState(ss *raft.SoftState) {
	prev := c.leaderID.Load()
	if ss.Lead == raft.None {
		c.leaderID.Store(-1)
	} else {
		c.leaderID.Store(nodeID(ss.Lead))
	}
	if now := c.leaderID.Load(); now != prev && now >= 0 && now != c.cfg.NodeID {
		c.log.Info("following the active controller", zap.Int32("leader", now), zap.Uint64("term", c.term))
	}
	leader := ss.RaftState == raft.StateLeader
	if leader == c.isLeader {
		return
	}
	c.isLeader = leader
	c.ready = false
	c.spec = c.committed
	c.failWaiters(ErrNotController)
	c.finishMemberOp(ErrNotController)
	if leader {
		c.log.Info("became active controller", zap.Uint64("term", c.term))
		c.brokers.reset(c.now())
		c.nextRebalance = c.now().Add(c.cfg.LeaderRebalanceInterval)
		c.leaderlessCheck = true
	} else {
		c.log.Info("no longer active controller", zap.Int32("leader", c.leaderID.Load()))
	}
}

// apply replays committed entries into one delta and publishes the result.
func (c *Controller) apply(entries []*raftpb.Entry) error {
	delta := metadata.NewDelta(c.committed)
	var last *raftpb.Entry
	for _, e := range entries {
		last = e
		switch e.GetType() {
		case raftpb.EntryNormal:
			if len(e.Data) == 0 {
				if c.isLeader && e.GetTerm() == c.term {
					// Everything before this term's first entry is applied:
					// the speculative image may now start from committed.
					c.ready = true
				}
				continue
			}
			c.appliedSinceSnapshot += int64(len(e.Data))
			hdr, recs, _, err := metadata.DecodeBatch(e.Data)
			if err != nil {
				// Entries are decoded before they are stepped, so only a
				// damaged disk gets here; the node stays up and says so.
				c.log.Error("committed metadata entry does not decode; skipping it", zap.Uint64("offset", e.GetIndex()), zap.Error(err))
				continue
			}
			for _, r := range recs {
				if err := delta.Replay(r); err != nil {
					c.log.Error("metadata record refused", zap.Uint64("offset", e.GetIndex()), zap.String("type", metadata.TypeName(r.Type())), zap.Error(err))
				}
				c.leaderlessCheck = c.leaderlessCheck || uncleanTrigger(r)
			}
			if w, ok := c.waiters[uint64(hdr.ProducerID)]; ok {
				delete(c.waiters, uint64(hdr.ProducerID))
				defer w(nil)
			}
		case raftpb.EntryConfChange:
			var cc raftpb.ConfChange
			if err := proto.Unmarshal(e.Data, &cc); err != nil {
				c.log.Error("committed configuration change does not decode; skipping it", zap.Uint64("offset", e.GetIndex()), zap.Error(err))
				continue
			}
			c.applyConfChange(&cc)
		case raftpb.EntryConfChangeV2:
			var cc raftpb.ConfChangeV2
			if err := proto.Unmarshal(e.Data, &cc); err != nil {
				c.log.Error("committed configuration change does not decode; skipping it", zap.Uint64("offset", e.GetIndex()), zap.Error(err))
				continue
			}
			c.applyConfChange(&cc)
		}
	}
	delta.SetOffset(int64(last.GetIndex()), int32(last.GetTerm()))
	c.committed = delta.Apply()
	c.image.Store(c.committed)
	if !c.isLeader || len(c.waiters) == 0 {
		// Nothing of ours is in flight: the speculative image is exactly
		// the committed one (this also drops records of a lost term).
		c.spec = c.committed
	}
	c.brokers.applied(c.committed)
	c.hw.set(int64(last.GetIndex()))
	c.maybeBootstrap()
	c.maybeSnapshot()
	return nil
}

// MetadataVersion is the metadata.version level a new cluster starts at:
// Kafka 4.0-IV3, the level whose records and RPC versions Spool speaks.
const MetadataVersion int16 = 25

// ShareVersionFeature turns share groups (KIP-932) on at level 1, which a
// new cluster starts at, as Kafka 4.2 and later do.
const ShareVersionFeature = "share.version"

// maybeBootstrap finalizes metadata.version (and share.version) in a new
// cluster's log, as the first thing its first active controller writes;
// the bootstrap records of the format come after, so they may override.
func (c *Controller) maybeBootstrap() {
	if !c.ready || c.spec.MetadataVersion() != 0 {
		return
	}
	recs := []metadata.Record{
		&metadata.FeatureLevelRecord{Name: metadata.MetadataVersionFeature, FeatureLevel: MetadataVersion},
		&metadata.FeatureLevelRecord{Name: ShareVersionFeature, FeatureLevel: 1},
	}
	c.propose(append(recs, c.cfg.Bootstrap...), func(error) {})
}

// propose encodes recs as one batch, applies them to the speculative image
// and calls done when the batch commits (or leadership is lost).
func (c *Controller) propose(recs []metadata.Record, done func(error)) {
	if c.stalled != nil {
		done(c.fullError(c.stalled.err))
		return
	}
	c.nextPropID++
	id := c.nextPropID
	batch := metadata.AppendRecordBatch(nil, 0, int32(c.term), c.now().UnixMilli(), recs)
	// The producer id field carries the proposal id so the commit can be
	// matched to its waiter.
	record.SetProducerID(batch, int64(id))
	if err := c.rn.Propose(batch); err != nil {
		done(ErrNotController)
		return
	}
	delta := metadata.NewDelta(c.spec)
	for _, r := range recs {
		if err := delta.Replay(r); err != nil {
			c.log.Error("proposed record does not apply", zap.String("type", metadata.TypeName(r.Type())), zap.Error(err))
		}
	}
	c.spec = delta.Apply()
	c.waiters[id] = done
}

func (c *Controller) failWaiters(err error) {
	for id, w := range c.waiters {
		delete(c.waiters, id)
		w(err)
	}
}

// onTick runs the leader's timers: broker session expiry, leader
// rebalancing, delegation token expiry.
func (c *Controller) onTick() {
	if !c.ready {
		return
	}
	now := c.now()
	c.advanceMemberOp(now)
	c.fenceExpired(now)
	c.electLeaderless(now)
	if c.leaderRebalanceDue(now) {
		c.rebalanceLeaders()
	}
	c.expireTokens(now)
}
