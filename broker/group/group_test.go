package group

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestJoinSyncFormsGeneration(t *testing.T) {
	d := newDriver(t, nil)
	ids := d.stable(3)
	if d.g.Generation() != 1 || d.g.Leader() != ids[0] || d.g.Protocol() != "range" {
		t.Fatalf("generation %d leader %q protocol %q", d.g.Generation(), d.g.Leader(), d.g.Protocol())
	}
	for _, m := range ids {
		if got := string(d.g.members[m].Assignment); got != "a-"+m {
			t.Fatalf("assignment of %s = %q", m, got)
		}
		if err := d.heartbeat(m, 1, nil); err != nil {
			t.Fatalf("heartbeat: %v", err)
		}
	}
}

func TestLeaderGetsMembersFollowersDoNot(t *testing.T) {
	d := newDriver(t, nil)
	a := d.joinResp(d.join("", nil)).MemberID
	b := d.joinResp(d.join("", nil)).MemberID
	ja, jb := d.join(a, nil), d.join(b, nil)
	ra, rb := d.joinResp(ja), d.joinResp(jb)
	if ra.LeaderID != a || len(ra.Members) != 2 || len(rb.Members) != 0 || rb.LeaderID != a {
		t.Fatalf("leader response %+v, follower %+v", ra, rb)
	}
	if *ra.ProtocolType != "consumer" || *ra.Protocol != "range" || ra.Generation != 1 {
		t.Fatalf("protocol %v/%v gen %d", *ra.ProtocolType, *ra.Protocol, ra.Generation)
	}
}

func TestInitialDelayWaitsForMoreMembers(t *testing.T) {
	d := newDriver(t, func(c *Config) { c.InitialRebalanceDelay = 3 * time.Second })
	a := d.joinResp(d.join("", nil)).MemberID
	ja := d.join(a, nil)
	d.advance(2 * time.Second)
	if _, ok := d.reply(ja); ok {
		t.Fatal("join answered before the initial delay")
	}
	b := d.joinResp(d.join("", nil)).MemberID
	jb := d.join(b, nil)
	// b's arrival buys another delay.
	d.advance(1500 * time.Millisecond)
	if _, ok := d.reply(jb); ok {
		t.Fatal("join answered before the extended delay")
	}
	d.advance(3 * time.Second)
	if d.joinResp(ja).Generation != 1 || d.joinResp(jb).Generation != 1 {
		t.Fatal("members not in generation 1")
	}
}

func TestLeaveRebalancesTheRest(t *testing.T) {
	d := newDriver(t, nil)
	ids := d.stable(2)
	r := kmsg.NewPtrLeaveGroupRequest()
	r.SetVersion(5)
	r.Group = "g"
	r.Members = []kmsg.LeaveGroupRequestMember{{MemberID: ids[1]}, {MemberID: "nobody"}}
	id := d.id()
	d.run(d.g.Leave(id, r, d.now))
	resp := d.replies[id].Msg.(*kmsg.LeaveGroupResponse)
	if resp.Members[0].ErrorCode != 0 || resp.Members[1].ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("leave answers %+v", resp.Members)
	}
	if d.g.State() != PreparingRebalance {
		t.Fatalf("state %v", d.g.State())
	}
	if err := d.heartbeat(ids[0], 1, nil); err != kerr.RebalanceInProgress {
		t.Fatalf("heartbeat during rebalance: %v", err)
	}
	j := d.join(ids[0], nil)
	resp2 := d.joinResp(j)
	if resp2.Generation != 2 || resp2.LeaderID != ids[0] || len(resp2.Members) != 1 {
		t.Fatalf("rejoin %+v", resp2)
	}
	// The last member leaving empties the group, which is stored.
	r.Members = []kmsg.LeaveGroupRequestMember{{MemberID: ids[0]}}
	d.run(d.g.Leave(d.id(), r, d.now))
	if d.g.State() != Empty || d.g.Generation() != 3 {
		t.Fatalf("state %v gen %d after the last leave", d.g.State(), d.g.Generation())
	}
}

func TestSessionExpiryRemovesSilentMember(t *testing.T) {
	d := newDriver(t, nil)
	ids := d.stable(2)
	for range 3 {
		d.advance(4 * time.Second)
		d.heartbeat(ids[0], 1, nil)
	}
	if d.g.members[ids[1]] != nil {
		t.Fatal("silent member still in the group after its session timeout")
	}
	if err := d.heartbeat(ids[0], 1, nil); err != kerr.RebalanceInProgress {
		t.Fatalf("heartbeat after expiry: %v", err)
	}
	if err := d.heartbeat(ids[1], 1, nil); err != kerr.UnknownMemberID {
		t.Fatalf("expired member heartbeat: %v", err)
	}
}

func TestRebalanceTimeoutDropsMembersThatDoNotRejoin(t *testing.T) {
	d := newDriver(t, nil)
	ids := d.stable(2)
	j := d.join(ids[0], nil) // the leader rejoins: a rebalance
	for range 8 {
		d.advance(4 * time.Second) // ids[1] heartbeats but never rejoins
		d.heartbeat(ids[1], 1, nil)
	}
	resp := d.joinResp(j)
	if resp.Generation != 2 || len(resp.Members) != 1 {
		t.Fatalf("after the rebalance timeout: %+v", resp)
	}
	if err := d.heartbeat(ids[1], 1, nil); err != kerr.UnknownMemberID {
		t.Fatalf("dropped member: %v", err)
	}
}

func TestSyncTimeoutDropsMembersThatNeverSync(t *testing.T) {
	d := newDriver(t, nil)
	a := d.joinResp(d.join("", nil)).MemberID
	b := d.joinResp(d.join("", nil)).MemberID
	d.join(a, nil)
	d.join(b, nil)
	s := d.sync(a, 1, nil, map[string]string{a: "x", b: "y"})
	if d.syncResp(s).ErrorCode != 0 {
		t.Fatal("leader sync failed")
	}
	for range 10 {
		d.advance(4 * time.Second)
		d.heartbeat(a, d.g.Generation(), nil)
	}
	if d.g.members[b] != nil {
		t.Fatal("member that never synced is still there")
	}
}

func TestGenerationAndMemberChecks(t *testing.T) {
	d := newDriver(t, nil)
	ids := d.stable(1)
	cases := []struct {
		name string
		got  error
		want error
	}{
		{"heartbeat old generation", d.heartbeat(ids[0], 0, nil), kerr.IllegalGeneration},
		{"heartbeat unknown member", d.heartbeat("x", 1, nil), kerr.UnknownMemberID},
		{"sync old generation", kerr.ErrorForCode(d.syncResp(d.sync(ids[0], 7, nil, nil)).ErrorCode), kerr.IllegalGeneration},
		{"sync unknown member", kerr.ErrorForCode(d.syncResp(d.sync("x", 1, nil, nil)).ErrorCode), kerr.UnknownMemberID},
		{"commit old generation", d.commitErr(d.commit(ids[0], 0, 9, map[string]int64{"t": 1})), kerr.IllegalGeneration},
		{"commit unknown member", d.commitErr(d.commit("x", 1, 9, map[string]int64{"t": 1})), kerr.UnknownMemberID},
		{"commit without member to live group", d.commitErr(d.commit("", -1, 9, map[string]int64{"t": 1})), kerr.UnknownMemberID},
		{"join unknown member", kerr.ErrorForCode(d.joinResp(d.join("x", nil)).ErrorCode), kerr.UnknownMemberID},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestSyncChecksProtocol(t *testing.T) {
	d := newDriver(t, nil)
	ids := d.stable(1)
	r := kmsg.NewPtrSyncGroupRequest()
	r.SetVersion(5)
	r.Group, r.MemberID, r.Generation, r.ProtocolType = "g", ids[0], 1, ptr("connect")
	id := d.id()
	d.run(d.g.Sync(id, r, d.now))
	if d.syncResp(id).ErrorCode != kerr.InconsistentGroupProtocol.Code {
		t.Fatal("wrong protocol type accepted")
	}
}

func TestJoinRejects(t *testing.T) {
	d := newDriver(t, func(c *Config) { c.MaxSize = 1 })
	d.stable(1)
	r := kmsg.NewPtrJoinGroupRequest()
	r.SetVersion(9)
	r.Group, r.SessionTimeoutMillis, r.RebalanceTimeoutMillis = "g", 10, 1000
	r.ProtocolType, r.Protocols = "consumer", consumerProtocols("range")
	id := d.id()
	d.run(d.g.Join(id, r, "c", "h", d.now))
	if e := d.joinResp(id).ErrorCode; e != kerr.InvalidSessionTimeout.Code {
		t.Errorf("tiny session timeout: %v", kerr.ErrorForCode(e))
	}
	if e := d.joinResp(d.join("", nil)).ErrorCode; e != kerr.GroupMaxSizeReached.Code {
		t.Errorf("join beyond group.max.size: %v", kerr.ErrorForCode(e))
	}
	d.cfg.MaxSize = 10
	if e := d.joinResp(d.join("", nil, "roundrobin")).ErrorCode; e != kerr.InconsistentGroupProtocol.Code {
		t.Errorf("join without a common protocol: %v", kerr.ErrorForCode(e))
	}
}

func TestProtocolSelectionByVotes(t *testing.T) {
	d := newDriver(t, nil)
	a := d.joinResp(d.join("", nil, "range", "sticky")).MemberID
	b := d.joinResp(d.join("", nil, "sticky", "range")).MemberID
	c := d.joinResp(d.join("", nil, "sticky", "range", "rr")).MemberID
	d.join(a, nil, "range", "sticky")
	d.join(b, nil, "sticky", "range")
	d.join(c, nil, "sticky", "range", "rr")
	if d.g.Protocol() != "sticky" {
		t.Fatalf("selected %q, want sticky (2 votes to 1)", d.g.Protocol())
	}
}
