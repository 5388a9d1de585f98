package test

import (
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestGroupKilledKcatMemberPartitionsMove(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Fatal("kcat is not installed; run `make clients`")
	}
	n := groupNode(t, nil)
	grpTopic(t, n.Addr, "jobs", 6)
	a := grpMember(t, n.Addr, "workers", "jobs", kgo.Balancers(kgo.RangeBalancer()))
	defer a.cl.Close()
	grpWaitSplit(t, "jobs", 6, []*grpConsumer{a}, []int{6}, time.Minute)

	kcat := exec.Command("kcat", "-b", n.Addr, "-G", "workers", "-q", "-o", "beginning",
		"-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500", "-X", "partition.assignment.strategy=range", "jobs")
	if err := kcat.Start(); err != nil {
		t.Fatal(err)
	}
	defer kcat.Process.Kill()
	// kcat takes half: a keeps 3.
	deadline := time.Now().Add(time.Minute)
	for len(a.partitions("jobs")) != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("kcat never got partitions; a owns %v", a.partitions("jobs"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	kcat.Process.Signal(syscall.SIGKILL)
	kcat.Wait()
	// No LeaveGroup: the partitions move once kcat's 6 s session expires.
	start := time.Now()
	grpWaitSplit(t, "jobs", 6, []*grpConsumer{a}, []int{6}, 3*6*time.Second+30*time.Second)
	if took := time.Since(start); took < 3*time.Second {
		t.Fatalf("partitions moved after %v, before the session timeout", took)
	}
}

func TestGroupOffsetsSurviveKillAndRestart(t *testing.T) {
	t.Parallel()
	n := groupNode(t, nil)
	grpTopic(t, n.Addr, "ledger", 4)
	ctx := ctxT(t, 3*time.Minute)
	adm := admin(t, n.Addr)
	want := kadm.Offsets{}
	for p := range int32(4) {
		want.Add(kadm.Offset{Topic: "ledger", Partition: p, At: int64(10 * (p + 1)), LeaderEpoch: -1, Metadata: "m" + string(rune('a'+p))})
	}
	for _, g := range []string{"keep-a", "keep-b", "keep-c"} {
		resp, err := adm.CommitOffsets(ctx, g, want)
		if err != nil || resp.Error() != nil {
			t.Fatalf("commit %s: %v %v", g, err, resp.Error())
		}
	}
	check := func(when string) {
		t.Helper()
		adm := admin(t, n.Addr)
		for _, g := range []string{"keep-a", "keep-b", "keep-c"} {
			var got kadm.OffsetResponses
			var err error
			for range 100 { // the coordinator may still be loading
				if got, err = adm.FetchOffsets(ctx, g); err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil {
				t.Fatalf("%s: fetch %s: %v", when, g, err)
			}
			for p := range int32(4) {
				w, _ := want.Lookup("ledger", p)
				o, ok := got.Lookup("ledger", p)
				if !ok || o.At != w.At || o.Metadata != w.Metadata {
					t.Fatalf("%s: %s partition %d = %+v, want %d %q", when, g, p, o, w.At, w.Metadata)
				}
			}
		}
		listed, err := adm.ListGroups(ctx)
		if err != nil || len(listed) != 3 {
			t.Fatalf("%s: listed %v (%v)", when, listed.Groups(), err)
		}
	}
	check("before")
	n.Kill()
	n.Start()
	check("after kill -9")
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	n.Start()
	check("after SIGTERM")
}

func TestGroupAdminListDescribeDelete(t *testing.T) {
	t.Parallel()
	n := groupNode(t, nil)
	grpTopic(t, n.Addr, "admin", 2)
	ctx := ctxT(t, 2*time.Minute)
	adm := admin(t, n.Addr)
	m := grpMember(t, n.Addr, "live", "admin")
	grpWaitSplit(t, "admin", 2, []*grpConsumer{m}, []int{2}, time.Minute)
	if _, err := adm.CommitOffsets(ctx, "idle", kadm.OffsetsFromRecords(kgo.Record{Topic: "admin", Partition: 0, Offset: 4})); err != nil {
		t.Fatal(err)
	}

	listed, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g := listed["live"]; g.State != "Stable" || g.ProtocolType != "consumer" {
		t.Fatalf("listed live: %+v", g)
	}
	if g := listed["idle"]; g.State != "Empty" || g.ProtocolType != "" {
		t.Fatalf("listed idle: %+v", g)
	}
	stable, err := adm.ListGroups(ctx, "Stable")
	if err != nil || len(stable) != 1 {
		t.Fatalf("state filter: %v %v", stable.Groups(), err)
	}

	del, err := adm.DeleteGroups(ctx, "live", "idle", "never")
	if err != nil {
		t.Fatal(err)
	}
	for g, want := range map[string]error{"live": kerr.NonEmptyGroup, "idle": nil, "never": kerr.GroupIDNotFound} {
		if got := del[g].Err; got != want {
			t.Errorf("delete %s: %v, want %v", g, got, want)
		}
	}
	off, err := adm.FetchOffsets(ctx, "idle")
	if err != nil || len(off) != 0 {
		t.Fatalf("offsets of the deleted group: %v %v", off, err)
	}

	// OffsetDelete keeps offsets of subscribed topics.
	m.cl.CommitUncommittedOffsets(ctx)
	od, err := adm.DeleteOffsets(ctx, "live", kadm.TopicsSet{"admin": {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	if e := od["admin"][0]; e != kerr.GroupSubscribedToTopic {
		t.Fatalf("offset delete of a subscribed topic: %v", e)
	}
	m.cl.Close()
	desc, err := adm.DescribeGroups(ctx, "live", "never")
	if err != nil {
		t.Fatal(err)
	}
	if desc["live"].State != "Empty" || desc["never"].State != "Dead" {
		t.Fatalf("described live %q never %q", desc["live"].State, desc["never"].State)
	}
}

// TestGroupRejectsNonsense sends what clients would not, and checks
// Kafka's answers.
func TestGroupRejectsNonsense(t *testing.T) {
	t.Parallel()
	n := groupNode(t, nil)
	grpTopic(t, n.Addr, "t", 1)
	ctx := ctxT(t, 2*time.Minute)
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), byName)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	coordinator := func(group string) *kgo.Broker {
		t.Helper()
		for range 100 {
			req := kmsg.NewPtrFindCoordinatorRequest()
			req.CoordinatorKey = group
			resp, err := req.RequestWith(ctx, cl)
			if err == nil && resp.ErrorCode == 0 {
				return cl.Broker(int(resp.NodeID))
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatal("no coordinator")
		return nil
	}
	br := coordinator("")
	req := func(r kmsg.Request) kmsg.Response {
		t.Helper()
		resp, err := br.Request(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	join := kmsg.NewPtrJoinGroupRequest()
	join.SessionTimeoutMillis, join.RebalanceTimeoutMillis, join.ProtocolType = 10000, 10000, "consumer"
	join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{0}}}
	expect(t, "JoinGroup with empty group id", req(join).(*kmsg.JoinGroupResponse).ErrorCode, kerr.InvalidGroupID)
	hb := kmsg.NewPtrHeartbeatRequest()
	expect(t, "Heartbeat with empty group id", req(hb).(*kmsg.HeartbeatResponse).ErrorCode, kerr.InvalidGroupID)
	sync := kmsg.NewPtrSyncGroupRequest()
	expect(t, "SyncGroup with empty group id", req(sync).(*kmsg.SyncGroupResponse).ErrorCode, kerr.InvalidGroupID)
	leave := kmsg.NewPtrLeaveGroupRequest()
	expect(t, "LeaveGroup with empty group id", req(leave).(*kmsg.LeaveGroupResponse).ErrorCode, kerr.InvalidGroupID)

	br = coordinator("g")
	join.Group, join.SessionTimeoutMillis = "g", 10
	expect(t, "JoinGroup with a tiny session timeout", req(join).(*kmsg.JoinGroupResponse).ErrorCode, kerr.InvalidSessionTimeout)
	join.SessionTimeoutMillis, join.MemberID = 10000, "made-up"
	expect(t, "JoinGroup with an unknown member id", req(join).(*kmsg.JoinGroupResponse).ErrorCode, kerr.UnknownMemberID)

	commit := func(group string, gen int32, topic string, offset int64) int16 {
		c := kmsg.NewPtrOffsetCommitRequest()
		c.Group, c.Generation = group, gen
		p := kmsg.NewOffsetCommitRequestTopicPartition()
		p.Offset = offset
		c.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: topic, Partitions: []kmsg.OffsetCommitRequestTopicPartition{p}}}
		return req(c).(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode
	}
	expect(t, "OffsetCommit to a missing topic", commit("g", -1, "missing", 1), kerr.UnknownTopicOrPartition)
	expect(t, "OffsetCommit with a generation to an unknown group", commit("g", 5, "t", 1), kerr.GroupIDNotFound)
	// Kafka stores a negative offset as it is; every client reads a
	// negative committed offset as "no offset".
	expect(t, "OffsetCommit of a negative offset", commit("g", -1, "t", -1), nil)

	fetch := kmsg.NewPtrOffsetFetchRequest()
	fetch.Groups = []kmsg.OffsetFetchRequestGroup{{Group: "nobody", Topics: []kmsg.OffsetFetchRequestGroupTopic{{Topic: "t", Partitions: []int32{0}}}}}
	br = coordinator("nobody")
	fr := req(fetch).(*kmsg.OffsetFetchResponse)
	if g := fr.Groups[0]; g.ErrorCode != 0 || g.Topics[0].Partitions[0].Offset != -1 || g.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Errorf("OffsetFetch of an unknown group: %+v", g)
	}
}

func expect(t *testing.T, what string, code int16, want error) {
	t.Helper()
	if got := kerr.ErrorForCode(code); got != want {
		t.Errorf("%s: %v, want %v", what, got, want)
	}
}
