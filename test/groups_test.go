package test

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestGroupMembersJoinAndLeaveRange(t *testing.T) {
	t.Parallel()
	testJoinAndLeave(t, kgo.RangeBalancer())
}

func TestGroupMembersJoinAndLeaveCooperativeSticky(t *testing.T) {
	t.Parallel()
	testJoinAndLeave(t, kgo.CooperativeStickyBalancer())
}

func testJoinAndLeave(t *testing.T, balancer kgo.GroupBalancer) {
	n := groupNode(t, nil)
	grpTopic(t, n.Addr, "events", 6)
	a := grpMember(t, n.Addr, "g1", "events", kgo.Balancers(balancer))
	defer a.cl.Close()
	grpWaitSplit(t, "events", 6, []*grpConsumer{a}, []int{6}, time.Minute)

	b := grpMember(t, n.Addr, "g1", "events", kgo.Balancers(balancer))
	grpWaitSplit(t, "events", 6, []*grpConsumer{a, b}, []int{3, 3}, time.Minute)
	c := grpMember(t, n.Addr, "g1", "events", kgo.Balancers(balancer))
	grpWaitSplit(t, "events", 6, []*grpConsumer{a, b, c}, []int{2, 2, 2}, time.Minute)

	// Close leaves the group: the rest take the partitions over at once.
	b.cl.Close()
	c.cl.Close()
	grpWaitSplit(t, "events", 6, []*grpConsumer{a}, []int{6}, time.Minute)
}

func TestGroupCommitAndResumeAfterCommit(t *testing.T) {
	t.Parallel()
	n := groupNode(t, nil)
	grpTopic(t, n.Addr, "orders", 3)
	grpProduce(t, n.Addr, "orders", 300)
	ctx := ctxT(t, 2*time.Minute)

	first := grpPolled(t, n.Addr, "billing", "orders", kgo.DisableAutoCommit())
	committed := map[int32]int64{}
	var got int
	for got < 30 {
		fs := first.cl.PollRecords(ctx, 30-got)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		recs := fs.Records()
		got += len(recs)
		if err := first.cl.CommitRecords(ctx, recs...); err != nil {
			t.Fatalf("commit: %v", err)
		}
		for _, r := range recs {
			committed[r.Partition] = r.Offset + 1
		}
	}
	first.cl.Close()

	fetched, err := admin(t, n.Addr).FetchOffsets(ctx, "billing")
	if err != nil {
		t.Fatal(err)
	}
	for p, off := range committed {
		if o, ok := fetched.Lookup("orders", p); !ok || o.At != off {
			t.Fatalf("partition %d: fetched %+v, committed %d", p, o, off)
		}
	}

	// A new member starts exactly after the commits.
	second := grpPolled(t, n.Addr, "billing", "orders", kgo.DisableAutoCommit())
	defer second.cl.Close()
	firstSeen := map[int32]int64{}
	for len(firstSeen) < 3 {
		fs := second.cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if _, ok := firstSeen[r.Partition]; !ok {
				firstSeen[r.Partition] = r.Offset
			}
		})
	}
	for p, off := range firstSeen {
		if off != committed[p] {
			t.Errorf("partition %d resumed at %d, committed %d", p, off, committed[p])
		}
	}
}

func TestGroupStaticMemberRejoinsWithoutRebalance(t *testing.T) {
	t.Parallel()
	n := groupNode(t, nil)
	grpTopic(t, n.Addr, "static", 6)
	opts := func(id string) []kgo.Opt {
		return []kgo.Opt{kgo.InstanceID(id), kgo.Balancers(kgo.RangeBalancer())}
	}
	a := grpMember(t, n.Addr, "stat", "static", opts("a")...)
	b := grpMember(t, n.Addr, "stat", "static", opts("b")...)
	defer b.cl.Close()
	grpWaitSplit(t, "static", 6, []*grpConsumer{a, b}, []int{3, 3}, time.Minute)
	before := a.partitions("static")
	time.Sleep(time.Second) // let b's session settle
	bAssigns, bRevokes := b.counts()

	// A static member leaves no gap: it closes without LeaveGroup and its
	// replacement takes over the same assignment within the session.
	a.cl.Close()
	a2 := grpMember(t, n.Addr, "stat", "static", opts("a")...)
	defer a2.cl.Close()
	grpWaitSplit(t, "static", 6, []*grpConsumer{a2, b}, []int{3, 3}, time.Minute)
	if got := a2.partitions("static"); !slices.Equal(got, before) {
		t.Fatalf("restarted static member owns %v, had %v", got, before)
	}
	time.Sleep(2 * time.Second)
	if as, rs := b.counts(); as != bAssigns || rs != bRevokes {
		t.Fatalf("the other member rebalanced: assigns %d->%d revokes %d->%d", bAssigns, as, bRevokes, rs)
	}
}

func TestGroupTenMembersSixtyPartitions(t *testing.T) {
	t.Parallel()
	n := groupNode(t, map[string]string{"group.initial.rebalance.delay.ms": "1000"})
	grpTopic(t, n.Addr, "wide", 60)
	var ms []*grpConsumer
	want := make([]int, 10)
	for i := range 10 {
		m := grpMember(t, n.Addr, "ten", "wide", kgo.Balancers(kgo.RangeBalancer()))
		defer m.cl.Close()
		ms = append(ms, m)
		want[i] = 6
	}
	grpWaitSplit(t, "wide", 60, ms, want, 2*time.Minute)
	d, err := admin(t, n.Addr).DescribeGroups(ctxT(t, time.Minute), "ten")
	if err != nil {
		t.Fatal(err)
	}
	if g := d["ten"]; g.State != "Stable" || len(g.Members) != 10 || g.Protocol != "range" {
		t.Fatalf("described %s with %d members, protocol %q", g.State, len(g.Members), g.Protocol)
	}
}
