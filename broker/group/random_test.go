package group

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestRandomEventsKeepInvariants throws random joins, syncs, heartbeats,
// leaves, commits and clock jumps at a group and checks after each that
// its bookkeeping agrees with itself and that every request is answered
// at most once (the driver fails on a second answer).
func TestRandomEventsKeepInvariants(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 1))
		d := newDriver(t, func(c *Config) {
			c.InitialRebalanceDelay = time.Duration(rng.IntN(2)) * 500 * time.Millisecond
			c.MaxSize = 2 + rng.IntN(4)
		})
		var known []string
		pick := func() string {
			if len(known) == 0 || rng.IntN(10) == 0 {
				return "ghost"
			}
			return known[rng.IntN(len(known))]
		}
		for step := range 300 {
			switch rng.IntN(8) {
			case 0:
				resp, ok := d.reply(d.join("", nil))
				if ok && resp.Msg.(*kmsg.JoinGroupResponse).MemberID != "" {
					known = append(known, resp.Msg.(*kmsg.JoinGroupResponse).MemberID)
				}
			case 1:
				d.join(pick(), nil)
			case 2:
				m := pick()
				var assign map[string]string
				if rng.IntN(2) == 0 {
					assign = map[string]string{m: "x"}
				}
				d.sync(m, d.g.Generation(), nil, assign)
			case 3:
				d.heartbeat(pick(), d.g.Generation(), nil)
			case 4:
				r := kmsg.NewPtrLeaveGroupRequest()
				r.SetVersion(2)
				r.Group, r.MemberID = "g", pick()
				d.run(d.g.Leave(d.id(), r, d.now))
			case 5:
				d.commit(pick(), d.g.Generation(), 9, map[string]int64{"t": int64(step)})
			case 6:
				inst := "s" + string(rune('0'+rng.IntN(3)))
				d.join("", &inst)
			case 7:
				d.advance(time.Duration(rng.IntN(12000)) * time.Millisecond)
			}
			checkInvariants(t, d.g, seed, step)
		}
	}
}

func checkInvariants(t *testing.T, g *Group, seed uint64, step int) {
	t.Helper()
	if len(g.order) != len(g.members) {
		t.Fatalf("seed %d step %d: order %v, %d members", seed, step, g.order, len(g.members))
	}
	for _, id := range g.order {
		if g.members[id] == nil {
			t.Fatalf("seed %d step %d: %q in order but not a member", seed, step, id)
		}
	}
	for inst, id := range g.static {
		if m := g.members[id]; m == nil || m.InstanceID == nil || *m.InstanceID != inst {
			t.Fatalf("seed %d step %d: static %q -> %q not a member with that instance", seed, step, inst, id)
		}
	}
	if len(g.members) > 0 && g.members[g.leader] == nil {
		t.Fatalf("seed %d step %d: leader %q not a member", seed, step, g.leader)
	}
	if g.state == Empty && len(g.members) > 0 {
		t.Fatalf("seed %d step %d: Empty with %d members", seed, step, len(g.members))
	}
	if (g.state == Stable || g.state == CompletingRebalance) && len(g.members) == 0 {
		t.Fatalf("seed %d step %d: %v without members", seed, step, g.state)
	}
}
