package test

import (
	"bufio"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

// txnProps tune a node for transaction tests: a short rebalance delay and
// session floor for the workers' group, and timed-out transactions swept
// every second instead of every ten.
var txnProps = map[string]string{
	"group.initial.rebalance.delay.ms":                            "200",
	"group.min.session.timeout.ms":                                "1000",
	"offsets.topic.num.partitions":                                "10",
	"transaction.state.log.num.partitions":                        "10",
	"transaction.abort.timed.out.transaction.cleanup.interval.ms": "1000",
}

// txnNode starts a single node for transaction tests; its output is
// logged when the test fails.
func txnNode(t *testing.T, extra map[string]string) *harness.Node {
	t.Helper()
	props := maps.Clone(txnProps)
	// One broker holds every replica of the internal topics.
	props["offsets.topic.replication.factor"] = "1"
	props["transaction.state.log.replication.factor"] = "1"
	props["transaction.state.log.min.isr"] = "1"
	maps.Copy(props, extra)
	n := harness.SingleNode(t, props)
	n.Start()
	logOnFailure(t, n)
	return n
}

// logOnFailure prints the end of each node's output if the test failed.
func logOnFailure(t *testing.T, nodes ...*harness.Node) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, n := range nodes {
			t.Logf("node %d output (tail):\n%s", n.ID, lastLines(n.Output(), 80))
		}
	})
}

// txnTransform is test/txnworker's transform; keep the two in step.
func txnTransform(v []byte) []byte {
	return fmt.Appendf(nil, "%s|%08x", v, crc32.ChecksumIEEE(v))
}

var (
	workerOnce sync.Once
	workerBin  string
	workerErr  error
)

// txnWorkerBinary builds test/txnworker once per test process.
func txnWorkerBinary(t *testing.T) string {
	t.Helper()
	workerOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		dir, err := os.MkdirTemp("", "txnworker-*")
		if err != nil {
			workerErr = err
			return
		}
		workerBin = filepath.Join(dir, "txnworker")
		cmd := exec.Command("go", "build", "-o", workerBin, "./txnworker")
		cmd.Dir = filepath.Dir(file)
		if out, err := cmd.CombinedOutput(); err != nil {
			workerErr = fmt.Errorf("build txnworker: %v\n%s", err, out)
		}
	})
	if workerErr != nil {
		t.Fatal(workerErr)
	}
	return workerBin
}

// txnWorker is one test/txnworker process.
type txnWorker struct {
	name      string
	cmd       *exec.Cmd
	stdin     io.WriteCloser
	stderr    *syncBuffer
	committed atomic.Int64 // records it committed, as it reported
	done      chan struct{}
	exitErr   error
	killed    atomic.Bool // by the test
}

// startTxnWorker starts a worker with transactional id txnID in group
// group, reading in and writing out.
func startTxnWorker(t *testing.T, name string, brokers []string, group, txnID string, extra ...string) *txnWorker {
	t.Helper()
	args := append([]string{"--brokers", strings.Join(brokers, ","), "--group", group, "--txn-id", txnID,
		"--in", "in", "--out", "out"}, extra...)
	cmd := exec.Command(txnWorkerBinary(t), args...)
	w := &txnWorker{name: name, cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	w.stdin = stdin
	cmd.Stderr = w.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "committed" {
				if n, err := strconv.ParseInt(f[2], 10, 64); err == nil {
					w.committed.Store(n)
				}
			}
		}
		w.exitErr = cmd.Wait()
		close(w.done)
	}()
	t.Cleanup(func() {
		// A worker that failed on its own is worth a look even when the
		// others made up for it.
		failed := w.failedOnItsOwn()
		w.kill()
		if t.Failed() || failed {
			t.Logf("worker %s (exit %v) stderr:\n%s", w.name, w.exitErr, lastLines(w.stderr.String(), 40))
		}
	})
	return w
}

func (w *txnWorker) exited() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// failedOnItsOwn: the worker exited with an error the test did not cause.
func (w *txnWorker) failedOnItsOwn() bool {
	return w.exited() && !w.killed.Load() && w.exitErr != nil
}

// kill is kill -9.
func (w *txnWorker) kill() {
	if !w.exited() {
		w.killed.Store(true)
		w.cmd.Process.Kill()
	}
	<-w.done
}

// stop asks the worker to finish its transaction and leave its group.
func (w *txnWorker) stop(t *testing.T) {
	t.Helper()
	w.stdin.Close()
	select {
	case <-w.done:
	case <-time.After(90 * time.Second):
		w.kill()
		t.Errorf("worker %s did not stop within 90s", w.name)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// txnInputValue is input record i's value: a unique id.
func txnInputValue(i int) []byte { return fmt.Appendf(nil, "rec-%07d", i) }

// feedInput produces n records with unique ids to topic in, in steps, so
// that workers consume while input still arrives. It returns when all are
// acknowledged or ctx ends. It runs on its own goroutine, so it reports
// instead of failing the test.
func feedInput(ctx context.Context, brokers []string, n, step int, pause time.Duration) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.RecordDeliveryTimeout(2*time.Minute))
	if err != nil {
		return err
	}
	defer cl.Close()
	for from := 0; from < n; from += step {
		var recs []*kgo.Record
		for i := from; i < min(n, from+step); i++ {
			recs = append(recs, &kgo.Record{Topic: "in", Key: []byte(strconv.Itoa(i)), Value: txnInputValue(i)})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			return fmt.Errorf("feed input records %d..: %w", from, err)
		}
		time.Sleep(pause)
	}
	return nil
}

// waitConsumed waits until group has committed offsets for topic in that
// reach its end on every partition.
func waitConsumed(t *testing.T, adm *kadm.Client, group string, timeout time.Duration, progress func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ends, err := adm.ListEndOffsets(ctx, "in")
		var committed kadm.OffsetResponses
		if err == nil {
			committed, err = adm.FetchOffsets(ctx, group)
		}
		cancel()
		if err == nil {
			done := true
			var lag []string
			ends.Each(func(o kadm.ListedOffset) {
				c, ok := committed.Lookup("in", o.Partition)
				if !ok || c.At < o.Offset {
					done = false
					lag = append(lag, fmt.Sprintf("p%d %d/%d", o.Partition, c.At, o.Offset))
				}
			})
			if done && len(ends) > 0 {
				return
			}
			last = strings.Join(lag, " ")
		} else {
			last = err.Error()
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("group %s did not commit all of topic in within %v: %s; %s", group, timeout, last, progress())
}

// readCommittedAll reads every record of topic read_committed. It first
// writes a non-transactional sentinel to each partition and reads until it
// has every sentinel: everything before them in the log has then been
// delivered, so a missing or duplicate record cannot hide behind a slow
// read.
func readCommittedAll(t *testing.T, brokers []string, topic string, partitions int32, timeout time.Duration) []*kgo.Record {
	t.Helper()
	ctx := ctxT(t, timeout)
	prod, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for p := range partitions {
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: p, Key: []byte("sentinel"), Value: []byte("sentinel")}).FirstErr(); err != nil {
			t.Fatalf("sentinel to %s-%d: %v", topic, p, err)
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	seen := map[int32]bool{}
	for len(seen) < int(partitions) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read_committed reader of %s reached the sentinel of %d of %d partitions within %v (%d records read; an open transaction holds the last stable offset back?)",
				topic, len(seen), partitions, timeout, len(out))
		}
		fs.EachError(func(tp string, p int32, err error) { t.Errorf("fetch %s-%d: %v", tp, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Key) == "sentinel" {
				seen[r.Partition] = true
				return
			}
			out = append(out, r)
		})
	}
	return out
}

// checkTransformedOnce holds what a reader of topic out saw to the n inputs:
// each transformed exactly once.
func checkTransformedOnce(t *testing.T, got []*kgo.Record, n int) {
	t.Helper()
	want := map[string]int{}
	for i := range n {
		want[string(txnTransform(txnInputValue(i)))] = i
	}
	seen := make([]int, n)
	var dups, strays []string
	for _, r := range got {
		i, ok := want[string(r.Value)]
		if !ok {
			strays = append(strays, string(r.Value))
			continue
		}
		if string(r.Key) != strconv.Itoa(i) {
			strays = append(strays, fmt.Sprintf("%s with key %s", r.Value, r.Key))
		}
		seen[i]++
		if seen[i] == 2 {
			dups = append(dups, fmt.Sprintf("%d (%s-%d@%d)", i, r.Topic, r.Partition, r.Offset))
		}
	}
	var missing []int
	for i, c := range seen {
		if c == 0 {
			missing = append(missing, i)
		}
	}
	if len(missing)+len(dups)+len(strays) > 0 {
		t.Fatalf("output of %d records for %d inputs: %d missing (first %v), %d duplicated (first %v), %d not from any input (first %v)",
			len(got), n, len(missing), missing[:min(10, len(missing))], len(dups), dups[:min(10, len(dups))], len(strays), strays[:min(5, len(strays))])
	}
}

// createTopics creates topics with the given partitions and replication
// factor and waits until each has leaders.
func txnTopics(t *testing.T, adm *kadm.Client, partitions int32, rf int16, configs map[string]*string, topics ...string) {
	t.Helper()
	res, err := adm.CreateTopics(ctxT(t, time.Minute), partitions, rf, configs, topics...)
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range topics {
		if r := res[tp]; r.Err != nil {
			t.Fatalf("create %s: %v", tp, r.Err)
		}
		eventuallyMetadata(t, adm, tp, int(partitions))
	}
}

// workersProgress describes how many records each worker committed.
func workersProgress(ws []*txnWorker) string {
	var parts []string
	for _, w := range ws {
		state := "running"
		if w.exited() {
			state = fmt.Sprintf("exited: %v", w.exitErr)
		}
		parts = append(parts, fmt.Sprintf("%s committed %d (%s)", w.name, w.committed.Load(), state))
	}
	return strings.Join(parts, "; ")
}

func committedTotal(ws []*txnWorker) int64 {
	var n int64
	for _, w := range ws {
		n += w.committed.Load()
	}
	return n
}

// waitTxnCoordinators waits until FindCoordinator (key type 1) answers a
// coordinator for every transactional id: the first ask creates
// __transaction_state, which takes a moment, and without a coordinator
// nothing else in a transaction test can work.
func waitTxnCoordinators(t *testing.T, adm *kadm.Client, timeout time.Duration, ids ...string) map[string]int32 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		res := adm.FindTxnCoordinators(ctx, ids...)
		cancel()
		out := map[string]int32{}
		var errs []string
		for _, id := range ids {
			co, ok := res[id]
			switch {
			case !ok:
				errs = append(errs, id+": no answer")
			case co.Err != nil:
				errs = append(errs, fmt.Sprintf("%s: %v", id, co.Err))
			default:
				out[id] = co.NodeID
			}
		}
		if len(errs) == 0 {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("FindCoordinator(transaction) found no coordinator within %v: %s", timeout, strings.Join(errs, "; "))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
