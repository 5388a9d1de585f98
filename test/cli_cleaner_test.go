package test

import (
	"strings"
	"testing"
	"time"

	"spool/test/harness"
)

// TestCLICleanerGolden shows a compacted topic's CLEANER section once the
// cleaner has run over it.
func TestCLICleanerGolden(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, map[string]string{"log.cleaner.backoff.ms": "100"})
	n.Start()
	r := newCLIRunner(t, n.Addr)
	// Every batch rolls a segment, so each produce gives the cleaner a
	// closed segment to work on.
	r.check(cliStep{golden: "cleaner-setup-topic", args: []string{"topic", "create", "cleaned", "--partitions", "1",
		"--config", "cleanup.policy=compact", "--config", "internal.segment.bytes=100", "--config", "min.cleanable.dirty.ratio=0.01"}})
	for _, v := range []string{"k:1", "k:2", "k:3"} {
		if out, code := r.run([]string{"produce", "cleaned", "--key-separator", ":"}, v+"\n"); code != 0 {
			t.Fatalf("produce %s: exit %d\n%s", v, code, out)
		}
	}
	// Cleaned through offset 2 (the active segment's base) is the final
	// state, whichever cleans ran in between.
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := r.run([]string{"topic", "describe", "cleaned", "--format", "json"}, "")
		if strings.Contains(out, `"first_dirty_offset": 2`) && strings.Contains(out, `"last_clean"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cleaner never cleaned the topic through offset 2:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.check(cliStep{golden: "topic-describe-cleaned", args: []string{"topic", "describe", "cleaned"}})
	r.check(cliStep{golden: "topic-describe-cleaned-json", args: []string{"topic", "describe", "cleaned", "--format", "json"}})
}
