package test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// A transactional producer commits and aborts on a single node with the
// default internal-topic settings (replication 3 and min ISR 2, capped at
// the one broker): read_committed consumers see exactly the committed
// records, and DescribeTransactions / ListTransactions show the
// coordinator's state.
func TestTxnCoordinatorCommitAndAbort(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, nil)
	n.Start()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("node output:\n%s", n.Output())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	adm := kadm.NewClient(coordClient(t, n.Addr))
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, "coord-txn"); err != nil {
		t.Fatal(err)
	}

	p := coordClient(t, n.Addr, kgo.TransactionalID("coord-tx"), kgo.DefaultProduceTopic("coord-txn"),
		kgo.TransactionTimeout(30*time.Second))
	coordTransaction(ctx, t, p, "committed", 30, kgo.TryCommit)
	coordTransaction(ctx, t, p, "aborted", 30, kgo.TryAbort)
	coordTransaction(ctx, t, p, "later", 30, kgo.TryCommit)

	// read_committed: every committed record, no aborted one.
	got := coordConsume(ctx, t, n.Addr, "coord-txn", kgo.ReadCommitted(), 60)
	for prefix, want := range map[string]int{"committed": 30, "later": 30, "aborted": 0} {
		if got[prefix] != want {
			t.Errorf("read_committed saw %d %q records, want %d (all: %v)", got[prefix], prefix, want, got)
		}
	}
	// read_uncommitted sees the aborted records too: they were written.
	if got := coordConsume(ctx, t, n.Addr, "coord-txn", kgo.ReadUncommitted(), 90); got["aborted"] != 30 {
		t.Errorf("read_uncommitted saw %v, want 30 aborted records among them", got)
	}

	described, err := adm.DescribeTransactions(ctx, "coord-tx")
	if err != nil {
		t.Fatal(err)
	}
	d := described["coord-tx"]
	if d.Err != nil || d.State != "CompleteCommit" || d.ProducerID < 0 || d.ProducerEpoch != 0 ||
		d.TimeoutMillis != 30_000 || len(d.Topics) != 0 {
		t.Fatalf("described %+v", d)
	}

	// An open transaction lists as Ongoing with its partitions.
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := p.ProduceSync(ctx, &kgo.Record{Value: []byte("open-0"), Partition: 0}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	listed, err := adm.ListTransactions(ctx, nil, []string{"Ongoing"})
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := listed["coord-tx"]; !ok || l.State != "Ongoing" || l.ProducerID != d.ProducerID {
		t.Fatalf("listed Ongoing: %+v", listed)
	}
	if listed, err := adm.ListTransactions(ctx, []int64{d.ProducerID + 1}, nil); err != nil || len(listed) != 0 {
		t.Fatalf("listed another producer: %+v %v", listed, err)
	}
	// v2 (KIP-1152): a transactional id pattern the whole id must match.
	for pattern, want := range map[string]int{"coord-.*": 1, "coord": 0, ".*-tx": 1} {
		if ids, code := listTxnPattern(ctx, t, p, pattern); code != 0 || len(ids) != want {
			t.Fatalf("pattern %q: listed %v, error %d", pattern, ids, code)
		}
	}
	if _, code := listTxnPattern(ctx, t, p, "[a-"); code != kerr.InvalidRegularExpression.Code {
		t.Fatalf("bad pattern: error %d", code)
	}
	described, err = adm.DescribeTransactions(ctx, "coord-tx")
	if err != nil {
		t.Fatal(err)
	}
	if d := described["coord-tx"]; d.State != "Ongoing" || len(d.Topics["coord-txn"]) == 0 || d.StartTimestamp <= 0 {
		t.Fatalf("described while open: %+v", d)
	}
	if err := p.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatal(err)
	}
}

// A second producer with the same transactional id fences the first: the
// first's open transaction is aborted and it can no longer commit.
func TestTxnCoordinatorFencesOldProducer(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, nil)
	n.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	adm := kadm.NewClient(coordClient(t, n.Addr))
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "coord-fence"); err != nil {
		t.Fatal(err)
	}
	opts := []kgo.Opt{kgo.TransactionalID("coord-fenced"), kgo.DefaultProduceTopic("coord-fence")}
	old := coordClient(t, n.Addr, opts...)
	if err := old.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := old.ProduceSync(ctx, &kgo.Record{Value: []byte("zombie-0")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// The new instance's InitProducerId aborts the zombie's transaction.
	coordTransaction(ctx, t, coordClient(t, n.Addr, opts...), "fresh", 5, kgo.TryCommit)
	if err := old.EndTransaction(ctx, kgo.TryCommit); err == nil {
		t.Fatal("the fenced producer committed")
	}
	got := coordConsume(ctx, t, n.Addr, "coord-fence", kgo.ReadCommitted(), 5)
	if got["fresh"] != 5 || got["zombie"] != 0 {
		t.Fatalf("read_committed saw %v", got)
	}
}

func coordClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// coordTransaction produces n records "<prefix>-<i>" spread over the
// topic's partitions in one transaction, and ends it.
func coordTransaction(ctx context.Context, t *testing.T, p *kgo.Client, prefix string, n int, end kgo.TransactionEndTry) {
	t.Helper()
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "%s-%d", prefix, i)}
	}
	if err := p.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce %s: %v", prefix, err)
	}
	if err := p.EndTransaction(ctx, end); err != nil {
		t.Fatalf("end %s: %v", prefix, err)
	}
}

// coordConsume reads topic from the start with the isolation level until
// it has want records or nothing new arrives for a while (so that extra
// records would be seen), and counts them by value prefix.
func coordConsume(ctx context.Context, t *testing.T, addr, topic string, level kgo.IsolationLevel, want int) map[string]int {
	t.Helper()
	cl := coordClient(t, addr, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(level),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(500*time.Millisecond))
	counts := map[string]int{}
	total := 0
	deadline := time.Now().Add(time.Minute)
	quietUntil := time.Time{}
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := cl.PollFetches(pctx)
		cancel()
		for _, e := range fs.Errors() {
			if e.Err != context.DeadlineExceeded && e.Err != context.Canceled {
				t.Fatalf("consume %s: %v", topic, e.Err)
			}
		}
		fs.EachRecord(func(r *kgo.Record) {
			prefix, _, _ := strings.Cut(string(r.Value), "-")
			counts[prefix]++
			total++
		})
		now := time.Now()
		if total >= want {
			// Keep reading briefly: anything beyond want is a failure.
			if quietUntil.IsZero() {
				quietUntil = now.Add(2 * time.Second)
			} else if now.After(quietUntil) {
				return counts
			}
		}
		if now.After(deadline) {
			t.Fatalf("consumed %d of %d records of %s: %v", total, want, topic, counts)
		}
	}
}

// listTxnPattern sends ListTransactions v2 with a transactional id
// pattern and returns the listed ids and the error code.
func listTxnPattern(ctx context.Context, t *testing.T, cl *kgo.Client, pattern string) ([]string, int16) {
	t.Helper()
	req := kmsg.NewPtrListTransactionsRequest()
	req.Version = 2
	req.TransactionalIDPattern = &pattern
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range resp.TransactionStates {
		ids = append(ids, s.TransactionalID)
	}
	return ids, resp.ErrorCode
}
