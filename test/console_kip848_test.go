package test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// A KIP-848 consumer group, which DescribeGroups does not know, is shown
// from ConsumerGroupDescribe with its lag, matching kadm's answers.
func TestConsoleConsumerProtocolGroup(t *testing.T) {
	httpAddr := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	n := harness.SingleNode(t, map[string]string{"http.listener": httpAddr, "group.consumer.heartbeat.interval.ms": "500"})
	n.Start()
	t.Cleanup(func() { n.Stop() })
	base := "http://" + httpAddr
	waitReady(t, base)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "kev"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "kev", Partition: int32(i % 2), Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	member, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(n.Addr), kgo.ConsumerGroup("g848"), kgo.ConsumeTopics("kev"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit()}, consumerProtocol...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer member.Close()
	for got := 0; got < 8; {
		got += member.PollFetches(ctx).NumRecords()
		if ctx.Err() != nil {
			t.Fatal("the member never consumed")
		}
	}
	var cerr error
	member.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{"kev": {0: {Epoch: -1, Offset: 1}, 1: {Epoch: -1, Offset: 2}}},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) { cerr = err })
	if cerr != nil {
		t.Fatal(cerr)
	}
	ds, err := adm.DescribeConsumerGroups(ctx, "g848")
	if err != nil || ds["g848"].Err != nil || len(ds["g848"].Members) != 1 {
		t.Fatalf("ConsumerGroupDescribe: %v %+v", err, ds)
	}
	want := ds["g848"]
	// 4 records per partition, committed at 1 and 2: lag 3 + 2.
	const wantLag = 5

	var list struct {
		Groups []struct {
			Group        string `json:"group"`
			State        string `json:"state"`
			ProtocolType string `json:"protocol_type"`
			Members      int    `json:"members"`
			TotalLag     int64  `json:"total_lag"`
			Error        string `json:"error"`
		}
	}
	if code := consoleJSON(t, base, "/v1/groups", &list); code != 200 || len(list.Groups) != 1 {
		t.Fatalf("/v1/groups: %d %+v", code, list)
	}
	if g := list.Groups[0]; g.Group != "g848" || g.State != want.State || g.ProtocolType != "consumer" || g.Members != 1 || g.TotalLag != wantLag || g.Error != "" {
		t.Fatalf("listed %+v; ConsumerGroupDescribe says state %s, 1 member; want lag %d", g, want.State, wantLag)
	}
	var g struct {
		Protocol   string `json:"protocol"`
		TotalLag   int64  `json:"total_lag"`
		MemberList []struct {
			MemberID string `json:"member_id"`
			Assigned []struct {
				Topic      string  `json:"topic"`
				Partitions []int32 `json:"partitions"`
			}
		} `json:"member_list"`
		Offsets []struct {
			Partition int32 `json:"partition"`
			Committed int64 `json:"committed"`
			End       int64 `json:"end_offset"`
			Lag       int64 `json:"lag"`
		}
	}
	if code := consoleJSON(t, base, "/v1/groups/g848", &g); code != http.StatusOK {
		t.Fatalf("/v1/groups/g848: %d", code)
	}
	m := g.MemberList
	if g.Protocol != want.AssignorName || g.TotalLag != wantLag || len(m) != 1 || m[0].MemberID != want.Members[0].MemberID ||
		len(m[0].Assigned) != 1 || !slices.Equal(m[0].Assigned[0].Partitions, []int32{0, 1}) {
		t.Fatalf("group %+v; ConsumerGroupDescribe says %+v", g, want)
	}
	if len(g.Offsets) != 2 || g.Offsets[0].Committed != 1 || g.Offsets[0].End != 4 || g.Offsets[0].Lag != 3 || g.Offsets[1].Committed != 2 || g.Offsets[1].Lag != 2 {
		t.Fatalf("offsets %+v; want kev-0 at 1 of 4 and kev-1 at 2 of 4", g.Offsets)
	}
}
