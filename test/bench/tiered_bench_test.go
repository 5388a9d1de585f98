package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
	"spool/test/s3server"
)

const sectionTiered = "Tiered storage"

// BenchmarkTieredConsume produces the same 64 MiB of 1 KiB records to a
// plain topic and to a tiered topic (1 MiB segments, 2 MiB local
// retention) on one broker, waits until all but the tiered topic's local
// tail is in the bucket (versitygw on local disk, started by the
// benchmark), and then measures a franz-go consumer reading each from
// offset 0 over and over: local reads against remote ones in the same run. The chunk cache (8 MiB)
// is smaller than the data, so every pass reads the bucket again.
func BenchmarkTieredConsume(b *testing.B) {
	srv := s3server.Start(b, "bench")
	n := harness.SingleNode(b, map[string]string{
		"remote.log.storage.system.enable": "true", "remote.log.manager.task.interval.ms": "500",
		"rsm.config.storage.s3.bucket.name": srv.Bucket, "rsm.config.storage.s3.endpoint.url": srv.URL,
		"rsm.config.storage.s3.path.style.access.enabled": "true", "rsm.config.storage.s3.region": s3server.Region,
		"rsm.config.storage.aws.access.key.id": s3server.AccessKey, "rsm.config.storage.aws.secret.access.key": s3server.SecretKey,
		"rsm.config.fetch.chunk.cache.size": fmt.Sprint(8 << 20),
	})
	n.Start()
	defer n.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	addrs := []string{n.Addr}
	seg := "1048576"
	if err := createTopic(ctx, addrs, "local", 1, 1, map[string]*string{"segment.bytes": &seg}); err != nil {
		b.Fatal(err)
	}
	on, local := "true", "2097152"
	if err := createTopic(ctx, addrs, "tiered", 1, 1, map[string]*string{"segment.bytes": &seg, "remote.storage.enable": &on, "local.retention.bytes": &local}); err != nil {
		b.Fatal(err)
	}
	const records = 64 << 10
	cl, err := producer(addrs, "", "1", 10*time.Millisecond)
	if err != nil {
		b.Fatal(err)
	}
	value := randomValue(1024)
	for i := 0; i < records; i++ {
		cl.Produce(ctx, &kgo.Record{Topic: "local", Value: value}, nil)
		cl.Produce(ctx, &kgo.Record{Topic: "tiered", Value: value}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	cl.Close()
	for localStart(b, n.Addr, "tiered") < records*9/10 {
		if ctx.Err() != nil {
			b.Fatal("the tiered topic's segments were not copied in time")
		}
		time.Sleep(200 * time.Millisecond)
	}
	c := cellTimes()
	rates := map[string]float64{}
	for _, topic := range []string{"local", "tiered"} {
		rate, _, err := consumeRate(ctx, addrs, topic, records, c)
		if err != nil {
			b.Fatal(err)
		}
		rates[topic] = rate * 1024 / 1e6
	}
	table.add(row{Section: sectionTiered, Workload: "consume 64 MiB from offset 0, 1 KiB records: local log", Unit: "MB/s", Spool: rates["local"]})
	table.add(row{Section: sectionTiered, Workload: "the same from the object store (90%+ remote, versitygw on local disk, 4 MiB ranged GETs, 8 MiB chunk cache)", Unit: "MB/s", Spool: rates["tiered"]})
}

// localStart is the partition's local log start (ListOffsets -4).
func localStart(b *testing.B, addr, topic string) int64 {
	req := kmsg.NewPtrListOffsetsRequest()
	req.Version, req.ReplicaID = 9, -1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp, rp.CurrentLeaderEpoch = -4, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := harness.Request(addr, req, 30*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	return resp.(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0].Offset
}
