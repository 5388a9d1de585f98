// Command txnworker is one instance of an exactly-once consume-transform-
// produce job, the way applications use Kafka transactions: it consumes an
// input topic read_committed in a consumer group, transforms every record
// deterministically, produces the results to an output topic and commits
// the consumed offsets in the same transaction through franz-go's
// GroupTransactSession.
//
// The process tests in test/ run several of these as separate processes and
// kill them with SIGKILL. Each committed transaction prints a line
//
//	committed <records in this transaction> <records committed in total>
//
// on stdout; errors go to stderr. The worker leaves its group and exits when
// stdin closes or on SIGTERM, so it never outlives the test that started it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// transform is the deterministic function every worker applies; the tests
// recompute it (txnTransform in test/txn_helpers_test.go) to check each
// output record, so keep the two in step.
func transform(v []byte) []byte {
	return fmt.Appendf(nil, "%s|%08x", v, crc32.ChecksumIEEE(v))
}

func main() {
	brokers := flag.String("brokers", "", "comma-separated bootstrap brokers")
	group := flag.String("group", "", "consumer group")
	txnID := flag.String("txn-id", "", "transactional.id of this instance")
	in := flag.String("in", "in", "topic to consume")
	out := flag.String("out", "out", "topic to produce to")
	// Long enough to ride out a coordinator failover, short enough that a
	// worker dying with a transaction open holds the output back briefly.
	txnTimeout := flag.Duration("txn-timeout", 30*time.Second, "transaction.timeout.ms")
	session := flag.Duration("session-timeout", 6*time.Second, "group session timeout")
	maxPoll := flag.Int("max-poll", 500, "records a transaction takes at most")
	flag.Parse()
	if *brokers == "" || *group == "" || *txnID == "" {
		fmt.Fprintln(os.Stderr, "txnworker: --brokers, --group and --txn-id are required")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		// The test holds stdin open; when it goes away so does the worker.
		io.Copy(io.Discard, os.Stdin)
		stop()
	}()

	sess, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(strings.Split(*brokers, ",")...),
		kgo.TransactionalID(*txnID),
		kgo.TransactionTimeout(*txnTimeout),
		kgo.ConsumerGroup(*group),
		kgo.ConsumeTopics(*in),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.SessionTimeout(*session),
		kgo.HeartbeatInterval(*session/10),
		kgo.FetchMaxWait(500*time.Millisecond),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordDeliveryTimeout(2*time.Minute),
		kgo.RetryTimeout(2*time.Minute),
	)
	if err != nil {
		fail("new session: %v", err)
	}
	total := 0
	for {
		fs := sess.PollRecords(ctx, *maxPoll)
		if ctx.Err() != nil || fs.IsClientClosed() {
			break
		}
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				fmt.Fprintf(os.Stderr, "fetch %s-%d: %v\n", t, p, err)
			}
		})
		recs := fs.Records()
		if len(recs) == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			fail("begin: %v", err)
		}
		// A stop request waits for the transaction in hand to end: only
		// polling watches ctx.
		work := context.Background()
		e := kgo.AbortingFirstErrPromise(sess.Client())
		for _, r := range recs {
			sess.Produce(work, &kgo.Record{Topic: *out, Key: r.Key, Value: transform(r.Value)}, e.Promise())
		}
		produceErr := e.Err()
		if produceErr != nil {
			fmt.Fprintf(os.Stderr, "produce: %v; aborting\n", produceErr)
		}
		committed, err := sess.End(work, kgo.TransactionEndTry(produceErr == nil))
		if err != nil {
			// End's errors are not retryable: the session is unusable.
			fail("end transaction: %v", err)
		}
		if committed {
			total += len(recs)
			fmt.Printf("committed %d %d\n", len(recs), total)
		} else {
			fmt.Fprintf(os.Stderr, "transaction of %d records aborted\n", len(recs))
		}
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		sess.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-closeCtx.Done():
		fail("leaving the group took over 30s")
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "txnworker: "+format+"\n", args...)
	os.Exit(1)
}
