package main

import (
	"context"
	"errors"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// transform consumes --count records in --group read_committed and, in one
// transaction, produces them to --to and sends their offsets to the
// transaction with the consumer's group metadata; with --abort it aborts
// that transaction.
func transform(ctx context.Context, a args) {
	c := consumer(a, "group.id", a.group, "auto.offset.reset", "earliest")
	check(c.Subscribe(a.topic, nil), "subscribe")
	var got []record
	var offsets []kafka.TopicPartition
	next := map[int32]int64{}
	for len(got) < a.count {
		m, err := c.ReadMessage(time.Second)
		if ctx.Err() != nil {
			fail("consumed %d of %d records", len(got), a.count)
		}
		var kerr kafka.Error
		if errors.As(err, &kerr) && kerr.IsTimeout() {
			continue
		}
		check(err, "consume")
		got = append(got, fromMsg(m))
		next[m.TopicPartition.Partition] = int64(m.TopicPartition.Offset) + 1
	}
	for p, o := range next {
		offsets = append(offsets, kafka.TopicPartition{Topic: &a.topic, Partition: p, Offset: kafka.Offset(o)})
	}

	p, err := kafka.NewProducer(cfg(a, "acks", "all", "enable.idempotence", true, "transactional.id", a.topic+"-txn",
		"message.max.bytes", maxBytes, "linger.ms", 5))
	check(err, "new producer")
	defer p.Close()
	check(p.InitTransactions(ctx), "init transactions")
	check(p.BeginTransaction(), "begin transaction")
	to := a
	to.topic = a.to
	send(ctx, to, p, got)
	md, err := c.GetConsumerGroupMetadata()
	check(err, "consumer group metadata")
	check(p.SendOffsetsToTransaction(ctx, offsets, md), "send offsets to the transaction")
	if a.abort {
		check(p.AbortTransaction(ctx), "abort transaction")
	} else {
		check(p.CommitTransaction(ctx), "commit transaction")
	}
	check(c.Close(), "close consumer")
	writeLines(a.out, got)
}
