package test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The broker is killed with SIGKILL while a transaction is open, after
// three committed ones, and its producer never comes back. After the
// restart the committed records are all there; the coordinator aborts the
// open transaction once its transaction.timeout.ms passes, so the last
// stable offset moves past it and read_committed readers get the records
// behind it; the transactional id then works again.
func TestTxnBrokerRestartMidTransaction(t *testing.T) {
	t.Parallel()
	n := txnNode(t, nil)
	checkRestartMidTransaction(t, n.Addr, func() {
		n.Kill()
		n.Start()
	})
}

// checkRestartMidTransaction runs the test against the broker at addr;
// restart kills and restarts it.
func checkRestartMidTransaction(t *testing.T, addr string, restart func()) {
	adm := admin(t, addr)
	txnTopics(t, adm, 2, 1, nil, "restart")
	waitTxnCoordinators(t, adm, 30*time.Second, "survivor")
	ctx := ctxT(t, 3*time.Minute)
	const txnTimeout = 10 * time.Second
	newTxnProducer := func() *kgo.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.TransactionalID("survivor"),
			kgo.TransactionTimeout(txnTimeout), kgo.RecordPartitioner(kgo.ManualPartitioner()),
			kgo.RetryTimeout(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	var want []string // partition:value lines read_committed readers must see
	recs := func(tag string, count int) []*kgo.Record {
		var out []*kgo.Record
		for i := range count {
			out = append(out, &kgo.Record{Topic: "restart", Partition: int32(i % 2), Value: fmt.Appendf(nil, "%s-%d", tag, i)})
		}
		return out
	}
	lines := func(rs []*kgo.Record) []string {
		var out []string
		for _, r := range rs {
			out = append(out, fmt.Sprintf("%d:%s", r.Partition, r.Value))
		}
		return out
	}

	txn := newTxnProducer()
	for k := range 3 {
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		rs := recs(fmt.Sprintf("committed%d", k), 10)
		if err := txn.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatalf("produce in transaction %d: %v", k, err)
		}
		if err := txn.EndTransaction(ctx, kgo.TryCommit); err != nil {
			t.Fatalf("commit transaction %d: %v", k, err)
		}
		want = append(want, lines(rs)...)
	}
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	res := txn.ProduceSync(ctx, recs("open", 10)...)
	if err := res.FirstErr(); err != nil {
		t.Fatalf("produce in the open transaction: %v", err)
	}
	opened := time.Now()
	pid := res[0].Record.ProducerID
	firstOpen := map[int32]int64{}
	for _, r := range res {
		if _, ok := firstOpen[r.Record.Partition]; !ok {
			firstOpen[r.Record.Partition] = r.Record.Offset
		}
	}
	// The producer dies with its transaction open (Close does not end it).
	txn.Close()
	plain := syncProducer(t, addr)
	held := recs("behind-open", 2)
	produceSync(t, plain, held...)
	want = append(want, lines(held)...)
	checkLSO(t, adm, firstOpen, "before the kill")

	restart()
	adm = admin(t, addr)
	// Unless the restart outlasted most of the timeout, the transaction is
	// still open: the restart neither committed nor forgot it.
	if time.Since(opened) < txnTimeout*6/10 {
		checkLSO(t, adm, firstOpen, "right after the restart")
	} else {
		t.Logf("restart took %v; not checking that the transaction is still open", time.Since(opened))
	}

	// The coordinator aborts it after transaction.timeout.ms; the sweep
	// runs every second.
	deadline := opened.Add(txnTimeout + time.Minute)
	for {
		lso, err1 := adm.ListCommittedOffsets(ctx, "restart")
		end, err2 := adm.ListEndOffsets(ctx, "restart")
		advanced := err1 == nil && err2 == nil
		for p, off := range firstOpen {
			l, _ := lso.Lookup("restart", p)
			e, _ := end.Lookup("restart", p)
			advanced = advanced && l.Offset > off && l.Offset == e.Offset
		}
		if advanced {
			t.Logf("open transaction aborted %v after it began", time.Since(opened).Round(100*time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("last stable offset never moved past the timed-out transaction (open from %v): read_committed end %v %v, end %v %v",
				firstOpen, lso, err1, end, err2)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for p, off := range firstOpen {
		resp, _ := rawFetch(t, addr, "restart", p, 0, 1)
		var got [][2]int64
		for _, a := range resp.AbortedTransactions {
			got = append(got, [2]int64{a.ProducerID, a.FirstOffset})
		}
		if want := [][2]int64{{pid, off}}; !slices.Equal(got, want) {
			t.Errorf("partition %d: read_committed fetch lists aborted transactions %v, want %v", p, got, want)
		}
	}

	// The transactional id works again: a new producer fences the old
	// epoch and commits.
	again := newTxnProducer()
	if err := again.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	after := recs("after-restart", 4)
	if err := again.ProduceSync(ctx, after...).FirstErr(); err != nil {
		t.Fatalf("produce after the restart: %v", err)
	}
	if err := again.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatalf("commit after the restart: %v", err)
	}
	want = append(want, lines(after)...)

	got := readCommittedAll(t, []string{addr}, "restart", 2, time.Minute)
	sameLines(t, "read_committed after the restart", lines(got), want)
}

// checkLSO: read_committed ListOffsets answers the first offset of the
// open transaction on each partition.
func checkLSO(t *testing.T, adm *kadm.Client, firstOpen map[int32]int64, when string) {
	t.Helper()
	lso, err := adm.ListCommittedOffsets(ctxT(t, time.Minute), "restart")
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	for p, off := range firstOpen {
		if l, _ := lso.Lookup("restart", p); l.Err != nil || l.Offset != off {
			t.Errorf("%s: partition %d read_committed end offset %d (%v), want %d where the open transaction begins", when, p, l.Offset, l.Err, off)
		}
	}
}
