package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// groupPeers starts spool, Apache Kafka and kfake on disk for the group
// benchmarks. Spool and Kafka run without the initial rebalance delay
// (kfake has none); kfake persists with fsync, as spool's commits do, and
// Kafka flushes every message (log.flush.interval.messages=1), which
// __consumer_offsets takes too: by default it acknowledges commits that
// are only in the page cache.
func groupPeers(b *testing.B) []*server {
	spool := startSpool(b, "group.initial.rebalance.delay.ms=0")
	kafka := startWarmKafka(b, 1, map[string]string{"group.initial.rebalance.delay.ms": "0", "log.flush.interval.messages": "1"})
	kfake := startKfakeDisk(b)
	b.Logf("%s; %s; %s", spool.opts, kafka.opts, kfake.opts)
	return []*server{spool, kafka, kfake}
}

func benchTopic(b *testing.B, addr, topic string, partitions int32) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := kadm.NewClient(cl).CreateTopics(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = res[topic].Err
	}
	if err != nil {
		b.Fatalf("create %s: %v", topic, err)
	}
}

// stabilise starts 10 range members at once on a 60-partition topic and
// returns the time until every member owns its 6 partitions.
func stabilise(b *testing.B, addr, group string) time.Duration {
	var mu sync.Mutex
	owned := map[int]int{}
	t0 := time.Now()
	var clients []*kgo.Client
	for i := range 10 {
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics("wide"),
			kgo.Balancers(kgo.RangeBalancer()),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
				mu.Lock()
				owned[i] += len(a["wide"])
				mu.Unlock()
			}),
			kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, r map[string][]int32) {
				mu.Lock()
				owned[i] -= len(r["wide"])
				mu.Unlock()
			}))
		if err != nil {
			b.Fatal(err)
		}
		clients = append(clients, cl)
		go func() {
			for !cl.PollFetches(context.Background()).IsClientClosed() {
			}
		}()
	}
	defer func() {
		for _, cl := range clients {
			cl.Close()
		}
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		mu.Lock()
		done := len(owned) == 10
		for _, n := range owned {
			done = done && n == 6
		}
		mu.Unlock()
		if done {
			return time.Since(t0)
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Fatalf("group %s did not stabilise", group)
	return 0
}

// BenchmarkGroupStabilise measures how long 10 members take to form a
// stable group over 60 partitions.
func BenchmarkGroupStabilise(b *testing.B) {
	const rounds = 5
	totals := map[string]time.Duration{}
	for _, s := range groupPeers(b) {
		benchTopic(b, s.addr(), "wide", 60)
		for i := 0; i < rounds; i++ {
			totals[s.name] += stabilise(b, s.addr(), fmt.Sprintf("g%d", i))
		}
		s.stop()
	}
	ms := func(p string) float64 { return float64(totals[p].Microseconds()) / 1e3 / rounds }
	table.add(row{Section: sectionAdmin, Workload: "10 consumers join one group over 60 partitions: until stable (mean of 5)", Unit: "ms", Lower: true,
		Spool: ms("spool"), Peers: map[string]float64{"kafka": ms("kafka"), "kfake-disk": ms("kfake-disk")},
		Note: "spool and kafka with group.initial.rebalance.delay.ms=0, as kfake has no delay"})
}

// BenchmarkOffsetCommits measures durable offset commits per second: 8
// committers, each its own group, committing one partition per request,
// for one cell (BENCH_CELL) after a warm-up.
func BenchmarkOffsetCommits(b *testing.B) {
	rates := map[string]float64{}
	for _, s := range groupPeers(b) {
		benchTopic(b, s.addr(), "commits", 8)
		c := cellTimes()
		rates[s.name] = commitRate(b, s.addr(), 8, c.warm, c.measure)
		s.stop()
	}
	table.add(row{Section: sectionAdmin, Workload: "durable offset commits, 8 committers", Unit: "commits/s",
		Spool: rates["spool"], Peers: map[string]float64{"kafka": rates["kafka"], "kfake-disk": rates["kfake-disk"]},
		Note: "kafka with log.flush.interval.messages=1, so that its commits are on disk when acknowledged, as spool's and kfake-disk's are"})
}

func commitRate(b *testing.B, addr string, workers int, warm, measure time.Duration) float64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	var count atomic.Int64
	var counting atomic.Bool
	ctx, cancel := context.WithTimeout(context.Background(), warm+measure)
	defer cancel()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for off := int64(0); ctx.Err() == nil; off++ {
				o := kadm.Offsets{}
				o.Add(kadm.Offset{Topic: "commits", Partition: int32(w), At: off, LeaderEpoch: -1})
				resp, err := adm.CommitOffsets(ctx, fmt.Sprintf("c%d", w), o)
				if err != nil || resp.Error() != nil {
					if ctx.Err() != nil {
						return
					}
					b.Errorf("commit: %v %v", err, resp.Error())
					return
				}
				if counting.Load() {
					count.Add(1)
				}
			}
		}()
	}
	time.Sleep(warm)
	counting.Store(true)
	t0 := time.Now()
	wg.Wait()
	return float64(count.Load()) / time.Since(t0).Seconds()
}
