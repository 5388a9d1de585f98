package test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// consumerProtocol makes a franz-go member use KIP-848's
// ConsumerGroupHeartbeat: the broker assigns the partitions.
var consumerProtocol = []kgo.Opt{kgo.ServerSideBalancer(), kgo.Balancers(kgo.RangeBalancer())}

// consumerNode is a node whose consumer-protocol members heartbeat often
// and are fenced soon after they stop.
func consumerNode(t *testing.T) string {
	n := groupNode(t, map[string]string{
		"group.consumer.heartbeat.interval.ms": "500",
		"group.consumer.session.timeout.ms":    "6000",
	})
	return n.Addr
}

// TestConsumerGroupMembersJoinAndLeave: members of a consumer-protocol
// group get the partitions from the broker's assignor, each partition
// exactly once, as members join and leave.
func TestConsumerGroupMembersJoinAndLeave(t *testing.T) {
	t.Parallel()
	addr := consumerNode(t)
	grpTopic(t, addr, "kev", 6)
	a := grpMember(t, addr, "g848", "kev", consumerProtocol...)
	defer a.cl.Close()
	grpWaitSplit(t, "kev", 6, []*grpConsumer{a}, []int{6}, time.Minute)
	b := grpMember(t, addr, "g848", "kev", consumerProtocol...)
	grpWaitSplit(t, "kev", 6, []*grpConsumer{a, b}, []int{3, 3}, time.Minute)
	c := grpMember(t, addr, "g848", "kev", consumerProtocol...)
	defer c.cl.Close()
	grpWaitSplit(t, "kev", 6, []*grpConsumer{a, b, c}, []int{2, 2, 2}, time.Minute)

	d := describeConsumerGroup(t, addr, "g848", func(d kmsg.ConsumerGroupDescribeResponseGroup) bool {
		return d.State == "Stable" && len(d.Members) == 3
	})
	total := 0
	for _, m := range d.Members {
		if m.MemberEpoch != d.Epoch || m.MemberType != 1 {
			t.Fatalf("member %s: epoch %d type %d, group epoch %d", m.MemberID, m.MemberEpoch, m.MemberType, d.Epoch)
		}
		for _, tp := range m.Assignment.TopicPartitions {
			total += len(tp.Partitions)
		}
	}
	if total != 6 || d.AssignorName != "range" {
		t.Fatalf("assigned %d partitions with %q", total, d.AssignorName)
	}

	// Close leaves the group: the others take the partitions over.
	b.cl.Close()
	grpWaitSplit(t, "kev", 6, []*grpConsumer{a, c}, []int{3, 3}, time.Minute)
	if typ := listedGroupType(t, addr, "g848"); typ != "consumer" {
		t.Fatalf("ListGroups: type %q", typ)
	}
}

// TestConsumerGroupCommitsSurviveKill: offsets committed by a
// consumer-protocol member (OffsetCommit with its member epoch) and the
// group itself are in __consumer_offsets: after kill -9 the group is still
// a consumer group and a new member resumes after the commits.
func TestConsumerGroupCommitsSurviveKill(t *testing.T) {
	t.Parallel()
	n := groupNode(t, map[string]string{"group.consumer.heartbeat.interval.ms": "500"})
	grpTopic(t, n.Addr, "kc", 3)
	grpProduce(t, n.Addr, "kc", 300)
	ctx := ctxT(t, 2*time.Minute)

	first := grpPolled(t, n.Addr, "gk", "kc", append(consumerProtocol, kgo.DisableAutoCommit())...)
	committed := map[int32]int64{}
	for got := 0; got < 60; {
		fs := first.cl.PollRecords(ctx, 60-got)
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
	// A commit with a stale member epoch is refused.
	d := describeConsumerGroup(t, n.Addr, "gk", func(d kmsg.ConsumerGroupDescribeResponseGroup) bool { return len(d.Members) == 1 })
	m := d.Members[0]
	if code := rawCommit(t, first.cl, "gk", m.MemberID, m.MemberEpoch-1); code != kerr.StaleMemberEpoch.Code {
		t.Fatalf("stale epoch commit: error %d", code)
	}
	first.cl.Close()

	n.Kill()
	n.Start()
	describeConsumerGroup(t, n.Addr, "gk", func(d kmsg.ConsumerGroupDescribeResponseGroup) bool {
		return d.State == "Empty" && d.Epoch > 0
	})
	second := grpPolled(t, n.Addr, "gk", "kc", append(consumerProtocol, kgo.DisableAutoCommit())...)
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
			t.Fatalf("partition %d: resumed at %d, committed %d", p, off, committed[p])
		}
	}
}

// TestConsumerGroupProtocolClash: a group id used by one protocol refuses
// the other while it has members, with Kafka's errors.
func TestConsumerGroupProtocolClash(t *testing.T) {
	t.Parallel()
	addr := consumerNode(t)
	grpTopic(t, addr, "kx", 2)
	classic := grpMember(t, addr, "gclassic", "kx")
	defer classic.cl.Close()
	grpWaitSplit(t, "kx", 2, []*grpConsumer{classic}, []int{2}, time.Minute)
	cl := newClient(t, addr)
	ctx := ctxT(t, time.Minute)

	hb := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	hb.Group, hb.MemberID, hb.RebalanceTimeoutMillis = "gclassic", "m1", 30000
	hb.SubscribedTopicNames, hb.Topics = []string{"kx"}, []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	resp, err := hb.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("heartbeat to a classic group: error %d", resp.ErrorCode)
	}

	// A heartbeat of a member that never joined is refused.
	hb.Group, hb.MemberEpoch = "gnone", 3
	if resp, err = hb.RequestWith(ctx, cl); err != nil || resp.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("heartbeat to no group: %v, error %d", err, resp.ErrorCode)
	}

	consumer := grpMember(t, addr, "gnew", "kx", consumerProtocol...)
	defer consumer.cl.Close()
	grpWaitSplit(t, "kx", 2, []*grpConsumer{consumer}, []int{2}, time.Minute)
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group, join.ProtocolType, join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = "gnew", "consumer", 10000, 10000
	join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{0, 0, 0, 0, 0, 0, 0, 0}}}
	jr, err := join.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if jr.ErrorCode != kerr.InconsistentGroupProtocol.Code {
		t.Fatalf("classic join of a consumer group: error %d", jr.ErrorCode)
	}
}

func newClient(t *testing.T, addr string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// describeConsumerGroup polls ConsumerGroupDescribe until ok holds.
func describeConsumerGroup(t *testing.T, addr, group string, ok func(kmsg.ConsumerGroupDescribeResponseGroup) bool) kmsg.ConsumerGroupDescribeResponseGroup {
	t.Helper()
	cl := newClient(t, addr)
	deadline := time.Now().Add(time.Minute)
	var last kmsg.ConsumerGroupDescribeResponseGroup
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req := kmsg.NewPtrConsumerGroupDescribeRequest()
		req.Groups = []string{group}
		resp, err := req.RequestWith(ctx, cl)
		cancel()
		if err == nil && len(resp.Groups) == 1 {
			last = resp.Groups[0]
			if last.ErrorCode == 0 && ok(last) {
				return last
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("ConsumerGroupDescribe of %s never matched; last %+v", group, last)
	return last
}

// listedGroupType is the type ListGroups gives group ("" if unlisted).
func listedGroupType(t *testing.T, addr, group string) string {
	t.Helper()
	req := kmsg.NewPtrListGroupsRequest()
	for _, s := range newClient(t, addr).RequestSharded(ctxT(t, time.Minute), req) {
		if s.Err != nil {
			t.Fatal(s.Err)
		}
		for _, g := range s.Resp.(*kmsg.ListGroupsResponse).Groups {
			if g.Group == group {
				return g.GroupType
			}
		}
	}
	return ""
}

// rawCommit commits offset 0 of kc-0 as member at epoch, returning the
// partition's error code.
func rawCommit(t *testing.T, cl *kgo.Client, group, member string, epoch int32) int16 {
	t.Helper()
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Group, req.MemberID, req.Generation = group, member, epoch
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = "kc"
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctxT(t, time.Minute), cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}
