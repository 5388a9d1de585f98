package clients_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

var toolDumpLog = &check{
	name:    "kafka-dump-log",
	family:  "Kafka tools",
	what:    "reads a closed segment of Spool's files: the .log (batches valid, records and transaction markers where written), the .index and .timeindex (entries that match the log) and the .txnindex (the aborted transaction)",
	timeout: 3 * time.Minute,
	run:     runToolDumpLog,
}

// runToolDumpLog writes an aborted and a committed transaction, then
// enough to roll the first 1 MiB segment, and reads that segment's files.
func runToolDumpLog(ctx context.Context, k *checkCell) error {
	t := k.prefix
	if err := k.d.oracle.createTopic(ctx, t, 1, k.d.rf, map[string]string{"segment.bytes": "1048576"}); err != nil {
		return err
	}
	if err := writeTransactions(ctx, k, t); err != nil {
		return err
	}
	// In requests of 100 records, so that no batch exceeds the topic's
	// largest.
	recs := sizedRecords(1200, 1000)
	for i := 0; i < len(recs); i += 100 {
		if _, err := k.d.oracle.produce(ctx, t, recs[i:i+100]); err != nil {
			return err
		}
	}
	ids := make([]int, 0, len(k.d.dirs))
	for id := range k.d.dirs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	dir := filepath.Join(k.d.dirs[ids[0]], t+"-0")
	var next string
	if err := eventually(ctx, 15*time.Second, func() error {
		logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		slices.Sort(logs)
		if len(logs) < 2 {
			return fmt.Errorf("%s has %d segments, want the first one rolled", dir, len(logs))
		}
		next = strings.TrimSuffix(filepath.Base(logs[1]), ".log")
		return nil
	}); err != nil {
		return err
	}
	end, _ := strconv.ParseInt(next, 10, 64)
	seg := filepath.Join(dir, "00000000000000000000")
	if err := dumpSegment(ctx, k, seg+".log", end); err != nil {
		return err
	}
	out, problems, err := k.toolStreams(ctx, "", "kafka-dump-log", "--files", seg+".index")
	if err != nil {
		return err
	}
	if err := cleanIndexDump("the .index", out, problems, `(?m)^offset: \d+ position: \d+$`); err != nil {
		return err
	}
	if out, problems, err = k.toolStreams(ctx, "", "kafka-dump-log", "--files", seg+".timeindex"); err != nil {
		return err
	}
	if err := cleanIndexDump("the .timeindex", out, problems, `(?m)^timestamp: \d+ offset: \d+$`); err != nil {
		return err
	}
	if out, err = k.tool(ctx, "", "kafka-dump-log", "--files", seg+".txnindex"); err != nil {
		return err
	}
	return expect("the .txnindex", out, `(?m)^version: 0 producerId: \d+ firstOffset: 0 lastOffset: 5 lastStableOffset: \d+$`)
}

// writeTransactions writes five records in a transaction it aborts
// (offsets 0-4, the marker at 5), then five in one it commits (6-10, 11).
func writeTransactions(ctx context.Context, k *checkCell, topic string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.d.seeds...), kgo.TransactionalID(topic+"-tx"), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return err
	}
	defer cl.Close()
	for _, commit := range []bool{false, true} {
		if err := cl.BeginTransaction(); err != nil {
			return err
		}
		var recs []*kgo.Record
		for i := range 5 {
			recs = append(recs, &kgo.Record{Partition: 0, Key: fmt.Appendf(nil, "tx-%v-%d", commit, i), Value: []byte("in-a-transaction")})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			return err
		}
		if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			return err
		}
	}
	return nil
}

var (
	dumpBatchRE  = regexp.MustCompile(`(?m)^baseOffset: (\d+) lastOffset: (\d+) count: (\d+) .*isTransactional: (\w+) isControl: (\w+) .* isvalid: (\w+)$`)
	dumpRecordRE = regexp.MustCompile(`(?m)^\| offset: (\d+) .*?(?: key: (\S+))?(?: payload: (\S*)| endTxnMarker: (\w+) coordinatorEpoch: \d+)$`)
)

// dumpSegment checks the deep dump of a segment holding offsets [0, end):
// every batch valid, the records contiguous, the first ten transactional
// with the abort marker at 5 and the commit marker at 11.
func dumpSegment(ctx context.Context, k *checkCell, path string, end int64) error {
	out, err := k.tool(ctx, "", "kafka-dump-log", "--files", path, "--deep-iteration", "--print-data-log")
	if err != nil {
		return err
	}
	batches := dumpBatchRE.FindAllStringSubmatch(out, -1)
	if len(batches) == 0 {
		return fmt.Errorf("kafka-dump-log found no batches in %s:\n%s", filepath.Base(path), tail(out, 600))
	}
	for _, b := range batches {
		if b[6] != "true" {
			return fmt.Errorf("kafka-dump-log: batch at %s is not valid: %s", b[1], b[0])
		}
	}
	markers := map[int64]string{}
	next := int64(0)
	for _, r := range dumpRecordRE.FindAllStringSubmatch(out, -1) {
		off, _ := strconv.ParseInt(r[1], 10, 64)
		if off != next {
			return fmt.Errorf("kafka-dump-log: record at offset %d follows %d", off, next-1)
		}
		next++
		if r[4] != "" {
			markers[off] = r[4]
		} else if off < 11 && !strings.HasPrefix(r[2], "tx-") {
			return fmt.Errorf("kafka-dump-log: record at offset %d has key %q, want a transaction's", off, r[2])
		}
	}
	if next != end {
		return fmt.Errorf("kafka-dump-log read offsets 0..%d of a segment that ends before %d", next-1, end)
	}
	if markers[5] != "ABORT" || markers[11] != "COMMIT" || len(markers) != 2 {
		return fmt.Errorf("kafka-dump-log: transaction markers %v, want ABORT at 5 and COMMIT at 11", markers)
	}
	return nil
}

// cleanIndexDump: the dump has entries, and DumpLogSegments, which checks
// every entry against the log and reports on stderr, found no problem.
func cleanIndexDump(what, out, problems, entry string) error {
	if len(regexp.MustCompile(entry).FindAllString(out, -1)) == 0 {
		return fmt.Errorf("kafka-dump-log: %s has no entries:\n%s", what, tail(out, 600))
	}
	for _, line := range strings.Split(problems, "\n") {
		// Lines of the tool's own log start with "[time]"; the rest is
		// what the checks found.
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "[") {
			return fmt.Errorf("kafka-dump-log: %s disagrees with the log: %s", what, line)
		}
	}
	return nil
}

var toolLeaderElection = &check{
	name:    "kafka-leader-election",
	family:  "Kafka tools",
	what:    "preferred election: a no-op where the preferred leaders lead; on three brokers of its own, after a broker restarts, it moves leadership back to the preferred replicas",
	timeout: 3 * time.Minute,
	run:     runToolLeaderElection,
}

func runToolLeaderElection(ctx context.Context, k *checkCell) error {
	t := k.prefix
	if k.d.rf == 1 {
		if err := k.d.oracle.createTopic(ctx, t, 1, 1, nil); err != nil {
			return err
		}
		out, err := k.tool(ctx, "", "kafka-leader-election", "--bootstrap-server", k.bootstrap(), "--election-type", "preferred", "--topic", t, "--partition", "0")
		if err != nil {
			return err
		}
		return expect("a preferred election where the preferred replica leads", out, `Valid replica already elected for partitions `+t+`-0`)
	}
	return electOnOwnCluster(ctx, k, t)
}

// electOnOwnCluster stops the preferred leader of a partition on a cluster
// of its own (stopping one of the shared cluster's brokers would disturb
// the other cells), starts it again, and has kafka-leader-election give
// every partition back to its preferred replica.
func electOnOwnCluster(ctx context.Context, k *checkCell, t string) error {
	s := &softTB{TB: k.t}
	var c *harness.Cluster
	if err := guard(s, func() {
		c = harness.NewCluster(s, []string{"broker,controller", "broker,controller", "broker,controller"}, nodeProps)
		c.Start()
	}); err != nil {
		return err
	}
	defer func() {
		for _, n := range c.Nodes {
			n.Kill()
		}
	}()
	o, err := newOracle(c.BootstrapAddrs())
	if err != nil {
		return err
	}
	defer o.close()
	if err := o.createTopic(ctx, t, 3, 3, nil); err != nil {
		return err
	}
	preferred, err := preferredLeaders(ctx, o, t, nil)
	if err != nil {
		return err
	}
	victim := c.Nodes[preferred[0]-1]
	var stopErr error
	if err := errors.Join(guard(s, func() { stopErr = victim.Stop() }), stopErr); err != nil {
		return fmt.Errorf("stop broker %d: %w", victim.ID, err)
	}
	if err := eventually(ctx, 30*time.Second, func() error {
		_, err := preferredLeaders(ctx, o, t, func(p int32, leader, pref int32, isr int) error {
			if p == 0 && leader == pref {
				return fmt.Errorf("broker %d still leads partition 0 after it stopped", pref)
			}
			return nil
		})
		return err
	}); err != nil {
		return err
	}
	if err := guard(s, victim.Start); err != nil {
		return err
	}
	if err := eventually(ctx, 60*time.Second, func() error {
		_, err := preferredLeaders(ctx, o, t, func(p int32, leader, pref int32, isr int) error {
			if isr != 3 {
				return fmt.Errorf("partition %d has %d replicas in sync, want 3 after broker %d restarted", p, isr, pref)
			}
			return nil
		})
		return err
	}); err != nil {
		return err
	}
	out, err := k.tool(ctx, "", "kafka-leader-election", "--bootstrap-server", strings.Join(c.BootstrapAddrs(), ","),
		"--election-type", "preferred", "--all-topic-partitions")
	if err != nil {
		return err
	}
	if err := expect("kafka-leader-election", out, `Successfully completed leader election \(PREFERRED\) for partitions .*`+t+`-0`); err != nil {
		return err
	}
	return eventually(ctx, 15*time.Second, func() error {
		_, err := preferredLeaders(ctx, o, t, func(p int32, leader, pref int32, isr int) error {
			if leader != pref {
				return fmt.Errorf("after the election broker %d leads partition %d, want its preferred replica %d", leader, p, pref)
			}
			return nil
		})
		return err
	})
}

// preferredLeaders returns each partition's preferred replica (the first)
// and applies check to every partition's leader and ISR size.
func preferredLeaders(ctx context.Context, o *oracle, topic string, check func(p, leader, pref int32, isr int) error) (map[int32]int32, error) {
	md, err := o.adm.Metadata(ctx, topic)
	if err != nil {
		return nil, err
	}
	td := md.Topics[topic]
	if td.Err != nil {
		return nil, td.Err
	}
	out := map[int32]int32{}
	for p, pd := range td.Partitions {
		if len(pd.Replicas) == 0 {
			return nil, fmt.Errorf("partition %d has no replicas", p)
		}
		out[p] = pd.Replicas[0]
		if check != nil {
			if err := check(p, pd.Leader, pd.Replicas[0], len(pd.ISR)); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// guard runs f, which may call the harness's Fatal through s, on its own
// goroutine and returns what s recorded.
func guard(s *softTB, f func()) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		first, _, _ := strings.Cut(s.err.Error(), "\n")
		return errors.New(first)
	}
	return nil
}
