package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkStartup measures a fresh single node from exec to the first
// answered Metadata request, for spool (which formats its dirs, elects its
// controller, registers and unfences its broker) and for kfake.
func BenchmarkStartup(b *testing.B) {
	measure := func(start func(testing.TB) *server) time.Duration {
		t0 := time.Now()
		s := start(b)
		defer s.stop()
		cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr))
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := kadm.NewClient(cl).BrokerMetadata(ctx); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	const rounds = 5
	var spool, kfake time.Duration
	for i := 0; i < b.N; i++ {
		for r := 0; r < rounds; r++ {
			spool += measure(func(tb testing.TB) *server { return startSpool(tb) })
			kfake += measure(func(tb testing.TB) *server { return startKfake(tb) })
		}
	}
	n := float64(b.N * rounds)
	b.ReportMetric(float64(spool.Milliseconds())/n, "spool-ms")
	b.ReportMetric(float64(kfake.Milliseconds())/n, "kfake-ms")
	b.ReportMetric(float64(spool)/float64(kfake), "spool/kfake")
}

// BenchmarkCreateTopics measures partitions created per second: 100 topics
// of 10 partitions, created 10 topics per request.
func BenchmarkCreateTopics(b *testing.B) {
	run := func(s *server) float64 {
		defer s.stop()
		cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr))
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		adm := kadm.NewClient(cl)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		const topics, perRequest, partitions = 100, 10, 10
		t0 := time.Now()
		for i := 0; i < topics; i += perRequest {
			names := make([]string, perRequest)
			for j := range names {
				names[j] = fmt.Sprintf("bench-%d", i+j)
			}
			res, err := adm.CreateTopics(ctx, partitions, 1, nil, names...)
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range res {
				if r.Err != nil {
					b.Fatalf("%s: %v", r.Topic, r.Err)
				}
			}
		}
		return topics * partitions / time.Since(t0).Seconds()
	}
	var spool, kfake float64
	for i := 0; i < b.N; i++ {
		spool += run(startSpool(b))
		kfake += run(startKfake(b))
	}
	b.ReportMetric(spool/float64(b.N), "spool-partitions/s")
	b.ReportMetric(kfake/float64(b.N), "kfake-partitions/s")
	b.ReportMetric(spool/kfake, "spool/kfake")
}
