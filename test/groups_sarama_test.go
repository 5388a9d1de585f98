package test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
)

// saramaMember is a sarama consumer group member that marks every message
// it sees and reports what it claims.
type saramaMember struct {
	cg     sarama.ConsumerGroup
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	claims []int32
	seen   int
}

func (m *saramaMember) Setup(s sarama.ConsumerGroupSession) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.claims = slices.Sorted(slices.Values(s.Claims()["sarama"]))
	return nil
}

func (m *saramaMember) Cleanup(sarama.ConsumerGroupSession) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.claims = nil
	return nil
}

func (m *saramaMember) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for msg := range c.Messages() {
		s.MarkMessage(msg, "")
		m.mu.Lock()
		m.seen++
		m.mu.Unlock()
	}
	return nil
}

func (m *saramaMember) owned() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.claims
}

func startSarama(t *testing.T, addr, group string) *saramaMember {
	t.Helper()
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Interval = 100 * time.Millisecond
	cfg.Consumer.Group.Session.Timeout = 6 * time.Second
	cfg.Consumer.Group.Heartbeat.Interval = 500 * time.Millisecond
	cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRange()}
	cg, err := sarama.NewConsumerGroup([]string{addr}, group, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &saramaMember{cg: cg, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			if err := cg.Consume(ctx, []string{"sarama"}, m); err != nil && !errors.Is(err, sarama.ErrClosedConsumerGroup) {
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	return m
}

func (m *saramaMember) stop() {
	m.cancel()
	<-m.done
	m.cg.Close()
}

func waitClaims(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestGroupSaramaMembersShareAndCommit(t *testing.T) {
	t.Parallel()
	n := groupNode(t, nil)
	grpTopic(t, n.Addr, "sarama", 4)
	grpProduce(t, n.Addr, "sarama", 200)

	a := startSarama(t, n.Addr, "sg")
	waitClaims(t, "a to claim all 4", func() bool { return len(a.owned()) == 4 })
	b := startSarama(t, n.Addr, "sg")
	waitClaims(t, "a 2/b 2", func() bool {
		pa, pb := a.owned(), b.owned()
		return len(pa) == 2 && len(pb) == 2 && !slices.ContainsFunc(pa, func(p int32) bool { return slices.Contains(pb, p) })
	})
	b.stop()
	waitClaims(t, "a to claim all 4 again", func() bool { return len(a.owned()) == 4 })
	waitClaims(t, "all records seen", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.seen >= 200-b.seen
	})
	time.Sleep(500 * time.Millisecond) // an autocommit
	a.stop()

	ctx := ctxT(t, time.Minute)
	adm := admin(t, n.Addr)
	ends, err := adm.ListEndOffsets(ctx, "sarama")
	if err != nil {
		t.Fatal(err)
	}
	got, err := adm.FetchOffsets(ctx, "sg")
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(e kadm.ListedOffset) {
		if o, ok := got.Lookup("sarama", e.Partition); !ok || o.At != e.Offset {
			t.Errorf("partition %d committed %+v, end %d", e.Partition, o, e.Offset)
		}
	})
}
