package test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

func admin(t *testing.T, addr string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RetryTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestTopicsSurviveRestartAndKill(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, nil)
	n.Start()
	adm := admin(t, n.Addr)
	ctx := ctxT(t, 2*time.Minute)

	created, err := adm.CreateTopics(ctx, 3, 1, nil, "orders", "payments")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range created.Sorted() {
		if r.Err != nil {
			t.Fatalf("create %s: %v", r.Topic, r.Err)
		}
	}
	again, _ := adm.CreateTopics(ctx, 1, 1, nil, "orders")
	if r := again["orders"]; r.Err != kerr.TopicAlreadyExists {
		t.Fatalf("second create of orders: %v, want TOPIC_ALREADY_EXISTS", r.Err)
	}
	wantTopics(t, adm, map[string]int{"orders": 3, "payments": 3})

	if err := n.Stop(); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, n.Output())
	}
	n.Start()
	adm = admin(t, n.Addr)
	wantTopics(t, adm, map[string]int{"orders": 3, "payments": 3})

	if _, err := adm.DeleteTopics(ctx, "payments"); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateTopics(ctx, 2, 1, nil, "late"); err != nil {
		t.Fatal(err)
	}
	n.Kill()
	n.Start()
	adm = admin(t, n.Addr)
	wantTopics(t, adm, map[string]int{"orders": 3, "late": 2})
}

// wantTopics checks the user topics and their partition counts.
func wantTopics(t *testing.T, adm *kadm.Client, want map[string]int) {
	t.Helper()
	ctx := ctxT(t, time.Minute)
	details, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, d := range details.Sorted() {
		if d.Err != nil {
			t.Fatalf("topic %s: %v", d.Topic, d.Err)
		}
		got[d.Topic] = len(d.Partitions)
		for _, p := range d.Partitions {
			if p.Err != nil || p.Leader != 1 {
				t.Errorf("topic %s partition %d: leader %d err %v", d.Topic, p.Partition, p.Leader, p.Err)
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("topics %v, want %v", got, want)
	}
	for name, n := range want {
		if got[name] != n {
			t.Fatalf("topics %v, want %v", got, want)
		}
	}
}
