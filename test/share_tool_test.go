package test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
	"spool/test/peers/kafkapeer"
)

// shareTool runs Kafka's kafka-share-groups against addr.
func shareTool(t *testing.T, addr string, args ...string) string {
	t.Helper()
	ctx := ctxT(t, 2*time.Minute)
	out, err := kafkapeer.Tool(ctx, "kafka-share-groups", append([]string{"--bootstrap-server", addr}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("kafka-share-groups %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// wantRow fails unless out has a line matching the fields, separated by
// any run of spaces.
func wantRow(t *testing.T, out string, fields ...string) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^\s*` + strings.Join(fields, `\s+`) + `\s*$`)
	if !re.MatchString(out) {
		t.Fatalf("no row %q in:\n%s", fields, out)
	}
}

// waitShareState polls ShareGroupDescribe until group is in state.
func waitShareState(t *testing.T, addr, group, state string, d time.Duration) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		req := kmsg.NewPtrShareGroupDescribeRequest()
		req.SetVersion(1)
		req.GroupIDs = []string{group}
		raw, err := harness.Request(addr, req, 10*time.Second)
		if err != nil {
			last = err.Error()
			continue
		}
		g := raw.(*kmsg.ShareGroupDescribeResponse).Groups[0]
		if g.ErrorCode == 0 && g.GroupState == state {
			return
		}
		last = fmt.Sprintf("%+v", g)
	}
	t.Fatalf("share group %s not %s within %v: %s", group, state, d, last)
}

// TestShareGroupsTool: Kafka's kafka-share-groups lists, describes
// (offsets, members, state), resets, deletes the offsets of and deletes a
// share group consumed by a Java KafkaShareConsumer.
func TestShareGroupsTool(t *testing.T) {
	t.Parallel()
	n := shareNode(t, nil)
	grpTopic(t, n.Addr, "st", 2)
	c := startShareConsumer(t, n.Addr, "sgt", "st", "accept", 3*time.Minute)
	waitShare(t, c.ready, 2*time.Minute, "the consumer")
	waitShareStarted(t, n.Addr, "sgt", "st", 2, time.Minute)
	grpProduce(t, n.Addr, "st", 40)
	checkShareOffsets(t, n.Addr, "sgt", "st", []int64{20, 20})

	wantRow(t, shareTool(t, n.Addr, "--list"), "sgt")
	out := shareTool(t, n.Addr, "--describe", "--group", "sgt")
	wantRow(t, out, "sgt", "st", "0", "20", "0")
	wantRow(t, out, "sgt", "st", "1", "20", "0")
	out = shareTool(t, n.Addr, "--describe", "--group", "sgt", "--members")
	wantRow(t, out, "sgt", `\S+`, "/127.0.0.1", `share-accept-\d+`, "2", "st:0,1")
	wantRow(t, shareTool(t, n.Addr, "--describe", "--group", "sgt", "--state"), "sgt", `\S+`, `\(1\)`, "Stable", "1")

	// spool group list and describe show it too, with its lag.
	if out, code := harness.Run(t, "group", "list", "--bootstrap-server", n.Addr); code != 0 || !regexp.MustCompile(`(?m)^sgt\s+share\s+Stable`).MatchString(out) {
		t.Fatalf("spool group list: exit %d\n%s", code, out)
	}
	out, code := harness.Run(t, "group", "describe", "sgt", "--bootstrap-server", n.Addr)
	if code != 0 {
		t.Fatalf("spool group describe: exit %d\n%s", code, out)
	}
	for _, row := range [][]string{{"Protocol:", "share/simple"}, {"Total lag:", "0"}, {"st", "0", "20", "20", "0"}, {"st", "1", "20", "20", "0"}} {
		if !regexp.MustCompile(`(?m)^\s*` + strings.Join(row, `\s+`)).MatchString(out) {
			t.Fatalf("spool group describe has no %q:\n%s", row, out)
		}
	}

	// Offsets of a group with members stay as they are.
	ctx := ctxT(t, time.Minute)
	busy, _ := kafkapeer.Tool(ctx, "kafka-share-groups", "--bootstrap-server", n.Addr, "--reset-offsets", "--to-earliest", "--execute", "--group", "sgt", "--topic", "st").CombinedOutput()
	if !strings.Contains(string(busy), "is not empty") {
		t.Fatalf("reset of a group with a member:\n%s", busy)
	}

	// Killed, the member is removed once its session times out.
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	waitShareState(t, n.Addr, "sgt", "Empty", time.Minute)
	wantRow(t, shareTool(t, n.Addr, "--describe", "--group", "sgt", "--state"), "sgt", `\S+`, `\(1\)`, "Empty", "0")
	shareTool(t, n.Addr, "--reset-offsets", "--to-earliest", "--execute", "--group", "sgt", "--topic", "st")
	out = shareTool(t, n.Addr, "--describe", "--group", "sgt")
	wantRow(t, out, "sgt", "st", "0", "0", "20")
	wantRow(t, out, "sgt", "st", "1", "0", "20")

	wantRow(t, shareTool(t, n.Addr, "--delete-offsets", "--group", "sgt", "--topic", "st"), "st", "Successful")
	if out := shareTool(t, n.Addr, "--describe", "--group", "sgt"); !strings.Contains(out, "has no offset information") {
		t.Fatalf("describe after delete-offsets:\n%s", out)
	}
	if out := shareTool(t, n.Addr, "--delete", "--group", "sgt"); !strings.Contains(out, "was successful") {
		t.Fatalf("delete:\n%s", out)
	}
	if out := shareTool(t, n.Addr, "--list"); strings.Contains(out, "sgt") {
		t.Fatalf("the deleted group is still listed:\n%s", out)
	}
}
