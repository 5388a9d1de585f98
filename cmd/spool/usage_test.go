package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestCutMiddle(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"spool-cli-3c06a2ec-9f0e-44f9-8cbe-e29acce90ebc", 14, "spool-…ce90ebc"},
		{"abcdef", 5, "ab…ef"},
	} {
		if got := cutMiddle(c.in, c.n); got != c.want || len([]rune(got)) > max(c.n, len(c.in)) {
			t.Errorf("cutMiddle(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func TestFitColumns(t *testing.T) {
	header := []string{"TOPIC", "PARTITION", "MEMBER-ID"}
	rows := [][]string{{"orders", "0", strings.Repeat("m", 100)}}
	w := fitColumns(header, rows, 80)
	if total := w[0] + w[1] + w[2] + 4; total != 80 {
		t.Errorf("widths %v: total %d, want 80", w, total)
	}
	// Without an elastic column nothing is cut, however wide.
	w = fitColumns([]string{"TOPIC"}, [][]string{{strings.Repeat("t", 100)}}, 80)
	if w[0] != 100 {
		t.Errorf("a topic name was cut to %d", w[0])
	}
}

// TestTableFits prints a group's members as `group describe` does.
func TestTableFits(t *testing.T) {
	var b bytes.Buffer
	p := &printer{w: &b}
	p.table([]string{"MEMBER-ID", "CLIENT-ID", "HOST", "ASSIGNMENT"}, [][]string{
		{"spool-cli-3c06a2ec-9f0e-44f9-8cbe-e29acce90ebc", "spool-cli", "/127.0.0.1", "orders:0,1,2 payments:0,1,2,3"},
	})
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if n := len([]rune(l)); n > defaultWidth {
			t.Errorf("%d columns: %q", n, l)
		}
	}
}

func TestSuggestFlags(t *testing.T) {
	root := newRootCmd()
	cmd, _, err := root.Find([]string{"topic", "create"})
	if err != nil {
		t.Fatal(err)
	}
	if got := suggestFlags(cmd, "partitons"); len(got) == 0 || got[0] != "--partitions" {
		t.Errorf("suggestions for --partitons: %v", got)
	}
	if got := suggestFlags(cmd, "zzzzzzzz"); len(got) != 0 {
		t.Errorf("suggestions for --zzzzzzzz: %v", got)
	}
}

func TestExitCodes(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"topic", "creat", "x"}, 2},
		{[]string{"topic", "create", "--bogus"}, 2},
		{[]string{"version"}, 0},
		{[]string{"topic"}, 0},
	} {
		root := newRootCmd()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		if got := execute(root, c.args); got != c.code {
			t.Errorf("spool %s: exit %d, want %d\n%s", strings.Join(c.args, " "), got, c.code, out.String())
		}
	}
}
