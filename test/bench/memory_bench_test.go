package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// rss reads a process's resident set size in bytes from /proc.
func rss(b *testing.B, pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

func openFDs(pid int) int {
	entries, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(entries)
}

// BenchmarkIdlePartitionMemory creates 10,000 single-replica partitions on
// one node and reports the resident memory they added per partition, the
// open descriptors, and how fast they were created.
func BenchmarkIdlePartitionMemory(b *testing.B) {
	total := envInt("SPOOL_BENCH_PARTITIONS", 10000)
	const perTopic = 500
	for i := 0; i < b.N; i++ {
		s := startSpool(b)
		cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr))
		if err != nil {
			b.Fatal(err)
		}
		adm := kadm.NewClient(cl)
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		if _, err := adm.CreateTopics(ctx, 1, 1, nil, "warm"); err != nil {
			b.Fatal(err)
		}
		time.Sleep(time.Second)
		before := rss(b, s.cmd.Process.Pid)
		t0 := time.Now()
		for done := 0; done < total; done += perTopic {
			res, err := adm.CreateTopics(ctx, perTopic, 1, nil, fmt.Sprintf("idle-%d", done))
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range res {
				if r.Err != nil {
					b.Fatalf("%s: %v", r.Topic, r.Err)
				}
			}
		}
		created := time.Since(t0)
		time.Sleep(3 * time.Second)
		after := rss(b, s.cmd.Process.Pid)
		b.ReportMetric(float64(after-before)/float64(total), "rss-bytes/partition")
		b.ReportMetric(float64(total)/created.Seconds(), "partitions-created/s")
		b.ReportMetric(float64(openFDs(s.cmd.Process.Pid)), "open-fds")
		cancel()
		cl.Close()
		s.stop()
	}
}
