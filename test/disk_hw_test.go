package test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

// Records only the leader has (its followers, still in the ISR, stopped
// before fetching them) are not committed. After every broker dies and the
// leader comes back alone, it must still not serve them as committed: its
// high watermark comes from replication-offset-checkpoint, not from its
// log end, so the records stay invisible until a follower has them.
func TestRestartedLeaderKeepsCheckpointedHighWatermark(t *testing.T) {
	t.Parallel()
	c := harness.NewCluster(t, []string{"controller", "broker", "broker", "broker"},
		map[string]string{"replica.lag.time.max.ms": "120000", "broker.session.timeout.ms": "60000",
			"broker.heartbeat.interval.ms": "500", "replica.high.watermark.checkpoint.interval.ms": "100"})
	c.Start()
	adm := clusterAdmin(t, c)
	ctx := ctxT(t, 3*time.Minute)
	const topic = "unreplicated"
	res, err := adm.CreateTopics(ctx, 1, 3, nil, topic)
	if err != nil || res[topic].Err != nil {
		t.Fatalf("create: %v %v", err, res[topic].Err)
	}
	waitFullISR(t, adm, topic)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.BootstrapAddrs()...), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const committed = 50
	for i := 0; i < committed; i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: counterValue(i, 50)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	meta := eventuallyMetadata(t, adm, topic, 1)
	leader := int(meta.Topics[topic].Partitions[0].Leader)
	var followers []*harness.Node
	for _, n := range c.Brokers() {
		if n.ID != leader {
			followers = append(followers, n)
			n.Signal(syscall.SIGSTOP)
		}
	}
	one, err := kgo.NewClient(kgo.SeedBrokers(c.Node(leader).Addr), kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	for i := committed; i < committed+30; i++ {
		if err := one.ProduceSync(ctx, &kgo.Record{Value: counterValue(i, 50)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if hw := leaderHighWatermark(t, c.Node(leader).Addr, topic); hw != committed {
		t.Fatalf("before the restart the high watermark is %d, want %d", hw, committed)
	}
	time.Sleep(time.Second) // a checkpoint or more
	for _, n := range c.Brokers() {
		n.Kill()
	}
	c.Node(leader).Start()
	for range 20 {
		if hw := leaderHighWatermark(t, c.Node(leader).Addr, topic); hw != committed {
			t.Fatalf("restarted leader reports high watermark %d; only %d records are replicated", hw, committed)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, n := range followers {
		n.Start()
	}
	waitFullISR(t, adm, topic)
	if hw := leaderHighWatermark(t, c.Node(leader).Addr, topic); hw < committed {
		t.Fatalf("high watermark %d after the followers returned", hw)
	}
}

// leaderHighWatermark asks addr for the partition's high watermark (ListOffsets
// latest), retrying while it is not ready.
func leaderHighWatermark(t *testing.T, addr, topic string) int64 {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		offs, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
		cancel()
		cl.Close()
		if err == nil {
			if o, ok := offs.Lookup(topic, 0); ok && o.Err == nil {
				return o.Offset
			} else if ok {
				err = o.Err
			} else {
				err = fmt.Errorf("no answer for %s-0", topic)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("ListOffsets on %s: %v", addr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
