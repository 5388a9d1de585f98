package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"spool/controller/metadata"
	"spool/storage"
)

// A HardState write that runs out of space holds the Ready: nothing of it
// is sent, proposals are refused, and once space is back the same Ready is
// written, then sent.
func TestOutOfSpaceHoldsTheReadyUntilItIsWritten(t *testing.T) {
	ev := &eventLog{}
	c := newTestController(t, ev)
	c.drain(t)
	full := true
	write := c.store.writeState
	c.store.writeState = func(dir string, hs *raftpb.HardState) error {
		if full {
			ev.add("hardstate ENOSPC")
			return fmt.Errorf("write quorum-state.tmp: %w", syscall.ENOSPC)
		}
		return write(dir, hs)
	}
	ev.events = nil
	if err := c.rn.Campaign(); err != nil {
		t.Fatal(err)
	}
	c.drain(t) // pre-vote: no HardState change
	term := c.rn.BasicStatus().HardState.GetTerm() + 1
	c.rn.Step(resp(raftpb.MsgPreVoteResp, raftID(1), raftID(0), term))
	c.drain(t)
	if c.stalled == nil || !c.MetadataLogFull() {
		t.Fatalf("not stalled after ENOSPC; events %v", ev.events)
	}
	for _, e := range ev.events {
		if strings.HasPrefix(e, "send MsgVote") {
			t.Fatalf("vote request sent before the vote was durable: %v", ev.events)
		}
	}
	var got error
	c.propose(nil, func(err error) { got = err })
	if len(c.cfg.Voters) > 1 && !errors.Is(got, ErrNotController) {
		t.Fatalf("proposal while full: %v, want NOT_CONTROLLER with other voters", got)
	}
	c.cfg.Voters, c.confState = c.cfg.Voters[:1], &raftpb.ConfState{Voters: []uint64{raftID(0)}}
	c.propose(nil, func(err error) { got = err })
	if !errors.Is(got, ErrMetadataLogFull) || errorCode(got) != 56 {
		t.Fatalf("proposal of a lone voter while full: %v (code %d), want KAFKA_STORAGE_ERROR", got, errorCode(got))
	}

	ev.events = nil
	full = false
	c.stalled.next = time.Time{}
	if err := c.retryStalled(); err != nil {
		t.Fatal(err)
	}
	if c.stalled != nil || c.MetadataLogFull() {
		t.Fatal("still stalled after the write went through")
	}
	if len(ev.events) < 2 || !strings.HasPrefix(ev.events[0], "hardstate term=") || !strings.HasPrefix(ev.events[1], "send MsgVote") {
		t.Fatalf("events after space came back: %v, want the HardState then the vote requests", ev.events)
	}
}

// A failed fsync is never taken for a full disk, even when its cause is
// ENOSPC: the pages may be gone, so retrying could not make them durable.
func TestFailedSyncIsNotRetriedAsOutOfSpace(t *testing.T) {
	err := fmt.Errorf("sync metadata log: %w: %w", storage.ErrSyncFailed, syscall.ENOSPC)
	if outOfSpace(err) {
		t.Fatal("a failed fsync was taken for a full disk")
	}
	if !outOfSpace(fmt.Errorf("append metadata log: %w", syscall.ENOSPC)) {
		t.Fatal("ENOSPC on append not taken for a full disk")
	}
}

// An active controller whose metadata log fills stops looking active to
// brokers while other voters can elect a controller with space: it names
// no leader and answers even a heartbeat that changes nothing with
// NOT_CONTROLLER. Answering such heartbeats kept every broker talking to
// it while the new active controller, hearing from none of them, fenced
// them all once their sessions lapsed.
func TestStalledActiveControllerStepsAsideForBrokers(t *testing.T) {
	c := newTestController(t, &eventLog{})
	c.drain(t)
	c.isLeader, c.ready = true, true
	c.leaderID.Store(c.cfg.NodeID)
	c.store.writeState = func(string, *raftpb.HardState) error {
		return fmt.Errorf("write quorum-state.tmp: %w", syscall.ENOSPC)
	}
	held, err := c.persistReady(raft.Ready{HardState: &raftpb.HardState{Term: proto.Uint64(7), Commit: proto.Uint64(0)}}, saveSnapshot)
	if err != nil || !held {
		t.Fatalf("persist on a full disk: held %v, err %v", held, err)
	}
	if id := c.LeaderID(); id != -1 {
		t.Fatalf("stalled controller names leader %d, want none", id)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for {
			select {
			case f := <-c.ops:
				f()
			case <-ctx.Done():
				return
			}
		}
	}()
	noChange := func(*metadata.Image) ([]metadata.Record, error) { return nil, nil }
	if err := c.write(ctx, noChange); !errors.Is(err, ErrNotController) {
		t.Fatalf("heartbeat that changes nothing while stalled: %v, want NOT_CONTROLLER", err)
	}
	// A lone voter has nobody to step aside for: it keeps answering.
	c.cfg.Voters, c.confState = c.cfg.Voters[:1], &raftpb.ConfState{Voters: []uint64{raftID(0)}}
	if err := c.write(ctx, noChange); err != nil {
		t.Fatalf("lone voter's heartbeat that changes nothing while stalled: %v", err)
	}
}
