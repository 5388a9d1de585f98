package sharegroup

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func topicsOf(m map[string]int32) Topics {
	return func(name string) (Topic, bool) {
		n, ok := m[name]
		return Topic{ID: [16]byte{byte(len(name))}, Partitions: n}, ok
	}
}

func hb(member string, epoch int32, topics ...string) *kmsg.ShareGroupHeartbeatRequest {
	r := kmsg.NewPtrShareGroupHeartbeatRequest()
	r.Version, r.GroupID, r.MemberID, r.MemberEpoch = 1, "g", member, epoch
	if topics != nil {
		r.SubscribedTopicNames = topics
	}
	return r
}

func partitionsIn(a *kmsg.ShareGroupHeartbeatResponseAssignment) int {
	n := 0
	for _, tp := range a.TopicPartitions {
		n += len(tp.Partitions)
	}
	return n
}

func TestEveryMemberGetsEveryPartition(t *testing.T) {
	cfg := DefaultConfig()
	g := NewGroup("g")
	topics := topicsOf(map[string]int32{"t": 3, "u": 2})
	a, _ := g.Heartbeat(hb("a", 0, "t", "u"), Client{}, cfg, topics, t0)
	b, _ := g.Heartbeat(hb("b", 0, "t"), Client{}, cfg, topics, t0)
	if a.ErrorCode != 0 || b.ErrorCode != 0 {
		t.Fatalf("errors %d %d", a.ErrorCode, b.ErrorCode)
	}
	if partitionsIn(a.Assignment) != 5 || partitionsIn(b.Assignment) != 3 {
		t.Fatalf("a got %d partitions, b %d; want 5 and 3", partitionsIn(a.Assignment), partitionsIn(b.Assignment))
	}
	if a.MemberEpoch != 1 || b.MemberEpoch != 2 || a.HeartbeatIntervalMillis != 5000 {
		t.Fatalf("epochs %d %d interval %d", a.MemberEpoch, b.MemberEpoch, a.HeartbeatIntervalMillis)
	}
	// A plain heartbeat carries no assignment; a new partition does.
	again, _ := g.Heartbeat(hb("a", 1), Client{}, cfg, topics, t0)
	if again.ErrorCode != 0 || again.Assignment != nil || again.MemberEpoch != 1 {
		t.Fatalf("steady heartbeat: %+v", again)
	}
	grown := topicsOf(map[string]int32{"t": 4, "u": 2})
	again, _ = g.Heartbeat(hb("a", 1), Client{}, cfg, grown, t0)
	if again.Assignment == nil || partitionsIn(again.Assignment) != 6 || again.MemberEpoch != 3 {
		t.Fatalf("after growing t: %+v", again)
	}
}

func TestHeartbeatErrors(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxSize = 1
	g := NewGroup("g")
	topics := topicsOf(map[string]int32{"t": 1})
	g.Heartbeat(hb("a", 0, "t"), Client{}, cfg, topics, t0)
	cases := []struct {
		name string
		r    *kmsg.ShareGroupHeartbeatRequest
		want *kerr.Error
	}{
		{"full", hb("b", 0, "t"), kerr.GroupMaxSizeReached},
		{"unknown", hb("z", 1), kerr.UnknownMemberID},
		{"stale epoch", hb("a", 7), kerr.FencedMemberEpoch},
		{"unknown leave", hb("z", -1), kerr.UnknownMemberID},
	}
	for _, c := range cases {
		if resp, _ := g.Heartbeat(c.r, Client{}, cfg, topics, t0); resp.ErrorCode != c.want.Code {
			t.Errorf("%s: error %d, want %s", c.name, resp.ErrorCode, c.want)
		}
	}
	if msg := ValidateHeartbeat(hb("a", 0)); msg == "" {
		t.Error("a join without subscriptions passed validation")
	}
	if msg := ValidateHeartbeat(hb("", 1)); msg == "" {
		t.Error("an empty member id passed validation")
	}
}

func TestLeaveAndExpiry(t *testing.T) {
	cfg := DefaultConfig()
	g := NewGroup("g")
	topics := topicsOf(map[string]int32{"t": 1})
	g.Heartbeat(hb("a", 0, "t"), Client{}, cfg, topics, t0)
	g.Heartbeat(hb("b", 0, "t"), Client{}, cfg, topics, t0.Add(10*time.Second))
	resp, left := g.Heartbeat(hb("a", 1), Client{}, cfg, topics, t0)
	if left != "" || resp.ErrorCode != 0 {
		t.Fatalf("heartbeat: %v %q", resp.ErrorCode, left)
	}
	if gone := g.Expire(t0.Add(cfg.SessionTimeout)); len(gone) != 1 || gone[0] != "a" {
		t.Fatalf("expired %v, want [a]", gone)
	}
	if resp, _ = g.Heartbeat(hb("b", 2, "t"), Client{}, cfg, topics, t0.Add(20*time.Second)); resp.ErrorCode != 0 {
		t.Fatalf("b heartbeat after a expired: %d", resp.ErrorCode)
	}
	resp, left = g.Heartbeat(hb("b", -1), Client{}, cfg, topics, t0.Add(20*time.Second))
	if left != "b" || resp.MemberEpoch != -1 || g.Len() != 0 || g.State() != "Empty" {
		t.Fatalf("leave: %q epoch %d members %d", left, resp.MemberEpoch, g.Len())
	}
}
