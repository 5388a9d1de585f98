package controller

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"spool/config"
	"spool/storage"
)

// eventLog records the order of durable writes and sends.
type eventLog struct{ events []string }

func (e *eventLog) add(ev string) { e.events = append(e.events, ev) }

// newTestController builds a controller of a three-voter quorum whose
// fsyncs, HardState writes and sends are recorded instead of performed
// (sends) or observed (fsyncs, HardState).
func newTestController(t *testing.T, ev *eventLog) *Controller {
	t.Helper()
	c, err := New(Config{
		NodeID: 0, ClusterID: "q1Sh-9_ISia_zwGINzRvyQ", MetadataLogDir: t.TempDir(),
		Voters:          []config.Voter{{ID: 0, Host: "127.0.0.1", Port: 1}, {ID: 1, Host: "127.0.0.1", Port: 2}, {ID: 2, Host: "127.0.0.1", Port: 3}},
		ElectionTimeout: time.Second, SessionTimeout: 9 * time.Second,
		Static: config.MustNew(nil), Storage: storage.DefaultConfig(), Logger: zap.NewNop(),
		Fsync: func(f *os.File) error { ev.add("fsync"); return f.Sync() },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	write := c.store.writeState
	c.store.writeState = func(dir string, hs *raftpb.HardState) error {
		ev.add(fmt.Sprintf("hardstate term=%d vote=%d", hs.GetTerm(), hs.GetVote()))
		return write(dir, hs)
	}
	c.send = func(msgs []*raftpb.Message) {
		for _, m := range msgs {
			ev.add("send " + m.GetType().String())
		}
	}
	return c
}

func (c *Controller) drain(t *testing.T) {
	t.Helper()
	for c.rn.HasReady() {
		if err := c.handleReady(); err != nil {
			t.Fatal(err)
		}
	}
}

func resp(typ raftpb.MessageType, from, to, term uint64) *raftpb.Message {
	return &raftpb.Message{Type: typ.Enum(), From: proto.Uint64(from), To: proto.Uint64(to), Term: proto.Uint64(term)}
}

// Nothing is sent before the entries and HardState of the same Ready are
// durable: a vote request goes out only after the vote for itself is on
// disk, and a leader's appends only after its log is fsynced.
func TestRaftPersistsBeforeSending(t *testing.T) {
	ev := &eventLog{}
	c := newTestController(t, ev)
	c.drain(t) // bootstrap conf changes
	ev.events = nil

	self := raftID(0)
	if err := c.rn.Campaign(); err != nil {
		t.Fatal(err)
	}
	c.drain(t) // pre-vote requests
	term := c.rn.BasicStatus().HardState.GetTerm() + 1
	c.rn.Step(resp(raftpb.MsgPreVoteResp, raftID(1), self, term))
	c.drain(t) // becomes candidate: HardState(term, vote=self), then vote requests
	c.rn.Step(resp(raftpb.MsgVoteResp, raftID(1), self, term))
	c.drain(t) // leader: empty entry fsynced, then appends sent

	firstIndex := func(prefix string) int {
		for i, e := range ev.events {
			if len(e) >= len(prefix) && e[:len(prefix)] == prefix {
				return i
			}
		}
		return -1
	}
	hs := firstIndex(fmt.Sprintf("hardstate term=%d vote=%d", term, self))
	vote := firstIndex("send MsgVote")
	if hs < 0 || vote < 0 || hs > vote {
		t.Fatalf("HardState must be written before vote requests are sent: %v", ev.events)
	}
	app := firstIndex("send MsgApp")
	if app < 0 {
		t.Fatalf("leader sent no appends: %v", ev.events)
	}
	synced := false
	for _, e := range ev.events[vote:app] {
		synced = synced || e == "fsync"
	}
	if !synced {
		t.Fatalf("appends sent before the leader's entry was fsynced: %v", ev.events)
	}
}

// The raft log, HardState and conf state survive a restart.
func TestRaftStateSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	open := func() *Controller {
		c, err := New(Config{
			NodeID: 0, ClusterID: "q1Sh-9_ISia_zwGINzRvyQ", MetadataLogDir: dir,
			Voters:          []config.Voter{{ID: 0, Host: "127.0.0.1", Port: 1}},
			ElectionTimeout: time.Second, SessionTimeout: 9 * time.Second,
			Static: config.MustNew(nil), Storage: storage.DefaultConfig(), Logger: zap.NewNop(),
		})
		if err != nil {
			t.Fatal(err)
		}
		c.send = func([]*raftpb.Message) {}
		return c
	}
	c := open()
	c.drain(t)
	c.rn.Campaign()
	c.drain(t)
	if !c.isLeader || !c.ready {
		t.Fatalf("single voter did not become a ready leader")
	}
	c.drain(t) // metadata.version bootstrap commits
	if c.committed.MetadataVersion() != MetadataVersion {
		t.Fatalf("metadata.version %d", c.committed.MetadataVersion())
	}
	last, _ := c.store.mem.LastIndex()
	term := c.term
	c.Close()

	c = open()
	defer c.Close()
	if got, _ := c.store.mem.LastIndex(); got != last {
		t.Fatalf("last index %d after reopen, want %d", got, last)
	}
	hs, _, _ := c.store.mem.InitialState()
	if hs.GetTerm() != term || hs.GetVote() != raftID(0) {
		t.Fatalf("hard state %v after reopen, want term %d vote %d", hs, term, raftID(0))
	}
	c.drain(t)
	c.rn.Campaign()
	c.drain(t)
	if c.committed.MetadataVersion() != MetadataVersion || c.committed.Offset < int64(last) {
		t.Fatalf("image after replay: offset %d mv %d", c.committed.Offset, c.committed.MetadataVersion())
	}
}
