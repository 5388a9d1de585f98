package test

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"spool/test/harness"
)

// -update rewrites the golden files under testdata/cli from this run.
var update = flag.Bool("update", false, "rewrite CLI golden files")

// cliStep is one CLI invocation and the golden file its output must match.
type cliStep struct {
	golden string // file name under testdata/cli, without .golden
	args   []string
	stdin  string
	code   int // expected exit code
}

// cliRunner runs the spool CLI against one cluster and normalizes what it
// prints, so goldens do not depend on ports, ids, clocks or paths.
type cliRunner struct {
	t       *testing.T
	env     []string
	replace []string // old, new pairs applied first
}

func newCLIRunner(t *testing.T, bootstrap string, replace ...string) *cliRunner {
	return &cliRunner{
		t:       t,
		env:     append(os.Environ(), "SPOOL_BOOTSTRAP_SERVERS="+bootstrap),
		replace: append([]string{bootstrap, "BROKER"}, replace...),
	}
}

func (r *cliRunner) run(args []string, stdin string) (string, int) {
	r.t.Helper()
	cmd := exec.Command(harness.Binary(r.t), args...)
	cmd.Env = r.env
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		r.t.Fatalf("spool %s did not finish within 2m; output so far:\n%s", strings.Join(args, " "), out.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		r.t.Fatal(err)
	}
	return r.normalize(out.String()), code
}

var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	// Topic ids (base64url, 22 characters) after "ID:" or in JSON.
	{regexp.MustCompile(`(?m)^(ID:\s+)[A-Za-z0-9_-]{22}`), "${1}TOPIC-ID"},
	{regexp.MustCompile(`("id": ")[A-Za-z0-9_-]{22}(")`), "${1}TOPIC-ID${2}"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`), "TIME"},
	{regexp.MustCompile(`\b1\d{12}\b`), "TS"},
	{regexp.MustCompile(`(crc:|"crc":) \d+`), "$1 CRC"},
	{regexp.MustCompile(`(producerId:|"producer_id":) \d+`), "$1 PID"},
	{regexp.MustCompile(`("port": )\d+`), "${1}PORT"},
	{regexp.MustCompile(`\d+(\.\d+)?(ms|s|µs) ago`), "AGO"},
	{regexp.MustCompile(`spool-cli-[0-9a-f-]{36}`), "MEMBER-ID"},
	{regexp.MustCompile(`/[0-9.]+:\d+\b`), "/CLIENT-HOST"},
	{regexp.MustCompile(`("(total|usable)_bytes": )\d+`), "${1}N"},
	// Replaced addresses and paths change column widths: compare tables
	// by their cells, not their padding.
	{regexp.MustCompile(`(\S)  +`), "$1  "},
	{regexp.MustCompile(`(?m) +$`), ""},
}

func (r *cliRunner) normalize(s string) string {
	for i := 0; i+1 < len(r.replace); i += 2 {
		s = strings.ReplaceAll(s, r.replace[i], r.replace[i+1])
	}
	for _, v := range volatile {
		s = v.re.ReplaceAllString(s, v.with)
	}
	return s
}

// check runs a step and compares its output with the golden file.
func (r *cliRunner) check(st cliStep) {
	r.t.Helper()
	got, code := r.run(st.args, st.stdin)
	if code != st.code {
		r.t.Errorf("spool %s: exit %d, want %d\n%s", strings.Join(st.args, " "), code, st.code, got)
	}
	path := filepath.Join("testdata", "cli", st.golden+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			r.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		r.t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		r.t.Errorf("spool %s: output differs from %s (run with -update to accept)\n--- got\n%s\n--- want\n%s", strings.Join(st.args, " "), path, got, want)
	}
}

// TestCLIGolden runs every admin subcommand against a live node, in text
// and JSON, and compares with the goldens.
func TestCLIGolden(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, map[string]string{"log.retention.check.interval.ms": "500"})
	n.Start()
	sasl := writeFile(t, "sasl.properties", "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n")
	r := newCLIRunner(t, n.Addr, n.CtrlAddr, "CONTROLLER", n.Dir, "DATA", sasl, "FILE")
	steps := []cliStep{
		{golden: "topic-create", args: []string{"topic", "create", "orders", "--partitions", "3", "--replication-factor", "1", "--config", "cleanup.policy=compact"}},
		{golden: "topic-create-json", args: []string{"topic", "create", "events", "plain", "--partitions", "2", "--format", "json"}},
		{golden: "topic-create-exists", args: []string{"topic", "create", "orders"}, code: 1},
		{golden: "topic-create-if-not-exists", args: []string{"topic", "create", "orders", "--if-not-exists"}},
		{golden: "topic-create-dry-run", args: []string{"topic", "create", "dry", "--dry-run", "--partitions", "4"}},
		{golden: "topic-create-bad-config", args: []string{"topic", "create", "bad", "--config", "retention.ms=soon"}, code: 1},
		{golden: "topic-list", args: []string{"topic", "list"}},
		{golden: "topic-list-regex-json", args: []string{"topic", "list", "^e", "--format", "json"}},
		{golden: "topic-add-partitions", args: []string{"topic", "add-partitions", "events", "--total", "4"}},
		{golden: "topic-add-partitions-shrink", args: []string{"topic", "add-partitions", "events", "--total", "2"}, code: 1},
		{golden: "produce", args: []string{"produce", "orders", "--key-separator", ":", "--header", "source=cli", "--partition", "0"}, stdin: "k1:one\nk2:two\nk3:three\n"},
		{golden: "produce-json", args: []string{"produce", "plain", "--partition", "1", "--acks", "1", "--compression", "zstd", "--format", "json"}, stdin: "alpha\nbeta\n"},
		{golden: "consume", args: []string{"consume", "orders", "--from-beginning", "--max-messages", "3", "--print-key", "--print-headers"}},
		{golden: "consume-json", args: []string{"consume", "plain", "--partition", "1", "--offset", "earliest", "--max-messages", "2", "--format", "json"}},
		{golden: "consume-template", args: []string{"consume", "orders", "--partition", "0", "--offset", "1", "-n", "2", "--format", `{{.Partition}}@{{.Offset}} {{deref .Key}}={{deref .Value}}{{"\n"}}`}},
		{golden: "topic-producers", args: []string{"topic", "producers", "orders"}},
		{golden: "topic-producers-json", args: []string{"topic", "producers", "orders", "--format", "json"}},
		{golden: "topic-producers-unknown", args: []string{"topic", "producers", "nope"}, code: 1},
		{golden: "topic-describe", args: []string{"topic", "describe", "orders"}},
		{golden: "topic-describe-json", args: []string{"topic", "describe", "plain", "--format", "json"}},
		{golden: "topic-describe-compacted-json", args: []string{"topic", "describe", "orders", "--format", "json"}},
		{golden: "config-describe", args: []string{"config", "describe", "--topic", "orders"}},
		{golden: "config-set", args: []string{"config", "set", "--topic", "orders", "retention.ms=60000", "max.message.bytes=2097152"}},
		{golden: "config-describe-after-set", args: []string{"config", "describe", "--topic", "orders", "--synonyms"}},
		{golden: "config-set-append", args: []string{"config", "set", "--topic", "orders", "cleanup.policy+=delete"}},
		{golden: "config-set-invalid", args: []string{"config", "set", "--topic", "orders", "segment.bytes=3"}, code: 1},
		{golden: "config-set-unknown", args: []string{"config", "set", "--topic", "orders", "no.such.key=1"}, code: 1},
		{golden: "config-delete", args: []string{"config", "delete", "--topic", "orders", "retention.ms"}},
		{golden: "config-describe-json", args: []string{"config", "describe", "--topic", "orders", "retention.ms", "cleanup.policy", "--format", "json"}},
		{golden: "config-describe-broker", args: []string{"config", "describe", "--broker", "1"}},
		{golden: "config-set-broker-static", args: []string{"config", "set", "--broker", "1", "log.dirs=/elsewhere"}, code: 1},
		{golden: "config-set-broker-default", args: []string{"config", "set", "--broker-default", "log.retention.ms=3600000"}},
		{golden: "config-describe-broker-default", args: []string{"config", "describe", "--broker-default", "--synonyms"}},
		{golden: "config-describe-broker-key", args: []string{"config", "describe", "--broker", "1", "log.retention.ms", "--synonyms"}},
		{golden: "config-describe-other-broker", args: []string{"config", "describe", "--broker", "7"}, code: 1},
		{golden: "config-describe-unknown-topic", args: []string{"config", "describe", "--topic", "nope"}, code: 1},
		{golden: "config-no-target", args: []string{"config", "describe"}, code: 2},
		{golden: "cluster-info", args: []string{"cluster", "info"}},
		{golden: "cluster-info-json", args: []string{"cluster", "info", "--format", "json"}},
		{golden: "cluster-metadata-quorum", args: []string{"cluster", "metadata-quorum", "--bootstrap-controller", n.CtrlAddr}},
		{golden: "cluster-metadata-quorum-replication", args: []string{"cluster", "metadata-quorum", "--bootstrap-controller", n.CtrlAddr, "--replication"}},
		{golden: "cluster-metadata-quorum-no-flag", args: []string{"cluster", "metadata-quorum"}, code: 2},
		{golden: "dump-log", args: []string{"dump-log", filepath.Join(n.Dir, "orders-0", "00000000000000000000.log"), "--print-data-log"}},
		{golden: "dump-log-json", args: []string{"dump-log", filepath.Join(n.Dir, "plain-1", "00000000000000000000.log"), "--print-data-log", "--format", "json"}},
		{golden: "dump-log-index", args: []string{"dump-log", filepath.Join(n.Dir, "orders-0", "00000000000000000000.index")}},
		{golden: "topic-delete", args: []string{"topic", "delete", "events"}},
		{golden: "topic-delete-missing", args: []string{"topic", "delete", "events"}, code: 1},
		{golden: "topic-delete-if-exists", args: []string{"topic", "delete", "events", "--if-exists", "--format", "json"}},
		{golden: "format-bad", args: []string{"topic", "list", "--format", "yaml"}, code: 2},
		{golden: "command-config-sasl", args: []string{"topic", "list", "--command-config", sasl}, code: 2},
	}
	for _, st := range steps {
		r.check(st)
	}
	// Metadata log: every record type decodes; only its shape is golden.
	out, code := r.run([]string{"dump-log", filepath.Join(n.Dir, "__cluster_metadata-0", "00000000000000000000.log")}, "")
	if code != 0 || !strings.Contains(out, "type: TopicRecord") || !strings.Contains(out, `"name":"retention.ms"`) {
		t.Errorf("dump-log of the metadata log: exit %d\n%s", code, out)
	}
}

// TestCLIErrors covers what the CLI prints when it cannot do anything.
func TestCLIErrors(t *testing.T) {
	t.Parallel()
	port := harness.FreePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	r := newCLIRunner(t, addr)
	r.check(cliStep{golden: "unreachable", args: []string{"topic", "list"}, code: 1})
	r.check(cliStep{golden: "unreachable-flag", args: []string{"cluster", "info", "--bootstrap-server", addr}, code: 1})
	r.check(cliStep{golden: "bad-bootstrap", args: []string{"topic", "list", "--bootstrap-server", "nohostport"}, code: 2})
	for _, args := range [][]string{
		{"--help"}, {"topic", "--help"}, {"topic", "create", "--help"}, {"topic", "list", "--help"}, {"topic", "describe", "--help"},
		{"topic", "delete", "--help"}, {"topic", "add-partitions", "--help"}, {"topic", "producers", "--help"}, {"config", "describe", "--help"}, {"config", "set", "--help"},
		{"config", "delete", "--help"}, {"group", "list", "--help"}, {"group", "describe", "--help"}, {"group", "seek", "--help"},
		{"group", "delete", "--help"}, {"produce", "--help"}, {"consume", "--help"}, {"cluster", "info", "--help"},
		{"cluster", "metadata-quorum", "--help"}, {"dump-log", "--help"}, {"completion", "--help"},
		{"topic", "delete-records", "--help"}, {"cluster", "health", "--help"}, {"cluster", "elect-leaders", "--help"}, {"version", "--help"},
	} {
		out, code := r.run(args, "")
		if code != 0 || !strings.Contains(out, "Examples:") {
			t.Errorf("spool %s: exit %d, want help with examples:\n%s", strings.Join(args, " "), code, out)
		}
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out, code := r.run([]string{"completion", sh}, "")
		if code != 0 || !strings.Contains(out, "spool") {
			t.Errorf("completion %s: exit %d\n%.200s", sh, code, out)
		}
	}
}

func writeFile(t *testing.T, name, body string) string {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCLIGroupsGolden covers the group commands against a live node: a
// consumer commits through `consume --group`, then the group is described,
// reset (dry run and --execute) and deleted.
func TestCLIGroupsGolden(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, map[string]string{"group.initial.rebalance.delay.ms": "0", "offsets.topic.num.partitions": "1"})
	n.Start()
	r := newCLIRunner(t, n.Addr)
	steps := []cliStep{
		{golden: "group-setup-topic", args: []string{"topic", "create", "orders", "--partitions", "2"}},
		{golden: "group-setup-produce", args: []string{"produce", "orders", "--partition", "0"}, stdin: "a\nb\nc\nd\n"},
		{golden: "group-consume", args: []string{"consume", "orders", "--group", "billing", "--from-beginning", "--max-messages", "3"}},
		{golden: "group-list", args: []string{"group", "list"}},
		{golden: "group-list-json", args: []string{"group", "list", "--format", "json"}},
		{golden: "group-describe", args: []string{"group", "describe", "billing"}},
		{golden: "group-describe-json", args: []string{"group", "describe", "billing", "--format", "json"}},
		{golden: "group-describe-missing", args: []string{"group", "describe", "nobody"}, code: 1},
		{golden: "group-seek-dry-run", args: []string{"group", "seek", "billing", "--topic", "orders", "--to-earliest"}},
		{golden: "group-seek-shift", args: []string{"group", "seek", "billing", "--all-topics", "--shift-by", "-1", "--execute"}},
		{golden: "group-seek-datetime-json", args: []string{"group", "seek", "billing", "--topic", "orders", "--to-datetime", "2000-01-01", "--format", "json"}},
		{golden: "group-seek-latest", args: []string{"group", "seek", "billing", "--topic", "orders", "--to-latest", "--execute"}},
		{golden: "group-seek-no-mode", args: []string{"group", "seek", "billing", "--topic", "orders"}, code: 2},
		{golden: "group-describe-after-seek", args: []string{"group", "describe", "billing"}},
		{golden: "group-delete", args: []string{"group", "delete", "billing"}},
	}
	for _, st := range steps {
		r.check(st)
	}
}
