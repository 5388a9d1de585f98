package bench

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const sectionQuotas = "Client quotas"

// quotaSpan is how long each quota-bound client runs: long enough that
// the first burst the sampled windows allow (10 s of quota at Kafka's
// defaults) is a small share of the figure.
const quotaSpan = 30 * time.Second

// BenchmarkClientQuota measures how closely a producer limited to 1 MB/s
// (producer_byte_rate) and a consumer limited to 2 MB/s
// (consumer_byte_rate) are held to their quotas over 30 s each, on spool
// and on Apache Kafka with the same quotas and default sampling. The
// figure is the measured rate as a percentage of the quota.
func BenchmarkClientQuota(b *testing.B) {
	const produceQuota, consumeQuota = 1 << 20, 2 << 20
	run := func(s *server) (produced, consumed float64) {
		defer s.stop()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		admCl, err := kgo.NewClient(kgo.SeedBrokers(s.addr()))
		if err != nil {
			b.Fatal(err)
		}
		defer admCl.Close()
		adm := kadm.NewClient(admCl)
		if _, err := adm.CreateTopic(ctx, 1, 1, nil, "quota-bench"); err != nil {
			b.Fatal(err)
		}
		set := func(client, key string, v float64) {
			name := client
			res, err := adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{{
				Entity: kadm.ClientQuotaEntity{{Type: "client-id", Name: &name}},
				Ops:    []kadm.AlterClientQuotaOp{{Key: key, Value: v}},
			}})
			if err == nil && len(res) == 1 {
				err = res[0].Err
			}
			if err != nil {
				b.Fatalf("%s: set %s: %v", s.name, key, err)
			}
		}
		set("bench-producer", "producer_byte_rate", produceQuota)
		set("bench-consumer", "consumer_byte_rate", consumeQuota)
		time.Sleep(2 * time.Second) // Kafka's brokers apply quotas after the controller answers
		produced = quotaProduce(ctx, b, s.addr(), "bench-producer", quotaSpan, 0)
		// Enough for the consumer never to run dry: 30 s at its quota
		// plus the sampled windows' first burst, and then some.
		quotaProduce(ctx, b, s.addr(), "bench-fill", time.Hour, 96<<20)
		consumed = quotaConsume(ctx, b, s.addr(), quotaSpan)
		return produced, consumed
	}
	sp, sc := run(startPeer(b, "spool"))
	kp, kc := run(startPeer(b, "kafka"))
	pct := func(v, q float64) float64 { return 100 * v / q }
	table.add(row{Section: sectionQuotas, Workload: "producer at producer_byte_rate=1 MiB/s, 30 s: measured rate", Unit: "% of quota", Lower: true,
		Spool: pct(sp, produceQuota), Peers: map[string]float64{"kafka": pct(kp, produceQuota)}})
	table.add(row{Section: sectionQuotas, Workload: "consumer at consumer_byte_rate=2 MiB/s, 30 s: measured rate", Unit: "% of quota", Lower: true,
		Spool: pct(sc, consumeQuota), Peers: map[string]float64{"kafka": pct(kc, consumeQuota)}})
	within := func(v, q float64) bool { return v <= 1.1*q }
	table.target("quota-bound producer within 10% of 1 MiB/s over 30 s", fmt.Sprintf("%.0f%%", pct(sp, produceQuota)), within(sp, produceQuota))
	table.target("quota-bound consumer within 10% of 2 MiB/s over 30 s", fmt.Sprintf("%.0f%%", pct(sc, consumeQuota)), within(sc, consumeQuota))
}

// quotaProduce produces uncompressed 64 KiB calls as client for d, or
// until upTo bytes when upTo is positive, and returns the bytes
// acknowledged per second.
func quotaProduce(ctx context.Context, b *testing.B, addr, client string, d time.Duration, upTo int) float64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ClientID(client), kgo.ProducerLinger(0),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.ProducerBatchMaxBytes(256<<10))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	value := bytes.Repeat([]byte("p"), 8<<10)
	start, total := time.Now(), 0
	for time.Since(start) < d && (upTo <= 0 || total < upTo) {
		recs := make([]*kgo.Record, 8)
		for i := range recs {
			recs[i] = &kgo.Record{Topic: "quota-bench", Value: value}
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			b.Fatalf("produce: %v", err)
		}
		total += len(recs) * len(value)
	}
	return float64(total) / time.Since(start).Seconds()
}

// quotaConsume consumes quota-bench from the start as client
// bench-consumer for d and returns the record bytes per second.
func quotaConsume(ctx context.Context, b *testing.B, addr string, d time.Duration) float64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ClientID("bench-consumer"), kgo.ConsumeTopics("quota-bench"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	start, total := time.Now(), 0
	for time.Since(start) < d {
		fctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := cl.PollFetches(fctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) { total += len(r.Value) })
	}
	return float64(total) / time.Since(start).Seconds()
}
