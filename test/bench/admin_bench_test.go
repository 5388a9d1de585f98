package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const sectionAdmin = "Start-up, admin and groups"

var allPeers = []string{"spool", "kafka", "kfake", "kfake-disk"}

// BenchmarkStartup measures a fresh single node from exec to the first
// answered Metadata request, for spool (which formats its dirs, elects its
// controller, registers and unfences its broker) and for the peers.
func BenchmarkStartup(b *testing.B) {
	measure := func(name string) time.Duration {
		t0 := time.Now()
		var s *server
		if name == "kafka" {
			s = startKafka(b, 1, nil) // not primed: its start is the figure
		} else {
			s = startPeer(b, name)
		}
		defer s.stop()
		cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr()))
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
	kfakeBinary(b) // built before the clock starts
	const rounds = 3
	ms := map[string]float64{}
	for r := 0; r < rounds; r++ {
		for _, p := range allPeers {
			ms[p] += float64(measure(p).Microseconds()) / 1e3 / rounds
		}
	}
	table.add(row{Section: sectionAdmin, Workload: "fresh single node: exec to first Metadata answer (mean of 3)", Unit: "ms", Lower: true,
		Spool: ms["spool"], Peers: map[string]float64{"kafka": ms["kafka"], "kfake": ms["kfake"], "kfake-disk": ms["kfake-disk"]}})
}

// BenchmarkCreateTopics measures partitions created per second: 100 topics
// of 10 partitions, created 10 topics per request.
func BenchmarkCreateTopics(b *testing.B) {
	run := func(s *server) float64 {
		defer s.stop()
		cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr()))
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
	rates := map[string]float64{}
	for _, p := range allPeers {
		rates[p] = run(startPeer(b, p))
	}
	table.add(row{Section: sectionAdmin, Workload: "CreateTopics: 100 topics x 10 partitions, 10 topics a request", Unit: "partitions/s",
		Spool: rates["spool"], Peers: map[string]float64{"kafka": rates["kafka"], "kfake": rates["kfake"], "kfake-disk": rates["kfake-disk"]}})
}
