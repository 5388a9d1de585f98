package clients_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"spool/test/clients/internal/spec"
)

// scenario is one column of the matrix.
type scenario struct {
	name string
	// issues are the open issues the scenario's broker features belong to;
	// while one of them is listed in pending.txt a failure reads pending.
	issues []int
	// singleOnly scenarios need a second deployment with other broker
	// settings and run against the single node only.
	singleOnly bool
	// securedOnly scenarios are the negative cells of the secured
	// deployment.
	securedOnly bool
	// grants are the ACLs the scenario's principal needs on a cell's
	// resources, on the secured deployment.
	grants func(names) []grant
	run    func(ctx context.Context, c *cell) error
}

// Issues whose features the scenarios depend on.
const (
	issueDataPath = 3 // Produce, the idempotent producer
	issueGroups   = 4
	issueCluster  = 6
	issueTxn      = 10
	issueKIP848   = 23 // the consumer group protocol (group.protocol=consumer)
	issueSecurity = 17 // TLS and SASL
	issueACLs     = 18 // authorization
)

// maxMessageBytes makes room on the topic for the 1 MiB records and their
// batch framing.
const maxMessageBytes = "3145728"

var scenarios = []*scenario{
	{name: "admin", grants: grantAdmin, run: runAdmin},
	{name: "produce", issues: []int{issueDataPath}, grants: grantProduce, run: produceCell("none", false)},
	{name: "gzip", issues: []int{issueDataPath}, grants: grantProduce, run: produceCell("gzip", false)},
	{name: "snappy", issues: []int{issueDataPath}, grants: grantProduce, run: produceCell("snappy", false)},
	{name: "lz4", issues: []int{issueDataPath}, grants: grantProduce, run: produceCell("lz4", false)},
	{name: "zstd", issues: []int{issueDataPath}, grants: grantProduce, run: produceCell("zstd", false)},
	{name: "idempotent", issues: []int{issueDataPath}, grants: grantProduce, run: produceCell("none", true)},
	{name: "transactions", issues: []int{issueDataPath, issueTxn}, grants: grantTxn, run: runTransactions},
	{name: "txn-offsets", issues: []int{issueDataPath, issueGroups, issueTxn}, grants: grantTxnOffsets, run: runTxnOffsets},
	{name: "group", issues: []int{issueDataPath, issueGroups}, grants: grantGroup, run: runGroup},
	{name: "group-kip848", issues: []int{issueDataPath, issueGroups, issueKIP848}, grants: grantGroup, run: runGroupKIP848},
	{name: "commit-resume", issues: []int{issueDataPath, issueGroups}, grants: grantGroup, run: runResume},
	{name: "offsets-by-time", issues: []int{issueDataPath}, grants: grantProduce, run: runOffsets},
	{name: "autocreate-on", run: autocreate(true)},
	{name: "autocreate-off", singleOnly: true, run: autocreate(false)},
	{name: refusedPassword, securedOnly: true, run: refused(refusedPassword)},
	{name: refusedCA, securedOnly: true, run: refused(refusedCA)},
	{name: refusedPlaintext, securedOnly: true, run: refused(refusedPlaintext)},
}

// cell is one client running one scenario against one deployment.
type cell struct {
	d     *deployment
	c     *client
	s     *scenario
	argv  []string
	dir   string
	topic string
	group string
	log   strings.Builder // runner stderr, shown when the cell fails
}

// runner runs the client's runner to completion. A runner prints one line
// saying why when it fails; that line is the cell's reason.
func (c *cell) runner(ctx context.Context, seeds []string, timeout time.Duration, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout+15*time.Second)
	defer cancel()
	argv := append(append([]string{}, c.argv...),
		"--bootstrap", strings.Join(seeds, ","), "--topic", c.topic,
		"--timeout", strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64))
	argv = append(argv, args...)
	argv = append(argv, c.securityArgs()...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = 5 * time.Second
	// Keep the Python runners from writing __pycache__ into the tree.
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	fmt.Fprintf(&c.log, "$ %s\n%s%s", strings.Join(argv[len(c.argv):], " "), stdout.String(), tail(stderr.String(), 4000))
	if ctx.Err() != nil {
		return fmt.Errorf("runner did not finish within %v", timeout+15*time.Second)
	}
	if err != nil {
		if line := lastLine(stdout.String()); line != "" {
			return errors.New(line)
		}
		if line := lastLine(stderr.String()); line != "" {
			return fmt.Errorf("%v: %s", err, line)
		}
		return err
	}
	return nil
}

func (c *cell) path(name string) string { return filepath.Join(c.dir, name) }

func runAdmin(ctx context.Context, c *cell) error {
	if err := c.runner(ctx, c.d.seeds, 30*time.Second, "--scenario", "admin", "--partitions", "3", "--rf", strconv.Itoa(c.d.rf)); err != nil {
		return err
	}
	// Brokers apply metadata independently, as in Kafka: the broker the
	// oracle asks may learn of the deletion a moment after the one the
	// client asked.
	deadline := time.Now().Add(15 * time.Second)
	for {
		exists, _, err := c.d.oracle.topic(ctx, c.topic)
		if err != nil {
			return fmt.Errorf("oracle: %w", err)
		}
		if !exists {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("oracle still sees the topic 15s after the client deleted it")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var codecIDs = map[string]uint8{"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}

// produceCell: the client produces, reads its records back without a
// group, and the oracle reads them too and checks how they were stored.
func produceCell(codec string, idempotent bool) func(context.Context, *cell) error {
	return func(ctx context.Context, c *cell) error {
		want := basicRecords()
		if codec != "none" {
			want = compressibleRecords()
		}
		if err := c.d.oracle.createTopic(ctx, c.topic, 3, c.d.rf, map[string]string{"max.message.bytes": maxMessageBytes}); err != nil {
			return err
		}
		if err := writeLines(c.path("in.jsonl"), want); err != nil {
			return err
		}
		args := []string{"--scenario", "produce", "--in", c.path("in.jsonl"), "--out", c.path("out.jsonl"), "--codec", codec}
		if idempotent {
			args = append(args, "--idempotent")
		}
		runErr := c.runner(ctx, c.d.seeds, 40*time.Second, args...)
		octx, cancel := afterRun(ctx, runErr)
		defer cancel()
		st, err := c.d.oracle.read(octx, c.topic)
		if err == nil {
			err = checkStored(want, st, codec, idempotent)
		}
		switch {
		case runErr != nil && err != nil:
			return fmt.Errorf("%w (%v)", runErr, err)
		case runErr != nil:
			// Everything arrived intact, so the client failed reading back.
			return readBackError{runErr}
		case err != nil:
			return err
		}
		got, err := readRecords(c.path("out.jsonl"))
		if err != nil {
			return err
		}
		if err := c.sameRead(want, got); err != nil {
			return fmt.Errorf("client read back: %w", err)
		}
		return nil
	}
}

// afterRun is the context for the oracle's check after a runner: short when
// the runner failed, since whatever it did produce is there by now.
func afterRun(ctx context.Context, runErr error) (context.Context, context.CancelFunc) {
	if runErr != nil {
		return context.WithTimeout(ctx, 3*time.Second)
	}
	return context.WithCancel(ctx)
}

// readBackError: the client produced correctly and failed reading its
// records back.
type readBackError struct{ error }

func (e readBackError) Unwrap() error { return e.error }

// checkStored holds what the oracle read to what was produced, and checks
// how the batches were stored.
func checkStored(want []spec.Record, st []stored, codec string, idempotent bool) error {
	if err := sameRecords(want, plain(st)); err != nil {
		return fmt.Errorf("oracle read: %w", err)
	}
	for _, s := range st {
		// Producers may leave a batch uncompressed when compressing
		// would not shrink it, so only sizeable values must be compressed.
		if s.codec != codecIDs[codec] && (s.codec != 0 || len(s.Value) >= 1024) {
			return fmt.Errorf("oracle: partition %d offset %d stored with codec %d, want %d (%s)", s.Partition, s.Offset, s.codec, codecIDs[codec], codec)
		}
		if idempotent && s.producerID < 0 {
			return fmt.Errorf("oracle: partition %d offset %d has no producer id: not produced idempotently", s.Partition, s.Offset)
		}
	}
	return nil
}

// runTransactions: the client produces the records in a transaction it
// aborts, then in one it commits. read_committed readers see the committed
// copy only; the log holds both, every record transactional.
func runTransactions(ctx context.Context, c *cell) error {
	var want []spec.Record
	for _, r := range basicRecords() {
		if len(r.Value) < 1024 {
			want = append(want, r)
		}
	}
	if err := c.d.oracle.createTopic(ctx, c.topic, 3, c.d.rf, nil); err != nil {
		return err
	}
	if err := writeLines(c.path("in.jsonl"), want); err != nil {
		return err
	}
	runErr := c.runner(ctx, c.d.seeds, 40*time.Second, "--scenario", "produce", "--in", c.path("in.jsonl"), "--out", c.path("out.jsonl"), "--transactional")
	octx, cancel := afterRun(ctx, runErr)
	defer cancel()
	err := checkTransactions(octx, c.d.oracle, c.topic, want)
	switch {
	case runErr != nil && err != nil:
		return fmt.Errorf("%w (%v)", runErr, err)
	case runErr != nil:
		return readBackError{runErr}
	case err != nil:
		return err
	}
	got, err := readRecords(c.path("out.jsonl"))
	if err != nil {
		return err
	}
	if err := c.sameRead(want, got); err != nil {
		return fmt.Errorf("client read back (read_committed): %w", err)
	}
	return nil
}

func checkTransactions(ctx context.Context, o *oracle, topic string, want []spec.Record) error {
	per := spec.PerPartition(want)
	committed, err := o.readCount(ctx, topic, per, true)
	if err != nil {
		return err
	}
	if err := sameRecords(want, plain(committed)); err != nil {
		return fmt.Errorf("oracle read_committed: %w", err)
	}
	twice := map[int32]int{}
	for p, n := range per {
		twice[p] = 2 * n
	}
	all, err := o.readCount(ctx, topic, twice, false)
	if err != nil {
		return fmt.Errorf("%w (the aborted transaction's records should be in the log)", err)
	}
	if err := sameRecords(slices.Concat(want, want), plain(all)); err != nil {
		return fmt.Errorf("oracle read_uncommitted, aborted then committed copy: %w", err)
	}
	for _, s := range all {
		if !s.transactional {
			return fmt.Errorf("oracle: partition %d offset %d is not in a transactional batch", s.Partition, s.Offset)
		}
	}
	return nil
}

// runGroup: the oracle produces, the client consumes everything from the
// earliest offset in a group and commits.
func runGroup(ctx context.Context, c *cell) error { return consumeAll(ctx, c) }

// consumeAll is the group scenario, with extra runner arguments.
func consumeAll(ctx context.Context, c *cell, extra ...string) error {
	want, err := c.setupConsume(ctx, basicRecords())
	if err != nil {
		return err
	}
	got, err := c.consume(ctx, len(want), extra...)
	if err != nil {
		return err
	}
	if err := c.sameRead(want, got); err != nil {
		return err
	}
	if err := sameOffsets(want, got); err != nil {
		return err
	}
	return c.checkCommitted(ctx, got)
}

// runResume: one consumer process commits after part of the records, a new
// process in the same group must resume exactly after that commit.
func runResume(ctx context.Context, c *cell) error {
	want, err := c.setupConsume(ctx, resumeRecords())
	if err != nil {
		return err
	}
	const first = 7
	got1, err := c.consume(ctx, first)
	if err != nil {
		return fmt.Errorf("first consumer: %w", err)
	}
	if err := c.checkCommitted(ctx, got1); err != nil {
		return fmt.Errorf("after the first consumer: %w", err)
	}
	w := byPartition(want)
	g1 := byPartition(got1)
	for p, recs := range g1 {
		if err := c.sameRead(w[p][:min(len(recs), len(w[p]))], recs); err != nil {
			return fmt.Errorf("first consumer did not read from the start: %w", err)
		}
	}
	got2, err := c.consume(ctx, len(want)-first)
	if err != nil {
		return fmt.Errorf("second consumer: %w", err)
	}
	var rest []spec.Record
	for p, recs := range w {
		rest = append(rest, recs[len(g1[p]):]...)
	}
	if err := c.sameRead(rest, got2); err != nil {
		return fmt.Errorf("second consumer did not resume after the commit: %w", err)
	}
	return sameOffsets(rest, got2)
}

func (c *cell) setupConsume(ctx context.Context, recs []spec.Record) ([]spec.Record, error) {
	if err := c.d.oracle.createTopic(ctx, c.topic, 3, c.d.rf, map[string]string{"max.message.bytes": maxMessageBytes}); err != nil {
		return nil, err
	}
	return c.d.oracle.produce(ctx, c.topic, recs)
}

func (c *cell) consume(ctx context.Context, n int, extra ...string) ([]spec.Record, error) {
	out := c.path(fmt.Sprintf("group-%d.jsonl", time.Now().UnixNano()))
	args := append([]string{"--scenario", "group", "--group", c.group, "--count", strconv.Itoa(n), "--out", out}, extra...)
	if err := c.runner(ctx, c.d.seeds, 30*time.Second, args...); err != nil {
		return nil, err
	}
	return readRecords(out)
}

// checkCommitted: the group's committed offset of every partition the
// consumer read is one past the last record it read.
func (c *cell) checkCommitted(ctx context.Context, got []spec.Record) error {
	committed, err := c.d.oracle.committed(ctx, c.group, c.topic)
	if err != nil {
		return err
	}
	next := map[int32]int64{}
	for _, r := range got {
		next[r.Partition] = max(next[r.Partition], r.Offset+1)
	}
	for p, want := range next {
		if have, ok := committed[p]; !ok || have != want {
			return fmt.Errorf("committed offsets %v, want %v", committed, next)
		}
	}
	return nil
}

// sameRead compares what the client read with what was produced.
func (c *cell) sameRead(want, got []spec.Record) error {
	if c.c.nullReadsEmpty {
		want, got = emptyAsNull(want), emptyAsNull(got)
	}
	return sameRecords(want, got)
}

func emptyAsNull(recs []spec.Record) []spec.Record {
	out := slices.Clone(recs)
	for i := range out {
		if len(out[i].Key) == 0 {
			out[i].Key = nil
		}
		if len(out[i].Value) == 0 {
			out[i].Value = nil
		}
	}
	return out
}

func sameOffsets(want, got []spec.Record) error {
	w, g := byPartition(want), byPartition(got)
	for p := range w {
		for i := range min(len(w[p]), len(g[p])) {
			if w[p][i].Offset != g[p][i].Offset {
				return fmt.Errorf("partition %d record %d has offset %d, want %d", p, i, g[p][i].Offset, w[p][i].Offset)
			}
		}
	}
	return nil
}

// runOffsets: timestamps before, inside and after one batch of records one
// second apart.
func runOffsets(ctx context.Context, c *cell) error {
	if err := c.d.oracle.createTopic(ctx, c.topic, 1, c.d.rf, nil); err != nil {
		return err
	}
	t0 := time.Now().Add(-10*time.Minute).UnixMilli() / 1000 * 1000
	if _, err := c.d.oracle.produce(ctx, c.topic, timedRecords(t0)); err != nil {
		return err
	}
	queries := []int64{t0 - 5000, t0, t0 + 2500, t0 + 9000, t0 + 60000}
	wants := []int64{0, 0, 3, 9, -1}
	var ts []string
	for _, q := range queries {
		ts = append(ts, strconv.FormatInt(q, 10))
	}
	out := c.path("offsets.jsonl")
	if err := c.runner(ctx, c.d.seeds, 30*time.Second, "--scenario", "offsets", "--timestamps", strings.Join(ts, ","), "--out", out); err != nil {
		return err
	}
	got, err := readLines[spec.TimeOffset](out)
	if err != nil {
		return err
	}
	if len(got) != len(queries) {
		return fmt.Errorf("%d answers for %d timestamps", len(got), len(queries))
	}
	for i, g := range got {
		want := wants[i]
		// Past the last record Kafka answers -1; some clients turn that
		// into the end offset.
		if g.Offset != want && !(want == -1 && g.Offset == 10) {
			return fmt.Errorf("offset for timestamp t0%+d ms is %d, want %d", queries[i]-t0, g.Offset, want)
		}
	}
	return nil
}

// autocreate: the client asks for a missing topic the way its producer
// does; the topic appears only where auto.create.topics.enable is on.
func autocreate(enabled bool) func(context.Context, *cell) error {
	return func(ctx context.Context, c *cell) error {
		seeds, o, timeout := c.d.seeds, c.d.oracle, 30*time.Second
		if !enabled {
			seeds, o, timeout = c.d.offSeeds, c.d.offOracle, 5*time.Second
		}
		out := c.path("metadata.jsonl")
		if err := c.runner(ctx, seeds, timeout, "--scenario", "metadata", "--out", out); err != nil {
			return err
		}
		got, err := readLines[spec.Metadata](out)
		if err != nil {
			return err
		}
		if len(got) != 1 {
			return fmt.Errorf("runner wrote %d metadata answers, want 1", len(got))
		}
		exists, parts, err := o.topicSettled(ctx, c.topic, 5*time.Second)
		if err != nil {
			return fmt.Errorf("oracle: %w", err)
		}
		md := got[0]
		switch {
		case enabled && !md.Found:
			return fmt.Errorf("topic was not created: %s", md.Error)
		case enabled && (!exists || parts != 1):
			return fmt.Errorf("oracle sees exists=%v with %d partitions, want 1 (num.partitions)", exists, parts)
		case !enabled && md.Found:
			return errors.New("client found a topic that should not exist")
		case !enabled && exists:
			return errors.New("topic was created with auto.create.topics.enable=false")
		}
		return nil
	}
}

func readRecords(path string) ([]spec.Record, error) { return readLines[spec.Record](path) }

func readLines[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("runner output: %w", err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("runner output %s: %w", filepath.Base(path), err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

func writeLines[T any](path string, vs []T) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, v := range vs {
		if err := enc.Encode(v); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
