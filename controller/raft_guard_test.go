package controller

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"spool/config"
	"spool/controller/metadata"
	"spool/protocol"
)

func guardController() *Controller {
	return &Controller{cfg: Config{NodeID: 1, Voters: []config.Voter{{ID: 1}, {ID: 2}, {ID: 3}}}}
}

func raftMsg(from, to uint64, typ raftpb.MessageType, entries ...*raftpb.Entry) *raftpb.Message {
	return &raftpb.Message{From: proto.Uint64(from), To: proto.Uint64(to), Type: typ.Enum(), Term: proto.Uint64(1), Entries: entries}
}

func TestRaftMessageSenderChecks(t *testing.T) {
	c := guardController()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := (&protocol.Request{ConnID: 7}).WithContext(ctx)
	good := metadata.AppendRecordBatch(nil, 0, 1, 0, []metadata.Record{&metadata.RemoveTopicRecord{}})
	cases := []struct {
		name string
		m    *raftpb.Message
		ok   bool
	}{
		{"from a voter", raftMsg(3, 2, raftpb.MsgHeartbeat), true},
		{"to another node", raftMsg(3, 3, raftpb.MsgHeartbeat), false},
		{"from itself", raftMsg(2, 2, raftpb.MsgHeartbeat), false},
		{"from a non-voter", raftMsg(9, 2, raftpb.MsgHeartbeat), false},
		{"other sender on a bound connection", raftMsg(4, 2, raftpb.MsgHeartbeat), false},
		{"leadership transfer", raftMsg(3, 2, raftpb.MsgTimeoutNow), false},
		{"garbage entry", raftMsg(3, 2, raftpb.MsgApp, &raftpb.Entry{Index: proto.Uint64(5), Data: []byte("garbage")}), false},
		{"garbage conf change", raftMsg(3, 2, raftpb.MsgApp, &raftpb.Entry{Type: raftpb.EntryConfChange.Enum(), Data: []byte{0xff, 0xff}}), false},
		{"valid batch", raftMsg(3, 2, raftpb.MsgApp, &raftpb.Entry{Index: proto.Uint64(5), Data: good}), true},
	}
	for _, tc := range cases {
		err := c.checkRaftMessage(req, tc.m)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
}

func TestRegisterNeedsItsSession(t *testing.T) {
	img := metadata.Empty()
	req := kmsg.NewPtrBrokerRegistrationRequest()
	req.ClusterID, req.BrokerID, req.IncarnationID = "c", 4, [16]byte{1}
	req.LogDirs = [][16]byte{{9}}
	alive := func(int32) bool { return true }
	openConn := func(int32) (bool, bool) { return false, true }
	recs, _, err := register(img, req, "c", alive, openConn)
	if err != nil || len(recs) != 1 {
		t.Fatal(err)
	}
	if got := recs[0].(*metadata.RegisterBrokerRecord).IncarnationID; got == req.IncarnationID {
		t.Fatal("the metadata log would carry the incarnation id itself")
	}
	d := metadata.NewDelta(img)
	d.Replay(recs[0])
	img = d.Apply()
	// The same incarnation is a retry; another one, even with the same
	// dirs, is refused while the registering connection is open.
	if recs, _, err := register(img, req, "c", alive, openConn); err != nil || len(recs) != 0 {
		t.Fatalf("retry: %v %v", recs, err)
	}
	other := *req
	other.IncarnationID = [16]byte{2}
	if _, _, err := register(img, &other, "c", alive, openConn); err != kerr.DuplicateBrokerRegistration {
		t.Fatalf("second incarnation while the first's connection is open: %v", err)
	}
	closedConn := func(int32) (bool, bool) { return true, true }
	if _, _, err := register(img, &other, "c", alive, closedConn); err != nil {
		t.Fatalf("restart after the connection closed: %v", err)
	}
}
