package bench

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// throughput produces n records of size bytes to a fresh topic with the
// given partitions (acks=all, idempotent), then consumes them all back,
// and returns records per second for each phase.
func throughput(b *testing.B, addrs []string, topic string, partitions int32, rf int16, configs map[string]*string, n, size int) (produce, consume float64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	admCl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		b.Fatal(err)
	}
	defer admCl.Close()
	res, err := kadm.NewClient(admCl).CreateTopics(ctx, partitions, rf, configs, topic)
	if err != nil || res[topic].Err != nil {
		b.Fatalf("create %s: %v %v", topic, err, res[topic].Err)
	}
	time.Sleep(500 * time.Millisecond) // let every broker see the topic

	pcl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerBatchMaxBytes(1<<20), kgo.MaxBufferedRecords(100000),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		b.Fatal(err)
	}
	value := make([]byte, size)
	var wg sync.WaitGroup
	var failed error
	var mu sync.Mutex
	t0 := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		pcl.Produce(ctx, &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				failed = err
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	produce = float64(n) / time.Since(t0).Seconds()
	pcl.Close()
	if failed != nil {
		b.Fatalf("produce: %v", failed)
	}

	ccl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(64<<20), kgo.FetchMaxPartitionBytes(16<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer ccl.Close()
	t0 = time.Now()
	got := 0
	for got < n {
		fs := ccl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			b.Fatalf("consumed %d of %d: %v", got, n, err)
		}
		got += fs.NumRecords()
	}
	consume = float64(n) / time.Since(t0).Seconds()
	return produce, consume
}

// BenchmarkThroughput produces then consumes 1 KiB records with acks=all
// against spool and kfake (each its own process), on 1 and 8 partitions,
// and reports records/s, MB/s and the spool/kfake ratios.
func BenchmarkThroughput(b *testing.B) {
	const size = 1024
	n := envInt("SPOOL_BENCH_RECORDS", 200000)
	for _, partitions := range []int32{1, 8} {
		b.Run(fmt.Sprintf("partitions=%d", partitions), func(b *testing.B) {
			var sp, sc, kp, kc float64
			for i := 0; i < b.N; i++ {
				s := startSpool(b)
				p, c := throughput(b, []string{s.addr}, "bench", partitions, 1, nil, n, size)
				s.stop()
				k := startKfake(b)
				kp2, kc2 := throughput(b, []string{k.addr}, "bench", partitions, 1, nil, n, size)
				k.stop()
				sp, sc, kp, kc = sp+p, sc+c, kp+kp2, kc+kc2
			}
			N := float64(b.N)
			report(b, "produce", sp/N, kp/N, size)
			report(b, "consume", sc/N, kc/N, size)
		})
	}
}

func report(b *testing.B, phase string, spool, kfake float64, size int) {
	b.ReportMetric(spool, phase+"-spool-rec/s")
	b.ReportMetric(kfake, phase+"-kfake-rec/s")
	b.ReportMetric(spool*float64(size)/1e6, phase+"-spool-MB/s")
	b.ReportMetric(spool/kfake, phase+"-spool/kfake")
}
