package group

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// stableStatic forms a stable group of static members i1..in.
func (d *driver) stableStatic(n int) []string {
	d.t.Helper()
	var joins []ReqID
	d.cfg.InitialRebalanceDelay = 100 * time.Millisecond
	for i := range n {
		joins = append(joins, d.join("", ptr(instance(i)))) // static members need no second join
	}
	d.advance(200 * time.Millisecond)
	d.cfg.InitialRebalanceDelay = 0
	var ids []string
	for _, j := range joins {
		ids = append(ids, d.joinResp(j).MemberID)
	}
	assign := map[string]string{}
	for _, m := range ids {
		assign[m] = "a-" + m
	}
	for _, m := range ids {
		a := map[string]string(nil)
		if m == d.g.Leader() {
			a = assign
		}
		d.sync(m, d.g.Generation(), ptr(instanceOf(d, m)), a)
	}
	if d.g.State() != Stable {
		d.t.Fatalf("state %v", d.g.State())
	}
	return ids
}

func instance(i int) string { return "i" + string(rune('0'+i)) }

func instanceOf(d *driver, member string) string { return *d.g.members[member].InstanceID }

func TestStaticMemberRejoinsWithoutRebalance(t *testing.T) {
	d := newDriver(t, nil)
	ids := d.stableStatic(2)
	gen := d.g.Generation()
	// i1 restarts: it joins with no member id and the same protocols.
	resp := d.joinResp(d.join("", ptr("i1")))
	if resp.ErrorCode != 0 || resp.Generation != gen || resp.MemberID == ids[1] {
		t.Fatalf("rejoin: err %v gen %d member %q", kerr.ErrorForCode(resp.ErrorCode), resp.Generation, resp.MemberID)
	}
	if d.g.State() != Stable || d.g.Generation() != gen {
		t.Fatalf("state %v gen %d: the rejoin rebalanced", d.g.State(), d.g.Generation())
	}
	if got := string(d.g.members[resp.MemberID].Assignment); got != "a-"+ids[1] {
		t.Fatalf("assignment kept %q", got)
	}
	s := d.syncResp(d.sync(resp.MemberID, gen, ptr("i1"), nil))
	if s.ErrorCode != 0 || string(s.MemberAssignment) != "a-"+ids[1] {
		t.Fatalf("sync after rejoin: %v %q", kerr.ErrorForCode(s.ErrorCode), s.MemberAssignment)
	}
	// The old incarnation is fenced.
	if err := d.heartbeat(ids[1], gen, ptr("i1")); err != kerr.FencedInstanceID {
		t.Fatalf("old member heartbeat: %v", err)
	}
	if err := d.heartbeat(resp.MemberID, gen, ptr("i1")); err != nil {
		t.Fatalf("new member heartbeat: %v", err)
	}
}

func TestStaticLeaderRejoinSkipsAssignment(t *testing.T) {
	d := newDriver(t, nil)
	ids := d.stableStatic(2)
	resp := d.joinResp(d.join("", ptr("i0")))
	if !resp.SkipAssignment || resp.LeaderID != resp.MemberID || len(resp.Members) != 2 {
		t.Fatalf("leader rejoin: skip %v leader %q members %d", resp.SkipAssignment, resp.LeaderID, len(resp.Members))
	}
	if d.g.Leader() == ids[0] {
		t.Fatal("leadership still with the old member id")
	}
}

func TestStaticMemberWithNewProtocolsRebalances(t *testing.T) {
	d := newDriver(t, nil)
	d.stableStatic(1)
	j := d.join("", ptr("i0"), "sticky", "range")
	if d.joinResp(j).Generation != 2 {
		t.Fatal("changed protocols did not start a new generation")
	}
}

func TestStaticMemberSurvivesMissedRejoin(t *testing.T) {
	d := newDriver(t, nil)
	ids := d.stableStatic(2)
	j := d.join(ids[0], ptr("i0"), "range") // the leader rejoins: rebalance
	for range 8 {
		d.advance(4 * time.Second) // i1 heartbeats but does not rejoin
		d.heartbeat(ids[1], 1, ptr("i1"))
	}
	if resp := d.joinResp(j); resp.Generation != 2 || len(resp.Members) != 2 {
		t.Fatalf("join after the timeout: gen %d members %d", resp.Generation, len(resp.Members))
	}
	// Static members that did not rejoin keep their place.
	if d.g.members[ids[1]] == nil {
		t.Fatal("static member removed at the end of the join phase")
	}
}

func TestLeaveStatic(t *testing.T) {
	d := newDriver(t, nil)
	ids := d.stableStatic(2)
	other := d.g.members[ids[1]]
	other.InstanceID = ptr("i1")
	cases := []struct {
		member, instance string
		want             int16
	}{
		{"", "nope", kerr.UnknownMemberID.Code},
		{"stale", "i1", kerr.FencedInstanceID.Code},
		{ids[1], "i1", 0},
	}
	for _, c := range cases {
		r := leaveReq(c.member, c.instance)
		id := d.id()
		d.run(d.g.Leave(id, r, d.now))
		if got := leaveCode(d, id); got != c.want {
			t.Errorf("leave %q/%q: %v, want %v", c.member, c.instance, kerr.ErrorForCode(got), kerr.ErrorForCode(c.want))
		}
	}
}
