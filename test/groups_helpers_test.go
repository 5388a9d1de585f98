package test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

// groupNode starts a node tuned for group tests: no initial rebalance
// delay to wait out, and session timeouts as short as a test can afford.
func groupNode(t *testing.T, extra map[string]string) *harness.Node {
	t.Helper()
	props := map[string]string{
		"group.initial.rebalance.delay.ms": "200",
		"group.min.session.timeout.ms":     "1000",
		"offsets.topic.num.partitions":     "10",
	}
	maps.Copy(props, extra)
	n := harness.SingleNode(t, props)
	n.Start()
	t.Cleanup(func() {
		if t.Failed() {
			out := n.Output()
			t.Logf("spool output (tail):\n%s", out[max(0, len(out)-8000):])
		}
	})
	return n
}

// produceN writes n records ("0", "1", ...) round-robin over the topic's
// partitions and waits for them.
func grpProduce(t *testing.T, addr, topic string, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := ctxT(t, time.Minute)
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, &kgo.Record{Topic: topic, Value: fmt.Appendf(nil, "%d", i)})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// member is a franz-go group consumer that tracks what it owns.
type grpConsumer struct {
	cl *kgo.Client

	mu      sync.Mutex
	owned   map[string][]int32
	assigns int // times partitions were assigned
	revokes int // times partitions were revoked or lost
}

// grpMember starts a member whose records are polled and dropped in the
// background; grpPolled leaves polling to the test.
func grpMember(t *testing.T, addr, group, topic string, opts ...kgo.Opt) *grpConsumer {
	t.Helper()
	m := grpPolled(t, addr, group, topic, opts...)
	// Polling drives the group's join and heartbeats.
	go func() {
		for {
			fs := m.cl.PollFetches(context.Background())
			if fs.IsClientClosed() {
				return
			}
		}
	}()
	return m
}

func grpPolled(t *testing.T, addr, group, topic string, opts ...kgo.Opt) *grpConsumer {
	t.Helper()
	m := &grpConsumer{owned: map[string][]int32{}}
	base := []kgo.Opt{
		kgo.SeedBrokers(addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.SessionTimeout(6 * time.Second), kgo.HeartbeatInterval(500 * time.Millisecond),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(500 * time.Millisecond),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.assigns++
			for t, ps := range a {
				m.owned[t] = append(m.owned[t], ps...)
			}
		}),
		kgo.OnPartitionsRevoked(m.drop),
		kgo.OnPartitionsLost(m.drop),
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	m.cl = cl
	return m
}

func (m *grpConsumer) drop(_ context.Context, _ *kgo.Client, r map[string][]int32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.revokes++
	for t, ps := range r {
		m.owned[t] = slices.DeleteFunc(m.owned[t], func(p int32) bool { return slices.Contains(ps, p) })
	}
}

func (m *grpConsumer) partitions(topic string) []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(slices.Values(m.owned[topic]))
}

func (m *grpConsumer) counts() (assigns, revokes int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.assigns, m.revokes
}

// waitSplit waits until the members own every partition of the topic
// between them, each exactly once, with want[i] partitions for member i
// (-1: any number).
func grpWaitSplit(t *testing.T, topic string, partitions int, members []*grpConsumer, want []int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		seen := map[int32]int{}
		ok := true
		var desc []string
		for i, m := range members {
			ps := m.partitions(topic)
			desc = append(desc, fmt.Sprint(ps))
			if want[i] >= 0 && len(ps) != want[i] {
				ok = false
			}
			for _, p := range ps {
				seen[p]++
			}
		}
		for p := range int32(partitions) {
			if seen[p] != 1 {
				ok = false
			}
		}
		last = fmt.Sprint(desc)
		if ok && len(seen) == partitions {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("partitions never split as %v over %d partitions; last %s", want, partitions, last)
}

func grpTopic(t *testing.T, addr, topic string, partitions int32) {
	t.Helper()
	adm := admin(t, addr)
	resp, err := adm.CreateTopics(ctxT(t, time.Minute), partitions, 1, nil, topic)
	if err != nil {
		t.Fatal(err)
	}
	if r := resp[topic]; r.Err != nil {
		t.Fatalf("create %s: %v", topic, r.Err)
	}
}
