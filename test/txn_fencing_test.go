package test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// isFenced: the errors Kafka fences a zombie producer with, as franz-go
// surfaces them.
func isFenced(err error) bool {
	return errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch)
}

// Producer A begins a transaction and produces; producer B starts with the
// same transactional.id. A is a zombie: its next produce and its commit
// fail with a fencing error, its open transaction is aborted, and
// read_committed readers see B's records only.
func TestTxnZombieFenced(t *testing.T) {
	t.Parallel()
	n := txnNode(t, nil)
	checkZombieFenced(t, n.Addr)
}

func checkZombieFenced(t *testing.T, addr string) {
	adm := admin(t, addr)
	txnTopics(t, adm, 2, 1, nil, "fenced")
	waitTxnCoordinators(t, adm, 30*time.Second, "shared-commit", "shared-produce")
	// Once a produce fails, franz-go refuses to commit on its own, so the
	// broker's answer to each zombie call needs its own zombie.
	zombieRound(t, addr, "commit", func(ctx context.Context, a *kgo.Client, rec func(int, int32) *kgo.Record) error {
		return a.EndTransaction(ctx, kgo.TryCommit)
	})
	zombieRound(t, addr, "produce", func(ctx context.Context, a *kgo.Client, rec func(int, int32) *kgo.Record) error {
		return a.ProduceSync(ctx, rec(2, 0)).FirstErr()
	})
	got := readCommittedAll(t, []string{addr}, "fenced", 2, time.Minute)
	var values []string
	for _, r := range got {
		values = append(values, fmt.Sprintf("%d:%s", r.Partition, r.Value))
	}
	sameLines(t, "read_committed after the zombies were fenced", values,
		[]string{"0:commit-b-0", "1:commit-b-1", "0:produce-b-0", "1:produce-b-1"})
}

// zombieRound: A begins a transaction and produces to both partitions, B
// with the same transactional id initializes and produces, then A tries
// zombie (its commit or another produce), which must be fenced. B then
// commits.
func zombieRound(t *testing.T, addr, round string, zombie func(context.Context, *kgo.Client, func(int, int32) *kgo.Record) error) {
	t.Helper()
	ctx := ctxT(t, 2*time.Minute)
	newProducer := func() *kgo.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.TransactionalID("shared-"+round),
			kgo.TransactionTimeout(time.Minute), kgo.RecordPartitioner(kgo.ManualPartitioner()),
			// A fenced producer must not retry for long.
			kgo.RecordRetries(3), kgo.RecordDeliveryTimeout(20*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	recFor := func(who string) func(int, int32) *kgo.Record {
		return func(i int, p int32) *kgo.Record {
			return &kgo.Record{Topic: "fenced", Partition: p, Value: fmt.Appendf(nil, "%s-%s-%d", round, who, i)}
		}
	}

	a := newProducer()
	if err := a.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	arec := recFor("a")
	res := a.ProduceSync(ctx, arec(0, 0), arec(1, 1))
	if err := res.FirstErr(); err != nil {
		t.Fatalf("%s round: A's first produce: %v", round, err)
	}
	aPID, aEpoch := res[0].Record.ProducerID, res[0].Record.ProducerEpoch

	// B's InitProducerId bumps the epoch of the id and aborts A's
	// transaction before B can begin its own.
	b := newProducer()
	if err := b.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	brec := recFor("b")
	bres := b.ProduceSync(ctx, brec(0, 0), brec(1, 1))
	if err := bres.FirstErr(); err != nil {
		t.Fatalf("%s round: B's produce: %v", round, err)
	}
	if bres[0].Record.ProducerID == aPID && bres[0].Record.ProducerEpoch <= aEpoch {
		t.Fatalf("%s round: B got producer id %d epoch %d, A had %d epoch %d: the epoch was not bumped",
			round, bres[0].Record.ProducerID, bres[0].Record.ProducerEpoch, aPID, aEpoch)
	}

	if err := zombie(ctx, a, arec); !isFenced(err) {
		t.Errorf("A's %s after B's InitProducerId: %v, want PRODUCER_FENCED or INVALID_PRODUCER_EPOCH", round, err)
	}
	if err := b.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatalf("%s round: B's commit: %v", round, err)
	}
}
