package consumergroup

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/group"
)

// client is a well-behaved consumer: it owns what its last answer
// assigned, and reports it.
type client struct {
	id    string
	epoch int32
	owned Assignment
	in    bool
}

// TestRandomInvariants drives a group with random joins, heartbeats,
// leaves, topic changes and clock ticks from well-behaved clients, and
// checks after every event that no partition is owned by two clients or
// two members, that the owner index is true, that a replay of the
// records rebuilds the same group, and at the end that heartbeats alone
// bring the group to Stable with every member owning its target.
func TestRandomInvariants(t *testing.T) {
	for seed := uint64(1); seed <= 100; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runRandom(t, seed) })
	}
}

func runRandom(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed))
	d := newDriver(t)
	d.cfg.AssignmentInterval = time.Duration(rng.IntN(2)) * time.Second
	d.setTopics("a 4\nb 3\nc 6")
	clients := make([]*client, 6)
	for i := range clients {
		clients[i] = &client{id: fmt.Sprintf("c%d", i), owned: Assignment{}}
	}
	for step := 0; step < 300; step++ {
		c := clients[rng.IntN(len(clients))]
		switch k := rng.IntN(20); {
		case k == 0:
			d.setTopics(fmt.Sprintf("a %d\nb 3\nc 6\nd%d 2", 4+rng.IntN(3), rng.IntN(2)))
		case k == 1:
			d.runOut(d.tick1(time.Duration(rng.IntN(3000)) * time.Millisecond))
			d.dropFenced(clients)
		case k == 2 && c.in:
			d.heartbeat(c, LeaveEpoch, rng)
		default:
			d.heartbeat(c, c.epoch, rng)
		}
		d.checkInvariants(t, clients)
	}
	for round := 0; round < 10; round++ {
		d.runOut(d.tick1(2 * time.Second))
		d.dropFenced(clients)
		for _, c := range clients {
			if c.in {
				d.heartbeat(c, c.epoch, rng)
			}
		}
		d.checkInvariants(t, clients)
	}
	if s := d.g.State(); s != StableGroup && s != Empty {
		t.Fatalf("group %s after heartbeats only", s)
	}
	for _, m := range d.g.members {
		if !m.Assigned.Equal(d.g.target[m.ID]) {
			t.Fatalf("%s owns %v, target %v", m.ID, m.Assigned, d.g.target[m.ID])
		}
	}
}

// heartbeat sends one heartbeat for c and applies the answer as a
// well-behaved client would.
func (d *driver) heartbeat(c *client, epoch int32, rng *rand.Rand) {
	r := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	r.Version, r.Group, r.MemberID, r.RebalanceTimeoutMillis = 1, "g", c.id, -1
	r.MemberEpoch = epoch
	if !c.in {
		r.MemberEpoch, r.RebalanceTimeoutMillis = 0, 5000
		subs := [][]string{{"a"}, {"a", "b"}, {"c"}, {"a", "c", "d0", "d1"}}[rng.IntN(4)]
		r.SubscribedTopicNames = subs
	}
	r.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	for id, ps := range c.owned {
		tp := kmsg.NewConsumerGroupHeartbeatRequestTopic()
		tp.TopicID, tp.Partitions = id, ps
		r.Topics = append(r.Topics, tp)
	}
	var resp *kmsg.ConsumerGroupHeartbeatResponse
	d.runOutReply(d.g.Heartbeat(d.req(), r, Client{ID: "x"}, d.topics, d.now), func(msg kmsg.Response) {
		resp = msg.(*kmsg.ConsumerGroupHeartbeatResponse)
	})
	switch {
	case resp == nil:
	case r.MemberEpoch == LeaveEpoch || resp.ErrorCode != 0:
		c.in, c.epoch, c.owned = false, 0, Assignment{}
	default:
		c.in, c.epoch = true, resp.MemberEpoch
		if resp.Assignment != nil {
			c.owned = Assignment{}
			for _, tp := range resp.Assignment.Topics {
				c.owned[tp.TopicID] = normalize(append([]int32(nil), tp.Partitions...))
			}
		}
	}
}

// dropFenced is a client's own timer: a member the group fenced by a
// timeout has given up its partitions (its session or rebalance timeout
// passed on its side too).
func (d *driver) dropFenced(clients []*client) {
	for _, c := range clients {
		if c.in && d.g.members[c.id] == nil {
			c.in, c.epoch, c.owned = false, 0, Assignment{}
		}
	}
}

func (d *driver) tick1(by time.Duration) Out {
	end := d.now.Add(by)
	var out Out
	for k, at := range d.g.armed {
		if !at.After(end) {
			out.merge(d.g.Fire(k, d.topics, at))
		}
	}
	d.now = end
	return out
}

func (d *driver) runOut(out Out) { d.runOutReply(out, nil) }

// runOutReply completes every write at once and hands replies to fn.
func (d *driver) runOutReply(out Out, fn func(kmsg.Response)) {
	for len(out.Writes) > 0 || len(out.Replies) > 0 {
		next := Out{}
		for _, w := range out.Writes {
			d.log = append(d.log, w.Records...)
			next.merge(d.g.WriteDone(w.ID, nil, d.now))
		}
		for _, r := range out.Replies {
			if fn != nil {
				fn(r.Msg)
			}
		}
		out = Out{Writes: next.Writes, Replies: next.Replies}
	}
}

func (d *driver) checkInvariants(t *testing.T, clients []*client) {
	t.Helper()
	seen := map[Uuid]map[int32]string{}
	claim := func(who string, a Assignment) {
		for id, ps := range a {
			if seen[id] == nil {
				seen[id] = map[int32]string{}
			}
			for _, p := range ps {
				if o, ok := seen[id][p]; ok {
					t.Fatalf("partition %x/%d owned by %s and %s", id[:2], p, o, who)
				}
				seen[id][p] = who
			}
		}
	}
	for _, c := range clients {
		if c.in {
			claim("client "+c.id, c.owned)
		}
	}
	seen = map[Uuid]map[int32]string{}
	owners := 0
	for _, m := range d.g.members {
		claim("member "+m.ID, union(m.Assigned, m.Revoking))
		owners += m.Assigned.Count() + m.Revoking.Count()
		if m.Epoch > d.g.epoch {
			t.Fatalf("%s at epoch %d past the group's %d", m.ID, m.Epoch, d.g.epoch)
		}
	}
	n := 0
	for _, ps := range d.g.owners {
		n += len(ps)
	}
	if n != owners {
		t.Fatalf("owner index holds %d partitions, members own %d", n, owners)
	}
	l := NewLoader(func(string) *Config { return &d.cfg })
	for _, r := range d.log {
		if err := l.Apply(r); err != nil {
			t.Fatal(err)
		}
	}
	gs, _ := l.Groups(d.now)
	if g := gs["g"]; g != nil {
		before, after := &stringsBuilder{}, &stringsBuilder{}
		d.writeGroupTo(before, d.g)
		d.writeGroupTo(after, g)
		if before.String() != after.String() {
			t.Fatalf("replay differs:\nlive:\n%sreplayed:\n%s", before, after)
		}
	}
}

var _ = group.Record{}
