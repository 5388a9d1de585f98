package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkIdlePartitionMemory creates 10,000 single-replica partitions on
// one node and reports the resident memory they added per partition, the
// open descriptors, and how fast they were created.
func BenchmarkIdlePartitionMemory(b *testing.B) {
	total := envInt("SPOOL_BENCH_PARTITIONS", 10000)
	s := startSpool(b)
	defer s.stop()
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if _, err := adm.CreateTopics(ctx, 1, 1, nil, "warm"); err != nil {
		b.Fatal(err)
	}
	time.Sleep(time.Second)
	pid := s.pids[0]
	before := pid.rss()
	t0 := time.Now()
	if err := createPartitions(ctx, adm, "idle", total, 500); err != nil {
		b.Fatal(err)
	}
	created := time.Since(t0)
	time.Sleep(3 * time.Second)
	after := pid.rss()
	w := fmt.Sprintf("%d idle partitions on one node", total)
	table.add(row{Section: sectionAdmin, Workload: w + ": resident memory added per partition", Unit: "KiB", Lower: true, Spool: float64(after-before) / float64(total) / 1024})
	table.add(row{Section: sectionAdmin, Workload: w + ": created per second (500 a topic, one topic a request)", Unit: "partitions/s", Spool: float64(total) / created.Seconds()})
	table.add(row{Section: sectionAdmin, Workload: w + ": open descriptors", Unit: "fds", Lower: true, Spool: float64(pid.openFDs())})
}

// createPartitions creates total partitions as topics prefix-N of perTopic
// partitions each, one topic a request.
func createPartitions(ctx context.Context, adm *kadm.Client, prefix string, total, perTopic int) error {
	for done := 0; done < total; done += perTopic {
		n := min(perTopic, total-done)
		res, err := adm.CreateTopics(ctx, int32(n), 1, nil, fmt.Sprintf("%s-%d", prefix, done))
		if err != nil {
			return err
		}
		for _, r := range res {
			if r.Err != nil {
				return fmt.Errorf("%s: %w", r.Topic, r.Err)
			}
		}
	}
	return nil
}
