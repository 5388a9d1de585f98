package test

import (
	"encoding/json"
	"strings"
	"testing"

	"spool/test/harness"
)

// `spool quota` sets, describes (table and JSON) and removes quotas, and
// refuses bad input with a clear message and a non-zero exit.
func TestQuotaCLI(t *testing.T) {
	n := harness.SingleNode(t, nil)
	n.Start()
	run := func(want int, args ...string) string {
		t.Helper()
		out, code := harness.Run(t, append(args, "--bootstrap-server", n.Addr, "--timeout", "30s")...)
		if code != want {
			t.Fatalf("spool %v: exit %d, want %d\n%s", args, code, want, out)
		}
		return out
	}
	out := run(0, "quota", "alter", "--user", "alice", "--add-config", "producer_byte_rate=1048576,consumer_byte_rate=2097152")
	if !strings.Contains(out, "Set: producer_byte_rate=1048576 for user=alice") {
		t.Fatalf("alter output:\n%s", out)
	}
	run(0, "quota", "alter", "--user", "alice", "--client-id", "app", "--add-config", "request_percentage=12.5")
	run(0, "quota", "alter", "--client-id-default", "--add-config", "producer_byte_rate=4096")
	table := run(0, "quota", "describe")
	for _, want := range []string{"user=alice,client-id=app", "request_percentage", "12.5", "client-id=<default>", "4096", "consumer_byte_rate"} {
		if !strings.Contains(table, want) {
			t.Fatalf("describe table lacks %q:\n%s", want, table)
		}
	}
	var got []struct {
		Entity map[string]*string
		Values map[string]float64
	}
	if err := json.Unmarshal([]byte(run(0, "quota", "describe", "--user", "alice", "--strict", "--format", "json")), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || *got[0].Entity["user"] != "alice" || got[0].Values["producer_byte_rate"] != 1048576 || len(got[0].Values) != 2 {
		t.Fatalf("describe --user alice --strict: %+v", got)
	}
	run(0, "quota", "alter", "--user", "alice", "--delete-config", "producer_byte_rate")
	got = nil
	if err := json.Unmarshal([]byte(run(0, "quota", "describe", "--user", "alice", "--strict", "--format", "json")), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Values) != 1 {
		t.Fatalf("after --delete-config: %+v", got)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"quota", "alter", "--add-config", "producer_byte_rate=1"}, "name an entity"},
		{[]string{"quota", "alter", "--user", "bob"}, "nothing to change"},
		{[]string{"quota", "alter", "--user", "bob", "--add-config", "producer_byte_rate"}, "want key=number"},
		{[]string{"quota", "alter", "--user", "bob", "--user-default", "--add-config", "producer_byte_rate=1"}, "give one"},
		{[]string{"quota", "alter", "--user", "bob", "--add-config", "bytes_per_fortnight=1"}, "Invalid configuration key"},
		{[]string{"quota", "alter", "--user", "bob", "--add-config", "producer_byte_rate=1.5"}, "must be a Long value"},
		{[]string{"quota", "alter", "--ip", "10.0.0.1", "--user", "bob", "--add-config", "producer_byte_rate=1"}, "IP entity should not be combined"},
	} {
		out, code := harness.Run(t, append(bad.args, "--bootstrap-server", n.Addr, "--timeout", "30s")...)
		if code == 0 || !strings.Contains(out, bad.want) {
			t.Errorf("spool %v: exit %d, want a failure saying %q:\n%s", bad.args, code, bad.want, out)
		}
	}
}
