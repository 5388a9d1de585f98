package test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

// expect runs a CLI step and checks its exit code and that its output has
// every wanted substring.
func (r *cliRunner) expect(args []string, stdin string, code int, want ...string) string {
	r.t.Helper()
	out, got := r.run(args, stdin)
	if got != code {
		r.t.Errorf("spool %s: exit %d, want %d\n%s", strings.Join(args, " "), got, code, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			r.t.Errorf("spool %s: output lacks %q:\n%s", strings.Join(args, " "), w, out)
		}
	}
	return out
}

// TestCLIUsageErrors: a mistyped command, flag or argument exits 2 with a
// hint, before any connection is tried.
func TestCLIUsageErrors(t *testing.T) {
	t.Parallel()
	r := newCLIRunner(t, "127.0.0.1:1")
	for _, c := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"topic", "creat", "x"}, 2, []string{`unknown command "creat" for "spool topic"`, "Did you mean this?\n\tcreate"}},
		{[]string{"topci", "list"}, 2, []string{`unknown command "topci" for "spool"`, "Did you mean this?\n\ttopic"}},
		{[]string{"group", "descirbe", "g"}, 2, []string{"Did you mean this?\n\tdescribe"}},
		{[]string{"topic", "create", "x", "--partitons", "3"}, 2, []string{"unknown flag: --partitons", "Did you mean this?\n\t--partitions"}},
		{[]string{"consume", "x", "--exit-at-nd"}, 2, []string{"--exit-at-end"}},
		{[]string{"consume", "x", "--offset"}, 2, []string{"flag needs an argument: --offset", "spool consume --help"}},
		{[]string{"topic", "create"}, 2, []string{"requires at least 1 arg", "Usage: spool topic create TOPIC..."}},
		{[]string{"topic", "describe"}, 2, []string{"needs a TOPIC"}},
		{[]string{"topic", "delete-records", "t"}, 2, []string{"--before OFFSET"}},
		{[]string{"cluster", "elect-leaders"}, 2, []string{"--topic T or --all-topics"}},
		{[]string{"cluster", "elect-leaders", "--all-topics", "--type", "dirty"}, 2, []string{"want preferred or unclean"}},
		{[]string{"topic", "list", "--timeout", "0s"}, 2, []string{"--timeout 0s"}},
		{[]string{"consume", "x", "--max-messages", "-1"}, 2, []string{"--max-messages -1"}},
		{[]string{"topic"}, 0, []string{"Available Commands:", "delete-records"}},
		{[]string{"--version"}, 0, []string{"spool "}},
	} {
		r.expect(c.args, "", c.code, c.want...)
	}
}

// TestCLIVersion builds the binary with the Makefile's link flags and reads
// them back, in text and JSON.
func TestCLIVersion(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "spool")
	out, err := exec.Command("make", "-C", "..", "-s", "build", "BIN="+bin, "VERSION=v1.2.3-test", "COMMIT=0123456789abcdef0123", "DATE=2000-01-02T03:04:05Z").CombinedOutput()
	if err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "version", "--format", "json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Version, Commit, BuildDate, GoVersion, Platform string }
	if err := json.Unmarshal(out, &struct {
		Version   *string `json:"version"`
		Commit    *string `json:"commit"`
		BuildDate *string `json:"build_date"`
		GoVersion *string `json:"go_version"`
		Platform  *string `json:"platform"`
	}{&v.Version, &v.Commit, &v.BuildDate, &v.GoVersion, &v.Platform}); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if v.Version != "v1.2.3-test" || v.Commit != "0123456789abcdef0123" || v.BuildDate != "2000-01-02T03:04:05Z" || v.GoVersion == "" || v.Platform == "" {
		t.Errorf("version --format json: %+v", v)
	}
	out, _ = exec.Command(bin, "--version").Output()
	if got := strings.TrimSpace(string(out)); got != "spool v1.2.3-test (commit 0123456789ab, built 2000-01-02T03:04:05Z)" {
		t.Errorf("--version: %q", got)
	}
}

// silentListener accepts connections and never answers, like a broker
// that is stopped or wedged.
func silentListener(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var held []net.Conn
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	return ln.Addr().String()
}

// TestCLITimeout: --timeout bounds the whole command, and the message
// names what did not answer (it used to wait 10 s and blame the network).
func TestCLITimeout(t *testing.T) {
	t.Parallel()
	addr := silentListener(t)
	r := newCLIRunner(t, addr)
	for _, args := range [][]string{
		{"topic", "list", "--timeout", "1s"},
		{"consume", "orders", "--timeout", "1s"},
		{"cluster", "health", "--wait", "--timeout", "1s"},
	} {
		start := time.Now()
		r.expect(args, "", 1, "BROKER accepted a connection but gave no Kafka answer within 1s (--timeout)")
		// 1 s plus process start; the old behaviour took 10 s.
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("spool %s took %v with --timeout 1s", strings.Join(args, " "), d)
		}
	}

	// A broker stopped after it answered once: the command is bounded
	// the same way.
	n := harness.SingleNode(t, nil)
	n.Start()
	// The start-up banner names every listener, the controller's too.
	for _, w := range []string{"spool starting", `"node.id": 1`, `"process.roles": "broker,controller"`, `"cluster.id": "` + n.ClusterID,
		"PLAINTEXT://" + n.Addr, "CONTROLLER://" + n.CtrlAddr, `"log.dirs": ["` + n.Dir} {
		if !strings.Contains(n.Output(), w) {
			t.Errorf("start-up banner lacks %q:\n%s", w, n.Output())
		}
	}
	rn := newCLIRunner(t, n.Addr)
	rn.expect([]string{"topic", "create", "orders"}, "", 0)
	n.Signal(syscall.SIGSTOP)
	defer n.Signal(syscall.SIGCONT)
	start := time.Now()
	rn.expect([]string{"topic", "describe", "orders", "--timeout", "2s"}, "", 1, "within 2s (--timeout)")
	if d := time.Since(start); d > 7*time.Second {
		t.Errorf("topic describe against a stopped broker took %v with --timeout 2s", d)
	}
}

// TestCLIConsumeAndProduceChecks: missing topics and partitions fail at
// once with what exists; --exit-at-end stops at the end, also when the log
// ends with a transaction marker; produce creates a missing topic where
// the cluster allows it.
func TestCLIConsumeAndProduceChecks(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, map[string]string{"group.initial.rebalance.delay.ms": "0", "offsets.topic.num.partitions": "1"})
	n.Start()
	r := newCLIRunner(t, n.Addr)
	r.expect([]string{"topic", "create", "orders", "--partitions", "4"}, "", 0)
	start := time.Now()
	r.expect([]string{"consume", "orders", "--partition", "9"}, "", 1, "topic orders has no partition 9: it has 4 partitions (0-3)")
	r.expect([]string{"consume", "nope"}, "", 1, "topic nope does not exist")
	r.expect([]string{"produce", "orders", "--partition", "4"}, "x\n", 1, "topic orders has no partition 4")
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the missing topic and partition checks took %v", d)
	}
	if out := r.expect([]string{"consume", "orders", "--exit-at-end"}, "", 0); out != "" {
		t.Errorf("consume --exit-at-end of an empty topic printed %q", out)
	}
	r.expect([]string{"produce", "orders", "--key-separator", ":"}, "a:1\nb:2\nc:3\nd:4\ne:5\nf:6\ng:7\nh:8\ni:9\nj:10\n", 0)
	produceTransactional(t, n.Addr, "orders", 5)
	lines := func(out string) int { return len(strings.Fields(out)) }
	if out := r.expect([]string{"consume", "orders", "--from-beginning", "--exit-at-end"}, "", 0); lines(out) != 15 {
		t.Errorf("consume --exit-at-end: %d records, want 15\n%s", lines(out), out)
	}
	if out := r.expect([]string{"consume", "orders", "--group", "g", "--from-beginning", "-e"}, "", 0); lines(out) != 15 {
		t.Errorf("consume --group -e: %d records, want 15\n%s", lines(out), out)
	}
	if out := r.expect([]string{"consume", "orders", "--group", "g", "-e"}, "", 0); lines(out) != 0 {
		t.Errorf("consume --group -e after everything was committed: %q", out)
	}
	r.expect([]string{"produce", "fresh"}, "hello\n", 0, "topic fresh did not exist; the cluster created it with 1 partition")
	r.expect([]string{"consume", "fresh", "--from-beginning", "-e"}, "", 0, "hello")

	off := harness.SingleNode(t, map[string]string{"auto.create.topics.enable": "false"})
	off.Start()
	newCLIRunner(t, off.Addr).expect([]string{"produce", "nope"}, "x\n", 1,
		"topic nope does not exist, and the cluster does not create topics on first use (auto.create.topics.enable=false); create it with `spool topic create nope`")
}

// produceTransactional commits n records to partition 0 in one
// transaction, so that the partition's log ends with a commit marker.
func produceTransactional(t *testing.T, addr, topic string, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.TransactionalID("cli-test"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: 0, Value: []byte("txn")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
}

// TestCLIRecordsAndCompletion: delete-records trims partitions; completion
// offers topic and group names from the cluster.
func TestCLIRecordsAndCompletion(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, map[string]string{"group.initial.rebalance.delay.ms": "0", "offsets.topic.num.partitions": "1"})
	n.Start()
	r := newCLIRunner(t, n.Addr)
	r.expect([]string{"topic", "create", "orders", "--partitions", "2"}, "", 0)
	r.expect([]string{"produce", "orders", "--partition", "0"}, "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n", 0)
	r.expect([]string{"topic", "delete-records", "orders", "--partition", "0", "--before", "4"}, "", 0, "Partition orders-0 now starts at offset 4.")
	if out := r.expect([]string{"consume", "orders", "--from-beginning", "-e"}, "", 0); out != "4\n5\n6\n7\n8\n9\n" {
		t.Errorf("consume after delete-records: %q", out)
	}
	r.expect([]string{"topic", "delete-records", "orders", "--before", "end"}, "", 0, "Partition orders-0 now starts at offset 10.", "Partition orders-1 now starts at offset 0.")
	r.expect([]string{"topic", "delete-records", "orders", "--partition", "3", "--before", "1"}, "", 1, "topic orders has no partition 3: it has 2 partitions (0-1)")
	r.expect([]string{"topic", "delete-records", "nope", "--before", "1"}, "", 1, "topic nope does not exist")

	r.expect([]string{"consume", "orders", "--group", "billing", "-e"}, "", 0)
	r.expect([]string{"__complete", "topic", "describe", "or"}, "", 0, "orders\n:4\n")
	r.expect([]string{"__complete", "consume", "orders", "--group", "bil"}, "", 0, "billing\n:4\n")
	r.expect([]string{"__complete", "group", "describe", ""}, "", 0, "billing\n")
	// consume takes one topic: nothing more to complete after it.
	if out := r.expect([]string{"__complete", "consume", "orders", ""}, "", 0); strings.Contains(out, "orders") {
		t.Errorf("completion offered a second topic to consume:\n%s", out)
	}
}

// TestCLIFitsAndProgress: tables with live members fit 80 columns, and
// progress bars show on a terminal only.
func TestCLIFitsAndProgress(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, map[string]string{"group.initial.rebalance.delay.ms": "0", "offsets.topic.num.partitions": "1"})
	n.Start()
	r := newCLIRunner(t, n.Addr)
	r.expect([]string{"topic", "create", "a-rather-long-topic-name", "--partitions", "3"}, "", 0)
	member := exec.Command(harness.Binary(t), "consume", "a-rather-long-topic-name", "--group", "wide")
	member.Env = r.env
	if err := member.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { member.Process.Signal(os.Interrupt); member.Wait() }()
	var out string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if out, _ = r.run([]string{"group", "describe", "wide"}, ""); strings.Contains(out, "Stable") && strings.Contains(out, "…") {
			break
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if n := len([]rune(l)); n > 80 {
			t.Errorf("group describe: a %d-column line:\n%s", n, l)
		}
	}
	if !strings.Contains(out, "Stable") || !strings.Contains(out, "…") {
		t.Fatalf("group describe with a live member: want a Stable group and shortened member ids:\n%s", out)
	}

	input := filepath.Join(t.TempDir(), "input")
	if err := os.WriteFile(input, []byte(strings.Repeat("record\n", 2000)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := r.expect([]string{"produce", "a-rather-long-topic-name"}, "", 0); strings.Contains(out, "producing") {
		t.Errorf("a progress bar without a terminal:\n%s", out)
	}
	script, err := exec.LookPath("script")
	if err != nil {
		t.Log("script(1) is not installed: progress on a terminal is not checked")
		return
	}
	bin := harness.Binary(t)
	for _, c := range []struct{ cmd, want string }{
		{bin + " produce a-rather-long-topic-name < " + input, "producing"},
		{bin + " consume a-rather-long-topic-name --from-beginning -n 1500 > /dev/null", "consuming"},
	} {
		cmd := exec.Command(script, "-qec", c.cmd, "/dev/null")
		cmd.Env = r.env
		got, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(got), c.want) || !strings.Contains(string(got), "%") {
			t.Errorf("%s on a terminal: %v, want a %q progress bar:\n%q", c.cmd, err, c.want, got)
		}
	}
}

// TestCLIClusterHealth: health, --under-replicated and elect-leaders on a
// 3-node cluster that loses a node and gets it back.
func TestCLIClusterHealth(t *testing.T) {
	t.Parallel()
	roles := []string{"broker,controller", "broker,controller", "broker,controller"}
	c := harness.NewCluster(t, roles, map[string]string{
		"broker.session.timeout.ms": "3000", "broker.heartbeat.interval.ms": "500", "replica.lag.time.max.ms": "3000",
		"offsets.topic.num.partitions": "1", "auto.leader.rebalance.enable": "false"})
	c.Start()
	r := newCLIRunner(t, c.Node(1).Addr+","+c.Node(2).Addr)
	r.expect([]string{"cluster", "health", "--wait", "--timeout", "90s"}, "", 0, "Healthy:  yes", "Brokers:  [1 2 3]", "Fenced brokers:  []")
	r.expect([]string{"topic", "create", "r", "--partitions", "3", "--replication-factor", "3"}, "", 0)
	r.expect([]string{"topic", "describe", "--under-replicated"}, "", 0, "No partition matches.")
	c.Node(3).Kill()
	var out string
	var code int
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if out, code = r.run([]string{"cluster", "health"}, ""); code == 1 && strings.Contains(out, "Fenced brokers:  [3]") && strings.Contains(out, "Under-replicated partitions (3)") {
			break
		}
	}
	if code != 1 || !strings.Contains(out, "Healthy:  no") || !strings.Contains(out, "fenced_brokers") || !strings.Contains(out, "under_replicated_partitions") {
		t.Fatalf("cluster health with node 3 killed: exit %d\n%s", code, out)
	}
	out = r.expect([]string{"topic", "describe", "--under-replicated"}, "", 0, "TOPIC  PARTITION  LEADER  REPLICAS  ISR  OUT-OF-SYNC")
	if strings.Count(out, "  3\n") != 3 {
		t.Errorf("--under-replicated: want r's 3 partitions with replica 3 out of sync:\n%s", out)
	}
	c.Node(3).Start()
	r.expect([]string{"cluster", "health", "--wait", "--timeout", "2m"}, "", 0, "Healthy:  yes")
	r.expect([]string{"cluster", "elect-leaders", "--all-topics"}, "", 0, "Partition r-0:", "Partition r-2:")
	r.expect([]string{"cluster", "elect-leaders", "--topic", "r", "--partition", "7"}, "", 1, "topic r has no partition 7")
}
