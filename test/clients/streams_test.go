package clients_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/clients/internal/spec"
)

var streamsFamily = &family{
	name: "Kafka Streams",
	prepare: func(b *builds) error {
		_, err := javaCommand(b, "spool.clients.StreamsEos")
		return err
	},
	version: func(ctx context.Context, b *builds) string {
		v := javaVersion(ctx, b)
		if v == "unknown" {
			return v
		}
		return "kafka-streams " + strings.TrimPrefix(v, "kafka-clients ") + ", processing.guarantee=exactly_once_v2"
	},
}

var streamsEOS = &check{
	name:    "streams-eos",
	family:  "Kafka Streams",
	what:    "an exactly_once_v2 count (repartition and changelog topics) killed with kill -9 mid-stream and restarted counts every input exactly once (its output read_committed)",
	issues:  []int{issueTxn},
	timeout: 4 * time.Minute,
	run:     runStreamsEOS,
}

const (
	eosInputs = 6000
	eosWords  = 20
	eosChunk  = 100
)

// runStreamsEOS: the oracle writes a third of the input, the application
// starts, and once it is counting the rest is written in small chunks. When
// half the counts are visible read_committed, the application is killed
// with SIGKILL (its open transaction left behind), then started again on
// the same state directory. Once every word's count is final, the output
// read_committed must hold, for each word, the counts 1, 2, ... n in order:
// a repeat means an input was counted twice, a gap that one was lost.
func runStreamsEOS(ctx context.Context, k *checkCell) error {
	in, out := k.prefix+"-in", k.prefix+"-out"
	for _, t := range []string{in, out} {
		if err := k.d.oracle.createTopic(ctx, t, 3, k.d.rf, nil); err != nil {
			return err
		}
	}
	inputs, want := eosInput()
	if _, err := k.d.oracle.produce(ctx, in, inputs[:eosInputs/3]); err != nil {
		return err
	}
	tail, err := newCountTail(k.d.seeds, out)
	if err != nil {
		return err
	}
	defer tail.close()
	go tail.run(ctx)

	app := &streamsApp{k: k, in: in, out: out, state: filepath.Join(k.dir, "state")}
	tail.app = app
	if err := app.start(ctx, 1); err != nil {
		return err
	}
	defer app.stop()
	if err := tail.waitFor(ctx, eosInputs/6, 90*time.Second); err != nil {
		return fmt.Errorf("first run: %w", err)
	}
	produced := make(chan error, 1)
	var sent atomicCount
	go func() { produced <- produceChunks(ctx, k, in, inputs[eosInputs/3:], &sent) }()
	if err := killMidTransaction(ctx, k, app, tail, &sent); err != nil {
		return err
	}
	if err := <-produced; err != nil {
		return err
	}
	if err := tail.waitFinal(ctx, want, 120*time.Second); err != nil {
		return fmt.Errorf("after the restart: %w", err)
	}
	if err := tail.exactlyOnce(want); err != nil {
		return err
	}
	// What the killed run had written in its open transactions is in the
	// log, aborted; read_uncommitted readers see it.
	all, err := countRecords(ctx, k.d.seeds, out, false)
	if err != nil {
		return err
	}
	k.logf("the output holds %d records read_uncommitted, %d read_committed", all, tail.updates())
	if all <= tail.updates() {
		return fmt.Errorf("the output holds %d records read_uncommitted, no more than read_committed: the killed transaction's records are gone, not aborted", all)
	}
	return checkInternalTopics(ctx, k)
}

// killMidTransaction kills the application with SIGKILL once half the
// counts are visible, at a moment its output has records of an open
// transaction, and starts it again. Should the transaction have committed
// just before the kill, it tries again, at most three times.
func killMidTransaction(ctx context.Context, k *checkCell, app *streamsApp, tail *countTail, sent *atomicCount) error {
	target := eosInputs / 2
	for run := 1; ; run++ {
		if err := tail.waitFor(ctx, target, 60*time.Second); err != nil {
			return fmt.Errorf("run %d: %w", run, err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for !openTxn(ctx, k, app.out) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		app.kill()
		seen, open := tail.updates(), openTxn(ctx, k, app.out)
		k.logf("run %d: killed the application with SIGKILL after %d counts were visible read_committed, %d of %d inputs written; open transaction on the output: %v",
			run, seen, eosInputs/3+sent.get(), eosInputs, open)
		if seen >= eosInputs {
			return fmt.Errorf("the application had counted all %d inputs before the kill: it was not killed mid-stream", eosInputs)
		}
		if err := app.start(ctx, run+1); err != nil {
			return err
		}
		if open {
			return nil
		}
		if run == 3 {
			return errors.New("three kills left no open transaction on the output: the application commits far more often than configured")
		}
		target = seen + eosInputs/20
	}
}

// openTxn reports whether a partition of topic has records past its last
// stable offset: written in a transaction that is still open.
func openTxn(ctx context.Context, k *checkCell, topic string) bool {
	ends, err := k.d.oracle.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return false
	}
	stable, err := k.d.oracle.adm.ListCommittedOffsets(ctx, topic)
	if err != nil {
		return false
	}
	open := false
	ends.Each(func(e kadm.ListedOffset) {
		if s, ok := stable.Lookup(topic, e.Partition); ok && e.Err == nil && s.Err == nil && e.Offset > s.Offset {
			open = true
		}
	})
	return open
}

// eosInput is the input: record i has key "i-<i>" and a word for its value,
// spread over the input's three partitions; want counts each word.
func eosInput() ([]spec.Record, map[string]int64) {
	recs := make([]spec.Record, eosInputs)
	want := map[string]int64{}
	for i := range recs {
		word := fmt.Sprintf("w%02d", (i*7+i/eosWords)%eosWords)
		recs[i] = spec.Record{Partition: int32(i % 3), Key: fmt.Appendf(nil, "i-%05d", i), Value: []byte(word)}
		want[word]++
	}
	return recs, want
}

// produceChunks writes recs a chunk at a time, so the application is busy
// throughout the kill and the restart.
func produceChunks(ctx context.Context, k *checkCell, topic string, recs []spec.Record, sent *atomicCount) error {
	for len(recs) > 0 {
		n := min(eosChunk, len(recs))
		if _, err := k.d.oracle.produce(ctx, topic, recs[:n]); err != nil {
			return err
		}
		sent.add(n)
		recs = recs[n:]
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// countRecords counts a topic's records, read_committed or not, reading
// until nothing more comes for a second.
func countRecords(ctx context.Context, seeds []string, topic string, committed bool) (int, error) {
	isolation := kgo.ReadUncommitted()
	if committed {
		isolation = kgo.ReadCommitted()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(isolation),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	n := 0
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		got := 0
		fs.EachRecord(func(*kgo.Record) { got++ })
		if got == 0 {
			return n, nil
		}
		n += got
	}
}

// checkInternalTopics: the aggregation went through a repartition topic
// and kept its state in a changelog topic, both created by the application.
func checkInternalTopics(ctx context.Context, k *checkCell) error {
	app := k.prefix + "-app"
	for _, t := range []string{app + "-by-word-repartition", app + "-counts-changelog"} {
		exists, _, err := k.d.oracle.topic(ctx, t)
		if err != nil {
			return fmt.Errorf("oracle: %w", err)
		}
		if !exists {
			return fmt.Errorf("the application's internal topic %s does not exist", t)
		}
	}
	return nil
}

// streamsApp is the Kafka Streams application's process.
type streamsApp struct {
	k              *checkCell
	in, out, state string
	mu             sync.Mutex
	cmd            *exec.Cmd
	exited         chan struct{}
	stdout         *lineBuffer
}

func (a *streamsApp) start(ctx context.Context, run int) error {
	argv, err := javaCommand(a.k.b, "spool.clients.StreamsEos")
	if err != nil {
		return err
	}
	argv = append(argv, "--bootstrap", strings.Join(a.k.d.seeds, ","), "--app-id", a.k.prefix+"-app",
		"--input", a.in, "--output", a.out, "--state-dir", a.state, "--rf", fmt.Sprint(a.k.d.rf))
	logf, err := os.Create(filepath.Join(a.k.dir, fmt.Sprintf("streams-%d.log", run)))
	if err != nil {
		return err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	a.stdout = &lineBuffer{}
	cmd.Stdout, cmd.Stderr = a.stdout, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start the Streams application: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(exited)
	}()
	a.mu.Lock()
	a.cmd, a.exited = cmd, exited
	a.mu.Unlock()
	a.k.logf("run %d: started the Streams application (pid %d), log %s", run, cmd.Process.Pid, logf.Name())
	return nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (a *streamsApp) kill() {
	a.mu.Lock()
	cmd, exited := a.cmd, a.exited
	a.mu.Unlock()
	cmd.Process.Kill()
	<-exited
}

// stop closes the application with SIGTERM, then SIGKILL if it hangs.
func (a *streamsApp) stop() {
	a.mu.Lock()
	cmd, exited := a.cmd, a.exited
	a.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-exited
	}
	if s := a.stdout.String(); s != "" {
		a.k.logf("application output: %s", s)
	}
}

// failed reports the application's own reason when it has exited.
func (a *streamsApp) failed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	select {
	case <-a.exited:
		return fmt.Errorf("the Streams application exited: %s", lastLine(a.stdout.String()))
	default:
		return nil
	}
}

// countTail reads the output read_committed as it grows: each record is a
// word and its new count.
type countTail struct {
	cl     *kgo.Client
	mu     sync.Mutex
	counts map[string][]int64 // every count seen per word, in offset order
	n      int
	err    error
	// app, when set, is the application whose exit ends a wait early.
	app *streamsApp
}

func newCountTail(seeds []string, topic string) (*countTail, error) {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(seeds...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxWait(200*time.Millisecond),
	)
	if err != nil {
		return nil, err
	}
	return &countTail{cl: cl, counts: map[string][]int64{}}, nil
}

func (t *countTail) close() { t.cl.Close() }

func (t *countTail) run(ctx context.Context) {
	for ctx.Err() == nil {
		fs := t.cl.PollFetches(ctx)
		if fs.IsClientClosed() {
			return
		}
		t.mu.Lock()
		fs.EachError(func(_ string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && t.err == nil {
				t.err = fmt.Errorf("read the output, partition %d: %w", p, err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			v := int64(-1)
			if len(r.Value) == 8 {
				v = int64(binary.BigEndian.Uint64(r.Value))
			}
			t.counts[string(r.Key)] = append(t.counts[string(r.Key)], v)
			t.n++
		})
		t.mu.Unlock()
	}
}

func (t *countTail) updates() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// waitFor waits until n counts are visible.
func (t *countTail) waitFor(ctx context.Context, n int, limit time.Duration) error {
	return t.wait(ctx, limit, func() bool { return t.n >= n }, func() string {
		return fmt.Sprintf("%d counts visible read_committed, waiting for %d", t.n, n)
	})
}

// waitFinal waits until every word's latest count is its final one.
func (t *countTail) waitFinal(ctx context.Context, want map[string]int64, limit time.Duration) error {
	done := func() bool {
		for w, n := range want {
			c := t.counts[w]
			if len(c) == 0 || c[len(c)-1] < n {
				return false
			}
		}
		return true
	}
	return t.wait(ctx, limit, done, func() string {
		return fmt.Sprintf("not every count is final: %d of %d updates visible read_committed", t.n, eosInputs)
	})
}

func (t *countTail) wait(ctx context.Context, limit time.Duration, done func() bool, why func() string) error {
	deadline := time.Now().Add(limit)
	for {
		t.mu.Lock()
		ok, err, msg := done(), t.err, why()
		t.mu.Unlock()
		if ok {
			return nil
		}
		if err != nil {
			return err
		}
		if t.app != nil {
			if err := t.app.failed(); err != nil {
				return err
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("after %v: %s", limit, msg)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// exactlyOnce: each word's counts are 1..n in order, nothing more.
func (t *countTail) exactlyOnce(want map[string]int64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for w, n := range want {
		c := t.counts[w]
		for i, v := range c {
			if v != int64(i+1) {
				return fmt.Errorf("word %s: update %d is count %d, want %d (counts %s): an input was %s", w, i+1, v, i+1, around(c, i), map[bool]string{true: "counted twice", false: "lost"}[v <= int64(i)])
			}
		}
		if int64(len(c)) != n {
			return fmt.Errorf("word %s: %d updates read_committed, want %d", w, len(c), n)
		}
	}
	for w := range t.counts {
		if _, ok := want[w]; !ok {
			return fmt.Errorf("the output has a count for %q, which is no input word", w)
		}
	}
	return nil
}

func around(c []int64, i int) string {
	lo, hi := max(0, i-3), min(len(c), i+4)
	return fmt.Sprint(c[lo:hi])
}

type atomicCount struct {
	mu sync.Mutex
	n  int
}

func (c *atomicCount) add(n int) { c.mu.Lock(); c.n += n; c.mu.Unlock() }
func (c *atomicCount) get() int  { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// lineBuffer collects a process's stdout safely while it runs.
type lineBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lineBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lineBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
