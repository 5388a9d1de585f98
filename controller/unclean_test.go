package controller

import (
	"slices"
	"testing"

	"spool/config"
	"spool/controller/metadata"
)

// uncleanImage has brokers 1-3 (3 fenced) and two topics whose only
// in-sync replica, broker 3, is fenced: "a" (replicas 3,2,1) and "b"
// (replicas 3,1), plus "c" whose ISR member 1 is live but which lost its
// leader.
func uncleanImage(t *testing.T) *metadata.Image {
	t.Helper()
	d := metadata.NewDelta(metadata.Empty())
	for _, id := range []int32{1, 2, 3} {
		d.Replay(&metadata.RegisterBrokerRecord{BrokerID: id, BrokerEpoch: int64(id), Fenced: id == 3})
	}
	for i, name := range []string{"a", "b", "c"} {
		id := [16]byte{byte(i + 1)}
		d.Replay(&metadata.TopicRecord{Name: name, TopicID: id})
		replicas, isr := []int32{3, 2, 1}, []int32{3}
		switch name {
		case "b":
			replicas = []int32{3, 1}
		case "c":
			isr = []int32{1, 3}
		}
		d.Replay(&metadata.PartitionRecord{PartitionID: 0, TopicID: id, Replicas: replicas, ISR: isr, Leader: metadata.NoLeader})
	}
	return d.Apply()
}

func applyUnclean(t *testing.T, img *metadata.Image, recs []metadata.Record) *metadata.Image {
	t.Helper()
	d := metadata.NewDelta(img)
	for _, r := range recs {
		if err := d.Replay(r); err != nil {
			t.Fatal(err)
		}
	}
	return d.Apply()
}

func TestLeaderlessElectionsOnlyWhenEnabled(t *testing.T) {
	img := uncleanImage(t)
	part := func(img *metadata.Image, topic string) *metadata.Partition {
		return img.Topics.ByName(topic).Partitions[0]
	}

	// Disabled everywhere: only "c", whose in-sync replica is live, gets a
	// (clean) leader; "a" and "b" wait for broker 3.
	recs, uncleans := leaderlessElections(img, func(string) bool { return false })
	after := applyUnclean(t, img, recs)
	if len(uncleans) != 0 || part(after, "c").Leader != 1 || !slices.Equal(part(after, "c").ISR, []int32{1, 3}) {
		t.Fatalf("disabled: uncleans %v, c leader %d isr %v", uncleans, part(after, "c").Leader, part(after, "c").ISR)
	}
	for _, tp := range []string{"a", "b"} {
		if p := part(after, tp); p.Leader != metadata.NoLeader || !slices.Equal(p.ISR, []int32{3}) {
			t.Fatalf("disabled: %s leader %d isr %v", tp, p.Leader, p.ISR)
		}
	}

	// Enabled for "a" only: its first live replica (2) leads alone.
	recs, uncleans = leaderlessElections(after, func(topic string) bool { return topic == "a" })
	again := applyUnclean(t, after, recs)
	if p := part(again, "a"); p.Leader != 2 || !slices.Equal(p.ISR, []int32{2}) {
		t.Fatalf("a after unclean election: leader %d isr %v", p.Leader, p.ISR)
	}
	if p := part(again, "b"); p.Leader != metadata.NoLeader {
		t.Fatalf("b elected without unclean.leader.election.enable: leader %d", p.Leader)
	}
	if len(uncleans) != 1 || uncleans[0].topic != "a" || uncleans[0].leader != 2 || !slices.Equal(uncleans[0].lostISR, []int32{3}) {
		t.Fatalf("uncleans %+v", uncleans)
	}
	// Nothing left to do for "a" the next time round.
	if recs, _ := leaderlessElections(again, func(topic string) bool { return topic == "a" }); len(recs) != 0 {
		t.Fatalf("second pass proposed %d records", len(recs))
	}
}

func TestUncleanEnabledLayers(t *testing.T) {
	static := config.MustNew(map[string]string{})
	on := config.MustNew(map[string]string{uncleanKey: "true"})
	d := metadata.NewDelta(metadata.Empty())
	d.Replay(&metadata.TopicRecord{Name: "t", TopicID: [16]byte{1}})
	img := d.Apply()
	if uncleanEnabled(img, static, 1, "t") {
		t.Fatal("enabled by default")
	}
	if !uncleanEnabled(img, on, 1, "t") {
		t.Fatal("static broker config ignored")
	}
	set := func(img *metadata.Image, typ int8, name, value string) *metadata.Image {
		d := metadata.NewDelta(img)
		v := value
		if err := d.Replay(&metadata.ConfigRecord{ResourceType: typ, ResourceName: name, Name: uncleanKey, Value: &v}); err != nil {
			t.Fatal(err)
		}
		return d.Apply()
	}
	cluster := set(img, metadata.ConfigResourceBroker, "", "true")
	if !uncleanEnabled(cluster, static, 1, "t") {
		t.Fatal("cluster-wide dynamic default ignored")
	}
	if uncleanEnabled(set(cluster, metadata.ConfigResourceTopic, "t", "false"), static, 1, "t") {
		t.Fatal("topic config does not override the broker default")
	}
	if !uncleanEnabled(set(img, metadata.ConfigResourceBroker, "1", "true"), static, 1, "t") {
		t.Fatal("this node's dynamic config ignored")
	}
	if !uncleanEnabled(set(img, metadata.ConfigResourceTopic, "t", "true"), static, 1, "t") {
		t.Fatal("topic config ignored")
	}
}
