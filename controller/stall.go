package controller

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"go.etcd.io/raft/v3"
	"go.uber.org/zap"

	"spool/storage"
)

// ErrMetadataLogFull means the metadata log's disk is out of space: the
// controller holds its unwritten raft state and refuses metadata changes
// (KAFKA_STORAGE_ERROR) until space is freed, then goes on by itself.
var ErrMetadataLogFull = errors.New("the metadata log dir is out of space; metadata changes are refused until space is freed")

// stallRetry is how often a held Ready is written again.
const stallRetry = time.Second

// stall is a Ready whose entries or HardState could not be written for
// lack of space. raft must not see another Ready before this one is
// persisted and advanced, so while it is held the loop neither ticks nor
// steps the raft node (incoming raft messages are dropped, which raft
// tolerates as loss): to its peers the node looks partitioned away, so a
// quorum with space elects another leader, and this node rejoins once the
// write goes through. Reads of the committed image and heartbeats that
// change nothing go on being answered by a lone voter. With other voters
// the node steps aside for the stall: it names no leader and answers
// heartbeats NOT_CONTROLLER, as a Kafka leader that loses touch with the
// quorum resigns. Brokers then look for the controller the others elect;
// answering them here kept them heartbeating to a node no longer leading,
// and the new active controller fenced them when their sessions lapsed.
type stall struct {
	rd    raft.Ready
	step  saveStep
	err   error
	since time.Time
	next  time.Time
	// leader is the leader id the node knew when it stalled, named again
	// if it resumes with raft's state unchanged.
	leader int32
}

// outOfSpace reports an error that freeing space cures. A failed fsync
// or a failed log never is: its pages may be gone, so it stays fatal.
func outOfSpace(err error) bool {
	if errors.Is(err, storage.ErrSyncFailed) || errors.Is(err, storage.ErrLogDirFailed) {
		return false
	}
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// persistReady writes rd (from step on); out of space it holds rd and
// reports held. Any other error is returned.
func (c *Controller) persistReady(rd raft.Ready, step saveStep) (held bool, err error) {
	if err := c.store.save(&rd, &step); err != nil {
		if !outOfSpace(err) {
			return false, err
		}
		now := c.now()
		if c.stalled == nil {
			c.log.Error("metadata log dir is out of space: metadata changes are refused until space is freed; the node keeps serving",
				zap.String("dir", c.store.dir), zap.Error(err))
			c.stalled = &stall{since: now, leader: c.leaderID.Load()}
			if c.voterCount() > 1 {
				c.leaderID.Store(-1)
			}
			c.failWaiters(c.fullError(err))
		}
		c.stalled.rd, c.stalled.step, c.stalled.err, c.stalled.next = rd, step, err, now.Add(stallRetry)
		c.full.Store(true)
		return true, nil
	}
	return false, nil
}

// retryStalled writes the held Ready again when it is due, and finishes it
// (messages, applies, Advance) once it is written.
func (c *Controller) retryStalled() error {
	s := c.stalled
	if s == nil || c.now().Before(s.next) {
		return nil
	}
	held, err := c.persistReady(s.rd, s.step)
	if err != nil || held {
		return err
	}
	c.stalled = nil
	c.full.Store(false)
	c.leaderID.Store(s.leader)
	if c.isLeader {
		// Heartbeats were refused or unheard while stalled: every broker
		// starts a fresh session, as with a newly active controller.
		c.brokers.reset(c.now())
	}
	c.log.Info("metadata log dir has space again; metadata changes are accepted", zap.Duration("stalled", c.now().Sub(s.since)))
	return c.finishReady(s.rd)
}

// fullError is what a refused metadata change gets while the log is full.
// With other voters the answer is NOT_CONTROLLER, so brokers and clients
// find the controller that a quorum with space elects instead.
func (c *Controller) fullError(cause error) error {
	if c.voterCount() > 1 {
		return ErrNotController
	}
	return fmt.Errorf("%w (%s: %v)", ErrMetadataLogFull, c.store.dir, cause)
}

// voterCount is the number of voters in the applied configuration, which
// a dynamic quorum (KIP-853) changes.
func (c *Controller) voterCount() int {
	if c.confState != nil {
		return len(c.confState.GetVoters())
	}
	return len(c.cfg.Voters)
}

// MetadataLogFull reports whether the metadata log is held for lack of
// space.
func (c *Controller) MetadataLogFull() bool { return c.full.Load() }
