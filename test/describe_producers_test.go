package test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// TestDescribeProducers: after an idempotent producer writes to a
// partition, DescribeProducers lists its id with the epoch and last
// sequence it used there; an unknown topic answers
// UNKNOWN_TOPIC_OR_PARTITION. A single node leads every partition, so
// NOT_LEADER_OR_FOLLOWER is left to the broker's unit test.
func TestDescribeProducers(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, nil)
	n.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "p"); err != nil {
		t.Fatal(err)
	}
	const records = 7
	for i := range records {
		r := &kgo.Record{Topic: "p", Partition: 1, Value: []byte{byte(i)}}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	id, epoch, err := cl.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}

	described, err := adm.DescribeProducers(ctx, kadm.TopicsSet{"p": {0: {}, 1: {}}})
	if err != nil {
		t.Fatal(err)
	}
	parts := described["p"].Partitions
	if got := parts[0]; got.Err != nil || len(got.ActiveProducers) != 0 {
		t.Errorf("partition 0, never written: %+v", got)
	}
	got := parts[1]
	if got.Err != nil || len(got.ActiveProducers) != 1 {
		t.Fatalf("partition 1: %+v, want one producer", got)
	}
	for _, ap := range got.ActiveProducers {
		if ap.ProducerID != id || ap.ProducerEpoch != epoch || ap.LastSequence != records-1 || ap.LastTimestamp <= 0 {
			t.Errorf("partition 1: %+v, want producer %d epoch %d last sequence %d", ap, id, epoch, records-1)
		}
	}

	// Straight to the broker: a client would refuse to route an unknown
	// topic itself.
	req := kmsg.NewPtrDescribeProducersRequest()
	rt := kmsg.NewDescribeProducersRequestTopic()
	rt.Topic, rt.Partitions = "nope", []int32{0}
	req.Topics = append(req.Topics, rt)
	raw, err := harness.Request(n.Addr, req, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	resp := raw.(*kmsg.DescribeProducersResponse)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 || resp.Topics[0].Partitions[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("unknown topic: %+v, want UNKNOWN_TOPIC_OR_PARTITION", resp.Topics)
	}
}
