package test

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// TestCLIAgainstKfake runs the same CLI commands against franz-go's kfake,
// a second Kafka implementation, for the operations kfake supports: the
// CLI is a Kafka tool, not a spool-only one.
func TestCLIAgainstKfake(t *testing.T) {
	t.Parallel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.ClusterID("kfake-cluster"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := newCLIRunner(t, c.ListenAddrs()[0])
	steps := []struct {
		args  []string
		stdin string
		want  []string // substrings of the output
		not   []string // substrings it must lack
	}{
		{args: []string{"topic", "create", "orders", "--partitions", "3", "--config", "retention.ms=60000"}, want: []string{"Created topic orders with 3 partitions"}},
		{args: []string{"topic", "list"}, want: []string{"orders  3  1"}},
		{args: []string{"topic", "add-partitions", "orders", "--total", "4"}, want: []string{"now has 4 partitions"}},
		{args: []string{"produce", "orders", "--key-separator", ":", "--partition", "0"}, stdin: "a:1\nb:2\n", want: []string{"Produced 2 records"}},
		{args: []string{"consume", "orders", "--partition", "0", "--from-beginning", "-n", "2", "--print-key"}, want: []string{"a\t1\nb\t2\n"}},
		{args: []string{"topic", "describe", "orders", "--format", "json"}, want: []string{`"high_watermark": 2`, `"retention.ms": "60000"`}},
		{args: []string{"config", "set", "--topic", "orders", "max.message.bytes=2097152"}, want: []string{"Updated topic orders"}},
		{args: []string{"config", "describe", "--topic", "orders"}, want: []string{"max.message.bytes  2097152", "retention.ms  60000"}},
		{args: []string{"config", "delete", "--topic", "orders", "retention.ms"}, want: []string{"deleted retention.ms"}},
		{args: []string{"consume", "orders", "--group", "g", "--from-beginning", "-n", "2"}, want: []string{"1\n2\n"}},
		{args: []string{"group", "list"}, want: []string{"g  consumer"}},
		{args: []string{"group", "describe", "g"}, want: []string{"Group:  g", "orders  0  2  2  0"}},
		{args: []string{"group", "seek", "g", "--topic", "orders", "--to-earliest"}, want: []string{"orders  0  2  0", "Dry run"}},
		{args: []string{"group", "seek", "g", "--topic", "orders", "--to-earliest", "--execute"}, want: []string{"Committed the new offsets"}},
		{args: []string{"group", "describe", "g", "--format", "json"}, want: []string{`"lag": 2`}},
		{args: []string{"group", "delete", "g"}, want: []string{"Deleted group g."}},
		{args: []string{"cluster", "info"}, want: []string{"Cluster ID: kfake-cluster"}},
		// kfake lacks Spool's private cleaner API: the section is left out.
		{args: []string{"topic", "create", "logs", "--partitions", "1", "--config", "cleanup.policy=compact"}, want: []string{"Created topic logs"}},
		{args: []string{"topic", "describe", "logs"}, want: []string{"cleanup.policy=compact", "PARTITION"}, not: []string{"CLEANER"}},
		{args: []string{"topic", "describe", "logs", "--format", "json"}, want: []string{`"topic": "logs"`}, not: []string{"cleaner"}},
		{args: []string{"topic", "delete", "orders"}, want: []string{"Deleted topic orders."}},
	}
	for _, st := range steps {
		out, code := r.run(st.args, st.stdin)
		if code != 0 {
			t.Errorf("kfake: spool %s: exit %d\n%s", strings.Join(st.args, " "), code, out)
			continue
		}
		for _, w := range st.want {
			if !strings.Contains(out, w) {
				t.Errorf("kfake: spool %s: output lacks %q:\n%s", strings.Join(st.args, " "), w, out)
			}
		}
		for _, w := range st.not {
			if strings.Contains(out, w) {
				t.Errorf("kfake: spool %s: output has %q:\n%s", strings.Join(st.args, " "), w, out)
			}
		}
	}
}
