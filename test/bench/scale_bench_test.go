package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

const sectionScale = "Partition scale (make bench-scale)"

// scaleOnly skips partition-scale runs outside `make bench-scale`: they
// take longer than the rest of the table together.
func scaleOnly(b *testing.B) {
	if os.Getenv("SPOOL_BENCH_SCALE") == "" {
		b.Skip("partition scale runs with `make bench-scale` (SPOOL_BENCH_SCALE=1)")
	}
}

// BenchmarkScale100kPartitions: one node hosting 100,000 single-replica
// partitions (1,000 topics of 100, ten topics a CreateTopics request):
// creation rate, resident memory, open descriptors, SIGTERM to exit,
// restart after that clean shutdown and after kill -9 until the broker
// serves again, and one record produced to and consumed from every
// partition.
func BenchmarkScale100kPartitions(b *testing.B) {
	scaleOnly(b)
	total := envInt("SPOOL_BENCH_SCALE_PARTITIONS", 100000)
	const perTopic, topicsPerRequest = 100, 10
	s := startSpool(b)
	defer s.stop()
	node := s.nodes[0]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	t0 := time.Now()
	if err := createBatched(ctx, s.addr(), "scale", total, perTopic, topicsPerRequest); err != nil {
		b.Fatal(err)
	}
	created := time.Since(t0)
	rate := float64(total) / created.Seconds()
	time.Sleep(3 * time.Second)
	w := fmt.Sprintf("%d partitions RF=1 on one node", total)
	table.add(row{Section: sectionScale, Workload: w + ": time to create (100 a topic, 10 topics a request)", Unit: "s", Lower: true, Spool: created.Seconds()})
	table.add(row{Section: sectionScale, Workload: w + ": CreateTopics rate", Unit: "partitions/s", Spool: rate})
	table.target("CreateTopics >= 10,000 partitions/s on one node (100,000 partitions, 10 topics of 100 a request)", fmt.Sprintf("%.0f partitions/s", rate), rate >= 10000)
	table.add(row{Section: sectionScale, Workload: w + ": resident memory", Unit: "MiB", Lower: true, Spool: float64(s.pids[0].rss()) / (1 << 20)})
	table.add(row{Section: sectionScale, Workload: w + ": open descriptors (limit " + strconv.FormatUint(currentMachine().NoFile, 10) + ")", Unit: "fds", Lower: true, Spool: float64(s.pids[0].openFDs())})

	stopped := stopNode(b, s, w)
	table.target("100,000 partitions: SIGTERM to exit < 10 s", fmt.Sprintf("%.1f s", stopped.Seconds()), stopped < 10*time.Second)
	restarted := restartNode(b, s, w+": restart after a clean shutdown, exec to unfenced (serving clients)")
	table.target("100,000 partitions: restart after a clean shutdown to serving < 10 s", fmt.Sprintf("%.1f s", restarted.Seconds()), restarted < 10*time.Second)
	table.add(row{Section: sectionScale, Workload: w + ": resident memory after restart", Unit: "MiB", Lower: true, Spool: float64(s.pids[0].rss()) / (1 << 20)})

	produceT, consumeT, err := roundOverAll(ctx, s.addr(), "scale", total, perTopic)
	if err != nil {
		b.Fatal(err)
	}
	table.add(row{Section: sectionScale, Workload: w + ": produce one record to every partition (acks=all)", Unit: "s", Lower: true, Spool: produceT.Seconds()})
	table.add(row{Section: sectionScale, Workload: w + ": consume them all back", Unit: "s", Lower: true, Spool: consumeT.Seconds()})
	table.add(row{Section: sectionScale, Workload: w + ": open descriptors after the round", Unit: "fds", Lower: true, Spool: float64(s.pids[0].openFDs())})

	node.Kill()
	recovered := restartNode(b, s, w+": restart after kill -9 (every log recovers), exec to unfenced (serving clients)")
	table.target("100,000 partitions: restart after kill -9 to serving < 10 s", fmt.Sprintf("%.1f s", recovered.Seconds()), recovered < 10*time.Second)
}

// stopNode sends SIGTERM and records the time until the process exits.
func stopNode(b *testing.B, s *server, w string) time.Duration {
	t0 := time.Now()
	if err := s.nodes[0].Stop(); err != nil {
		// The harness kills what does not stop within 60 s.
		table.note("%s: SIGTERM did not stop the node within 60 s (%v); it was killed.", w, err)
	}
	d := time.Since(t0)
	table.add(row{Section: sectionScale, Workload: w + ": shutdown, SIGTERM to exit (60 s: killed)", Unit: "s", Lower: true, Spool: d.Seconds()})
	return d
}

// restartNode starts the node again and records the time until it serves.
func restartNode(b *testing.B, s *server, workload string) time.Duration {
	node := s.nodes[0]
	t0 := time.Now()
	node.StartArgs("--config", node.ConfigFile, "--cluster-id", node.ClusterID, "--debug-listener", s.debug[0], "--log-level", "warn")
	node.WaitServing(10 * time.Minute)
	d := time.Since(t0)
	table.add(row{Section: sectionScale, Workload: workload, Unit: "s", Lower: true, Spool: d.Seconds()})
	if v, err := debugVars(s.debug[0]); err == nil {
		s.pids = []proc{proc(v.PID)}
	}
	return d
}

// createBatched creates the topics prefix-0, prefix-perTopic, ... of
// perTopic partitions each, perRequest topics a CreateTopics request.
func createBatched(ctx context.Context, addr, prefix string, total, perTopic, perRequest int) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RetryTimeout(time.Minute))
	if err != nil {
		return err
	}
	defer cl.Close()
	for done := 0; done < total; done += perTopic * perRequest {
		req := kmsg.NewPtrCreateTopicsRequest()
		req.TimeoutMillis = 60000
		for i := 0; i < perRequest && done+i*perTopic < total; i++ {
			t := kmsg.NewCreateTopicsRequestTopic()
			t.Topic = fmt.Sprintf("%s-%d", prefix, done+i*perTopic)
			t.NumPartitions, t.ReplicationFactor = int32(min(perTopic, total-done-i*perTopic)), 1
			req.Topics = append(req.Topics, t)
		}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return err
		}
		for _, t := range resp.Topics {
			if t.ErrorCode != 0 {
				return fmt.Errorf("create %s: error %d", t.Topic, t.ErrorCode)
			}
		}
	}
	return nil
}

// roundOverAll produces one 100-byte record to every partition of the
// topics prefix-0, prefix-perTopic, ... and consumes them all back.
func roundOverAll(ctx context.Context, addr, prefix string, total, perTopic int) (time.Duration, time.Duration, error) {
	var topics []string
	for done := 0; done < total; done += perTopic {
		topics = append(topics, fmt.Sprintf("%s-%d", prefix, done))
	}
	pcl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MaxBufferedRecords(total+1), kgo.ProduceRequestTimeout(time.Minute))
	if err != nil {
		return 0, 0, err
	}
	value := make([]byte, 100)
	t0 := time.Now()
	var firstErr error
	for _, t := range topics {
		for p := range perTopic {
			pcl.Produce(ctx, &kgo.Record{Topic: t, Partition: int32(p), Value: value}, func(_ *kgo.Record, err error) {
				if err != nil && firstErr == nil {
					firstErr = err
				}
			})
		}
	}
	err = pcl.Flush(ctx)
	produceT := time.Since(t0)
	pcl.Close()
	if err == nil {
		err = firstErr
	}
	if err != nil {
		return 0, 0, fmt.Errorf("produce: %w", err)
	}
	ccl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topics...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return 0, 0, err
	}
	defer ccl.Close()
	t0 = time.Now()
	for got := 0; got < total; {
		fs := ccl.PollFetches(ctx)
		if ctx.Err() != nil {
			return 0, 0, fmt.Errorf("consumed %d of %d: %w", got, total, ctx.Err())
		}
		got += fs.NumRecords()
	}
	return produceT, time.Since(t0), nil
}

// BenchmarkScaleMetadata1M: three controllers holding metadata for
// 1,000,000 partitions, placed on fake brokers that the benchmark
// registers and heartbeats itself (they never create a file: hosting a
// million partitions on one small machine's disk is out of reach). It
// measures the controller side: creation time, the metadata snapshot's
// size and load time, a real broker's start and restart until unfenced,
// and controller failover.
func BenchmarkScaleMetadata1M(b *testing.B) {
	scaleOnly(b)
	total := envInt("SPOOL_BENCH_METADATA_PARTITIONS", 1000000)
	const perTopic, topicsPerRequest = 1000, 10
	c := harness.NewCluster(b, []string{"controller", "controller", "controller", "broker"}, nil)
	var ctrls []string
	for _, n := range c.Nodes[:3] {
		n.StartArgs("--config", n.ConfigFile, "--cluster-id", n.ClusterID, "--log-level", "warn")
		ctrls = append(ctrls, n.CtrlAddr)
	}
	defer func() {
		for _, n := range c.Nodes {
			n.Kill()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Minute)
	defer cancel()
	fakes := newFakeBrokers(ctrls, c.Nodes[0].ClusterID, 101, 102, 103)
	if err := fakes.start(ctx, 500*time.Millisecond); err != nil {
		b.Fatal(err)
	}
	defer fakes.close()

	w := fmt.Sprintf("%d partitions RF=1 on 3 registered fake brokers, 3 controllers", total)
	t0 := time.Now()
	for done := 0; done < total; done += perTopic * topicsPerRequest {
		req := kmsg.NewPtrCreateTopicsRequest()
		req.SetVersion(7)
		req.TimeoutMillis = 60000
		for i := 0; i < topicsPerRequest && done+i*perTopic < total; i++ {
			t := kmsg.NewCreateTopicsRequestTopic()
			t.Topic = fmt.Sprintf("meta-%d", done+i*perTopic)
			t.NumPartitions, t.ReplicationFactor = perTopic, 1
			req.Topics = append(req.Topics, t)
		}
		if err := createOnController(ctx, fakes, req); err != nil {
			b.Fatalf("after %d partitions: %v", done, err)
		}
	}
	created := time.Since(t0)
	table.add(row{Section: sectionScale, Workload: w + ": time to create (CreateTopics of 10 topics x 1,000 straight to the active controller)", Unit: "s", Lower: true, Spool: created.Seconds()})
	for _, p := range c.Nodes[:3] {
		if v, ok := nodePID(p); ok {
			table.add(row{Section: sectionScale, Workload: fmt.Sprintf("%s: controller %d resident memory", w, p.ID), Unit: "MiB", Lower: true, Spool: float64(v.rss()) / (1 << 20)})
			break
		}
	}

	// Snapshot: the newest on a follower controller, then that
	// controller's restart until it answers again (it loads the snapshot
	// and replays the log after it before serving).
	active := activeController(&harness.Cluster{Nodes: c.Nodes[:3]})
	follower := c.Nodes[0]
	if follower.ID == int(active) {
		follower = c.Nodes[1]
	}
	waitSnapshot(ctx, follower)
	if path, size := newestSnapshot(follower); path != "" {
		table.add(row{Section: sectionScale, Workload: w + ": metadata snapshot size (" + filepath.Base(path) + ")", Unit: "MiB", Lower: true, Spool: float64(size) / (1 << 20)})
	}
	follower.Kill()
	t0 = time.Now()
	follower.StartArgs("--config", follower.ConfigFile, "--cluster-id", follower.ClusterID, "--log-level", "warn")
	if err := waitDescribeQuorum(ctx, follower.CtrlAddr); err != nil {
		b.Fatal(err)
	}
	table.add(row{Section: sectionScale, Workload: w + ": controller restart (kill -9), exec to serving: snapshot load and log replay", Unit: "s", Lower: true, Spool: time.Since(t0).Seconds()})

	// A real broker: first start, then restart, until unfenced.
	brk := c.Nodes[3]
	t0 = time.Now()
	brk.StartArgs("--config", brk.ConfigFile, "--cluster-id", brk.ClusterID, "--log-level", "warn")
	brk.WaitServing(10 * time.Minute)
	table.add(row{Section: sectionScale, Workload: w + ": a new broker, exec to unfenced (fetches the snapshot)", Unit: "s", Lower: true, Spool: time.Since(t0).Seconds()})
	if err := brk.Stop(); err != nil {
		b.Fatalf("broker stop: %v", err)
	}
	t0 = time.Now()
	brk.StartArgs("--config", brk.ConfigFile, "--cluster-id", brk.ClusterID, "--log-level", "warn")
	brk.WaitServing(10 * time.Minute)
	restart := time.Since(t0)
	table.add(row{Section: sectionScale, Workload: w + ": broker restart, exec to unfenced", Unit: "s", Lower: true, Spool: restart.Seconds()})
	table.target("broker restart with metadata for 1,000,000 partitions < 10 s", fmt.Sprintf("%.1f s", restart.Seconds()), restart < 10*time.Second)

	// Failover: kill -9 the active controller, then CreateTopics until one
	// succeeds.
	active = activeController(&harness.Cluster{Nodes: c.Nodes[:3]})
	if active < 1 {
		b.Fatal("no active controller")
	}
	t0 = time.Now()
	c.Node(int(active)).Kill()
	for i := 0; ; i++ {
		req := kmsg.NewPtrCreateTopicsRequest()
		req.SetVersion(7)
		req.TimeoutMillis = 5000
		t := kmsg.NewCreateTopicsRequestTopic()
		t.Topic, t.NumPartitions, t.ReplicationFactor = fmt.Sprintf("after-failover-%d", i), 1, 1
		req.Topics = append(req.Topics, t)
		if resp, err := fakes.request(req); err == nil && errorCodeOf(resp) == 0 {
			break
		}
		if ctx.Err() != nil {
			b.Fatal("no CreateTopics succeeded after the active controller was killed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	failover := time.Since(t0)
	table.add(row{Section: sectionScale, Workload: w + ": controller failover, kill -9 of the active -> next CreateTopics succeeds", Unit: "s", Lower: true, Spool: failover.Seconds()})
	table.target("controller failover with metadata for 1,000,000 partitions < 2 s", fmt.Sprintf("%.2f s", failover.Seconds()), failover < 2*time.Second)
	table.note("Metadata-scale figures come from fake brokers: the benchmark registers three brokers (BrokerRegistration) and heartbeats them (BrokerHeartbeat) on the controller listener; the controllers place partitions on them, and they never create a file. They measure the controllers and a real broker's metadata handling, not data hosting.")
}

// createOnController sends a CreateTopics to the active controller and
// fails on any topic error.
func createOnController(ctx context.Context, f *fakeBrokers, req *kmsg.CreateTopicsRequest) error {
	for {
		resp, err := f.request(req)
		if err == nil {
			r := resp.(*kmsg.CreateTopicsResponse)
			for _, t := range r.Topics {
				if t.ErrorCode != 0 {
					msg := ""
					if t.ErrorMessage != nil {
						msg = *t.ErrorMessage
					}
					return fmt.Errorf("%s: error %d %s", t.Topic, t.ErrorCode, msg)
				}
			}
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// nodePID finds a node's process id from /proc by its config file.
func nodePID(n *harness.Node) (proc, bool) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && containsArg(raw, n.ConfigFile) {
			return proc(pid), true
		}
	}
	return 0, false
}

func containsArg(cmdline []byte, arg string) bool {
	for _, a := range splitNUL(cmdline) {
		if a == arg {
			return true
		}
	}
	return false
}

func splitNUL(b []byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == 0 {
			out = append(out, string(b[start:i]))
			start = i + 1
		}
	}
	return out
}

// newestSnapshot is the newest metadata snapshot file on a node.
func newestSnapshot(n *harness.Node) (string, int64) {
	matches, _ := filepath.Glob(filepath.Join(n.Dir, "__cluster_metadata-0", "*.checkpoint"))
	var best string
	var size int64
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil && m > best {
			best, size = m, st.Size()
		}
	}
	return best, size
}

// waitSnapshot waits (at most two minutes) until the node's newest
// snapshot stops changing, so the one measured covers what was created.
func waitSnapshot(ctx context.Context, n *harness.Node) {
	deadline := time.Now().Add(2 * time.Minute)
	last := ""
	for time.Now().Before(deadline) && ctx.Err() == nil {
		p, _ := newestSnapshot(n)
		if p != "" && p == last {
			return
		}
		last = p
		time.Sleep(5 * time.Second)
	}
}

func waitDescribeQuorum(ctx context.Context, addr string) error {
	for ctx.Err() == nil {
		req := kmsg.NewPtrDescribeQuorumRequest()
		req.SetVersion(1)
		rt := kmsg.NewDescribeQuorumRequestTopic()
		rt.Topic = "__cluster_metadata"
		rt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
		req.Topics = append(req.Topics, rt)
		if _, err := harness.Request(addr, req, time.Second); err == nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return ctx.Err()
}

// BenchmarkScaleControlledShutdown: a broker leading 10,000 partitions
// (RF=2, replicas assigned to it and one other broker) gets SIGTERM; the
// time until no partition is led by it.
func BenchmarkScaleControlledShutdown(b *testing.B) {
	scaleOnly(b)
	total := envInt("SPOOL_BENCH_SHUTDOWN_PARTITIONS", 10000)
	const perTopic = 500
	c := harness.NewCluster(b, []string{"controller", "broker", "broker"}, nil)
	c.Start()
	defer func() {
		for _, n := range c.Nodes {
			n.Kill()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Node(3).Addr), kgo.RetryTimeout(time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	t0 := time.Now()
	for done := 0; done < total; done += perTopic {
		req := kmsg.NewPtrCreateTopicsRequest()
		req.TimeoutMillis = 60000
		t := kmsg.NewCreateTopicsRequestTopic()
		t.Topic = fmt.Sprintf("led-%d", done)
		t.NumPartitions, t.ReplicationFactor = -1, -1
		for p := range min(perTopic, total-done) {
			a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
			a.Partition, a.Replicas = int32(p), []int32{2, 3}
			t.ReplicaAssignment = append(t.ReplicaAssignment, a)
		}
		req.Topics = append(req.Topics, t)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			b.Fatal(err)
		}
		if code := resp.Topics[0].ErrorCode; code != 0 {
			b.Fatalf("create %s: error %d", t.Topic, code)
		}
	}
	b.Logf("created %d partitions in %v", total, time.Since(t0))
	adm := kadm.NewClient(cl)
	// Both replicas must be in sync before leadership can move to the
	// other; wait until every partition lists both.
	for !allInSync(ctx, adm, 2) {
		if ctx.Err() != nil {
			b.Fatal("replicas never in sync")
		}
		time.Sleep(time.Second)
	}
	// Ask the broker that stays, not whichever broker a client picks: the
	// one stopping may answer from its own view meanwhile.
	led := ledBy(c.Node(3).Addr, 2)
	t0 = time.Now()
	go c.Node(2).Stop()
	for ledBy(c.Node(3).Addr, 2) > 0 {
		time.Sleep(20 * time.Millisecond)
	}
	moved := time.Since(t0)
	table.add(row{Section: sectionScale, Workload: fmt.Sprintf("controlled shutdown (SIGTERM) of a broker leading %d partitions (RF=2, 2 brokers, 1 controller): until every leadership has moved", led), Unit: "s", Lower: true, Spool: moved.Seconds()})
	table.target(fmt.Sprintf("controlled shutdown of a broker leading %d partitions: every leadership moved < 5 s", led), fmt.Sprintf("%.2f s", moved.Seconds()), moved < 5*time.Second)
}

func allInSync(ctx context.Context, adm *kadm.Client, rf int) bool {
	meta, err := adm.Metadata(ctx)
	if err != nil {
		return false
	}
	for _, t := range meta.Topics {
		for _, p := range t.Partitions {
			if len(p.ISR) < rf {
				return false
			}
		}
	}
	return true
}

// ledBy counts the partitions that the broker at addr sees led by id; on
// an error it counts everything as not moved yet.
func ledBy(addr string, id int32) int {
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(9)
	raw, err := harness.Request(addr, req, 10*time.Second)
	if err != nil {
		return 1 << 30
	}
	n := 0
	for _, t := range raw.(*kmsg.MetadataResponse).Topics {
		for _, p := range t.Partitions {
			if p.Leader == id {
				n++
			}
		}
	}
	return n
}
