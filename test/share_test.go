package test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// TestShareGroupJavaConsumers: two Java KafkaShareConsumers share a
// three-partition topic; every record is delivered once and acknowledged
// once, and the acknowledgements survive kill -9 (the share-partitions'
// start offsets stay at the log end with no lag).
func TestShareGroupJavaConsumers(t *testing.T) {
	t.Parallel()
	n := shareNode(t, nil)
	grpTopic(t, n.Addr, "sq", 3)
	a := startShareConsumer(t, n.Addr, "sg", "sq", "accept", 4*time.Second)
	b := startShareConsumer(t, n.Addr, "sg", "sq", "accept", 4*time.Second)
	waitShare(t, a.ready, 2*time.Minute, "consumer a")
	waitShare(t, b.ready, 2*time.Minute, "consumer b")
	waitShareStarted(t, n.Addr, "sg", "sq", 3, time.Minute)
	grpProduce(t, n.Addr, "sq", 300)
	waitShare(t, a.done, 2*time.Minute, "consumer a to finish")
	waitShare(t, b.done, 2*time.Minute, "consumer b to finish")

	all := append(a.records(), b.records()...)
	seen := map[string]bool{}
	for _, r := range all {
		if seen[recKey(r)] || r.delivery != 1 {
			t.Fatalf("record %s (value %s) delivered again (delivery count %d)", recKey(r), r.value, r.delivery)
		}
		seen[recKey(r)] = true
	}
	if vals := distinctValues(all); len(vals) != 300 {
		t.Fatalf("consumers got %d distinct values of 300 (a %d, b %d)", len(vals), len(a.records()), len(b.records()))
	}
	t.Logf("a got %d records, b %d", len(a.records()), len(b.records()))
	checkShareOffsets(t, n.Addr, "sg", "sq", []int64{100, 100, 100})

	// Acknowledgements are durable before they are answered: kill -9
	// loses none.
	n.Kill()
	n.Start()
	checkShareOffsets(t, n.Addr, "sg", "sq", []int64{100, 100, 100})
}

// TestShareGroupRedeliversAfterKill: a member killed with kill -9 while
// holding records has them redelivered to another member once the
// acquisition lock runs out, with delivery count 2.
func TestShareGroupRedeliversAfterKill(t *testing.T) {
	t.Parallel()
	n := shareNode(t, nil)
	grpTopic(t, n.Addr, "sk", 1)
	holder := startShareConsumer(t, n.Addr, "sgk", "sk", "hold", time.Minute)
	waitShare(t, holder.ready, 2*time.Minute, "the holding consumer")
	waitShareStarted(t, n.Addr, "sgk", "sk", 1, time.Minute)
	grpProduce(t, n.Addr, "sk", 50)
	waitShare(t, holder.hold, time.Minute, "the holding consumer to get records")
	held := holder.records()
	if err := holder.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-holder.done

	taker := startShareConsumer(t, n.Addr, "sgk", "sk", "accept", 4*time.Second)
	waitShare(t, taker.done, 2*time.Minute, "the second consumer to finish")
	got := map[string]shareRec{}
	for _, r := range taker.records() {
		got[r.value] = r
	}
	if len(got) != 50 {
		t.Fatalf("the second consumer got %d distinct records of 50", len(got))
	}
	for _, h := range held {
		if r := got[h.value]; r.delivery != 2 {
			t.Fatalf("held record %s redelivered with delivery count %d, want 2", recKey(h), r.delivery)
		}
	}
	checkShareOffsets(t, n.Addr, "sgk", "sk", []int64{50})
}

// TestShareGroupRejectAndDeliveryLimit: rejected records are archived and
// never redelivered; records released every time are delivered
// group.share.delivery.count.limit times and then archived.
func TestShareGroupRejectAndDeliveryLimit(t *testing.T) {
	t.Parallel()
	httpAddr := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	n := shareNode(t, map[string]string{"group.share.delivery.count.limit": "3", "http.listener": httpAddr})
	grpTopic(t, n.Addr, "sr", 1)
	rej := startShareConsumer(t, n.Addr, "sg-reject", "sr", "reject", 4*time.Second)
	rel := startShareConsumer(t, n.Addr, "sg-release", "sr", "release", 4*time.Second)
	waitShare(t, rej.ready, 2*time.Minute, "the rejecting consumer")
	waitShare(t, rel.ready, 2*time.Minute, "the releasing consumer")
	waitShareStarted(t, n.Addr, "sg-reject", "sr", 1, time.Minute)
	waitShareStarted(t, n.Addr, "sg-release", "sr", 1, time.Minute)
	grpProduce(t, n.Addr, "sr", 50)
	waitShare(t, rej.done, 2*time.Minute, "the rejecting consumer to finish")
	waitShare(t, rel.done, 2*time.Minute, "the releasing consumer to finish")

	for v, count := range distinctValues(rej.records()) {
		if count != 1 {
			t.Fatalf("value %s delivered %d times to the rejecting group", v, count)
		}
	}
	if got := len(rej.records()); got != 50 {
		t.Fatalf("the rejecting group got %d records of 50", got)
	}
	counts := distinctValues(rel.records())
	for i := range 50 {
		if c := counts[strconv.Itoa(i)]; c != 3 {
			t.Fatalf("value %d delivered %d times with delivery.count.limit 3", i, c)
		}
	}
	for _, r := range rel.records() {
		if r.delivery < 1 || r.delivery > 3 {
			t.Fatalf("record %s has delivery count %d", recKey(r), r.delivery)
		}
	}
	checkShareOffsets(t, n.Addr, "sg-reject", "sr", []int64{50})
	checkShareOffsets(t, n.Addr, "sg-release", "sr", []int64{50})

	// /metrics counts every delivery and acknowledgement: 50 records to
	// the rejecting group (5 rejected), 3 x 50 to the releasing one.
	fams := scrape(t, "http://"+httpAddr)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"spool_share_deliveries_total", nil, 200},
		{"spool_share_acknowledgements_total", map[string]string{"type": "reject"}, 5},
		{"spool_share_acknowledgements_total", map[string]string{"type": "accept"}, 45},
		{"spool_share_acknowledgements_total", map[string]string{"type": "release"}, 150},
		{"spool_share_records_acquired", nil, 0},
		{"spool_share_group_lag", map[string]string{"group": "sg-release", "topic": "sr", "partition": "0"}, 0},
	} {
		if v, ok := value(fams, c.name, c.labels); !ok || v != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
}

// checkShareOffsets asks DescribeShareGroupOffsets for the start offset
// of each partition of topic and expects no lag.
func checkShareOffsets(t *testing.T, addr, group, topic string, want []int64) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		req := kmsg.NewPtrDescribeShareGroupOffsetsRequest()
		req.Version = 1
		g := kmsg.NewDescribeShareGroupOffsetsRequestGroup()
		g.GroupID = group
		req.Groups = append(req.Groups, g)
		rt := kmsg.NewDescribeShareGroupOffsetsRequestGroupTopic()
		rt.Topic = topic
		for p := range want {
			rt.Partitions = append(rt.Partitions, int32(p))
		}
		req.Groups[0].Topics = append(req.Groups[0].Topics, rt)
		resp, err := harness.Request(addr, req, 10*time.Second)
		if err != nil {
			last = err.Error()
			continue
		}
		rg := resp.(*kmsg.DescribeShareGroupOffsetsResponse).Groups[0]
		ok := rg.ErrorCode == 0 && len(rg.Topics) == 1 && len(rg.Topics[0].Partitions) == len(want)
		for i := 0; ok && i < len(want); i++ {
			p := rg.Topics[0].Partitions[i]
			ok = p.ErrorCode == 0 && p.StartOffset == want[i] && p.Lag == 0
		}
		if ok {
			return
		}
		last = fmt.Sprintf("%+v", rg)
	}
	t.Fatalf("share offsets of %s on %s: want start offsets %v and no lag, last answer %s", group, topic, want, last)
}
