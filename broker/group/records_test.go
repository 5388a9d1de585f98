package group

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestPartitionMatchesJavaHashCode(t *testing.T) {
	cases := []struct {
		id   string
		hash int32
		p50  int32
	}{
		{"hello", 99162322, 22}, // the well-known Java value
		{"group", 98629247, 47},
		{"my-group", -1906497762, 12},
		{"polygenelubricants", -1 << 31, 0}, // hashCode is MIN_VALUE: Utils.abs gives 0
		{"\U0001F600", 1772899, 49},         // a surrogate pair counts as two code units
		{"", 0, 0},
	}
	for _, c := range cases {
		if got := javaHashCode(c.id); got != c.hash {
			t.Errorf("hashCode(%q) = %d, want %d", c.id, got, c.hash)
		}
		if got := Partition(c.id, 50); got != c.p50 {
			t.Errorf("Partition(%q, 50) = %d, want %d", c.id, got, c.p50)
		}
	}
}

// TestRecordsReplayToSameGroup writes a group's life as records, decodes
// them with kmsg's types through a batch, and replays them into an equal
// group.
func TestRecordsReplayToSameGroup(t *testing.T) {
	d := newDriver(t, nil)
	ids := d.stable(2)
	d.commit(ids[0], 1, 9, map[string]int64{"t": 42, "u": 7})
	d.commit(ids[0], 1, 9, map[string]int64{"t": 43})
	batch := EncodeBatch(d.written, d.now.UnixMilli())

	var decoded []Record
	if err := DecodeBatch(batch, func(r Record) error { decoded = append(decoded, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(decoded) != len(d.written) {
		t.Fatalf("decoded %d records, wrote %d", len(decoded), len(d.written))
	}
	var k kmsg.GroupMetadataKey
	if err := k.ReadFrom(decoded[0].Key); err != nil || k.Group != "g" || k.Version != 2 {
		t.Fatalf("first key %+v %v", k, err)
	}
	l := NewLoader(&d.cfg, d.now)
	for _, r := range decoded {
		if err := l.Apply(r); err != nil {
			t.Fatal(err)
		}
	}
	groups, outs := l.Groups(d.now)
	g := groups["g"]
	if g == nil || g.State() != Stable || g.Generation() != 1 || g.Leader() != ids[0] || g.Protocol() != "range" {
		t.Fatalf("loaded %+v", g)
	}
	for _, m := range ids {
		if string(g.members[m].Assignment) != "a-"+m {
			t.Fatalf("loaded assignment of %s: %q", m, g.members[m].Assignment)
		}
	}
	if o, _ := g.Lookup(TopicPartition{"t", 0}); o.Offset != 43 || o.Metadata != "md-t" || o.LeaderEpoch != 3 {
		t.Fatalf("loaded offset %+v", o)
	}
	if len(outs["g"].Timers) != 2 {
		t.Fatalf("loaded members get session timers: %+v", outs["g"].Timers)
	}
}

func TestTombstonesRemoveOnReplay(t *testing.T) {
	d := newDriver(t, nil)
	d.commit("", -1, 9, map[string]int64{"t": 5})
	id := d.id()
	d.run(d.g.Delete(id, d.now))
	if r := d.replies[id]; r.Code != 0 || d.g.State() != Dead || !d.g.Removable() {
		t.Fatalf("delete: code %d state %v", r.Code, d.g.State())
	}
	l := NewLoader(&d.cfg, d.now)
	for _, r := range d.written {
		l.Apply(r)
	}
	if groups, _ := l.Groups(d.now); len(groups) != 0 {
		t.Fatalf("deleted group came back: %v", groups)
	}
}

func TestCommitSemantics(t *testing.T) {
	d := newDriver(t, nil)
	d.hold = true
	id := d.commit("", -1, 9, map[string]int64{"t": 5, "missing": 1})
	if _, ok := d.reply(id); ok {
		t.Fatal("commit answered before its write was durable")
	}
	if _, ok := d.g.Lookup(TopicPartition{"t", 0}); ok {
		t.Fatal("offset visible before its write was durable")
	}
	d.release(nil)
	resp := d.replies[id].Msg.(*kmsg.OffsetCommitResponse)
	for _, tp := range resp.Topics {
		want := int16(0)
		if tp.Topic == "missing" {
			want = kerr.UnknownTopicOrPartition.Code
		}
		if tp.Partitions[0].ErrorCode != want {
			t.Errorf("%s: %v", tp.Topic, kerr.ErrorForCode(tp.Partitions[0].ErrorCode))
		}
	}
	if o, ok := d.g.Lookup(TopicPartition{"t", 0}); !ok || o.Offset != 5 {
		t.Fatalf("offset after the write: %+v", o)
	}
	d.hold = true
	id = d.commit("", -1, 9, map[string]int64{"t": 6})
	d.release(kerr.NotCoordinator)
	if e := d.commitErr(id); e != kerr.NotCoordinator {
		t.Fatalf("failed write answered %v", e)
	}
	if o, _ := d.g.Lookup(TopicPartition{"t", 0}); o.Offset != 5 {
		t.Fatalf("failed write changed the offset to %d", o.Offset)
	}
	r := kmsg.NewPtrOffsetCommitRequest()
	r.SetVersion(8)
	r.Generation = 3
	r.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0}}}}
	if e := CommitToUnknownGroup(r).Topics[0].Partitions[0].ErrorCode; e != kerr.IllegalGeneration.Code {
		t.Errorf("v8 commit to an unknown group: %v", kerr.ErrorForCode(e))
	}
}

func TestCommitDuringRebalance(t *testing.T) {
	d := newDriver(t, nil)
	a := d.joinResp(d.join("", nil)).MemberID
	d.join(a, nil) // CompletingRebalance until a syncs
	if e := d.commitErr(d.commit(a, 1, 9, map[string]int64{"t": 1})); e != kerr.RebalanceInProgress {
		t.Fatalf("commit while completing a rebalance: %v", e)
	}
}

func TestExpireOffsetsOfEmptyGroup(t *testing.T) {
	d := newDriver(t, func(c *Config) { c.OffsetsRetention = time.Hour })
	ids := d.stable(1)
	d.commit(ids[0], 1, 9, map[string]int64{"t": 9})
	d.run(d.g.Expire(d.now.Add(2 * time.Hour)))
	if _, ok := d.g.Lookup(TopicPartition{"t", 0}); !ok {
		t.Fatal("offsets of a live group expired")
	}
	d.run(d.g.Leave(d.id(), &kmsg.LeaveGroupRequest{Version: 2, MemberID: ids[0]}, d.now))
	if d.g.State() != Empty {
		t.Fatalf("state %v", d.g.State())
	}
	d.now = d.now.Add(30 * time.Minute)
	d.run(d.g.Expire(d.now))
	if _, ok := d.g.Lookup(TopicPartition{"t", 0}); !ok {
		t.Fatal("expired before the retention counted from emptiness")
	}
	d.now = d.now.Add(time.Hour)
	d.run(d.g.Expire(d.now))
	if _, ok := d.g.Lookup(TopicPartition{"t", 0}); ok || d.g.State() != Dead {
		t.Fatalf("after retention: state %v", d.g.State())
	}
	last := d.written[len(d.written)-1]
	if last.Value != nil {
		t.Fatal("the group's end was not a tombstone")
	}
}
