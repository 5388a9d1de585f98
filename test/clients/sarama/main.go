// Command sarama is the IBM/sarama runner of the client matrix, configured
// for the newest Kafka version sarama knows.
package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"spool/test/clients/internal/spec"
)

const maxBytes = 4 << 20

func main() {
	a := spec.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), a.Timeout)
	defer cancel()
	switch a.Scenario {
	case "admin":
		admin(ctx, a)
	case "produce":
		produce(ctx, a)
	case "group":
		group(ctx, a)
	case "transform":
		transform(ctx, a)
	case "offsets":
		offsets(a)
	case "metadata":
		metadata(ctx, a)
	default:
		spec.Fail("unknown scenario %q", a.Scenario)
	}
}

func config(a spec.Args) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.MaxVersion
	cfg.ClientID = "spool-matrix-sarama"
	cfg.Producer.MaxMessageBytes = maxBytes
	cfg.Consumer.Fetch.Default = maxBytes
	secure(cfg, a.Security)
	return cfg
}

func admin(ctx context.Context, a spec.Args) {
	cfg := config(a)
	// Describing the deleted topic must not create it again.
	cfg.Metadata.AllowAutoTopicCreation = false
	adm, err := sarama.NewClusterAdmin(a.Brokers(), cfg)
	spec.Check(err, "new cluster admin")
	defer adm.Close()
	err = adm.CreateTopic(a.Topic, &sarama.TopicDetail{NumPartitions: int32(a.Partitions), ReplicationFactor: int16(a.RF)}, false)
	spec.Check(err, "create topic")
	for {
		md, err := adm.DescribeTopics([]string{a.Topic})
		spec.Check(err, "describe topic")
		if len(md) == 1 && md[0].Err == sarama.ErrNoError && len(md[0].Partitions) == a.Partitions {
			break
		}
		if ctx.Err() != nil {
			spec.Fail("describe topic: %+v", md)
		}
		time.Sleep(100 * time.Millisecond)
	}
	spec.Check(adm.DeleteTopic(a.Topic), "delete topic")
	for {
		md, err := adm.DescribeTopics([]string{a.Topic})
		spec.Check(err, "describe deleted topic")
		if len(md) == 1 && md[0].Err == sarama.ErrUnknownTopicOrPartition {
			return
		}
		if ctx.Err() != nil {
			spec.Fail("deleted topic still described: %v", md[0].Err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func produce(ctx context.Context, a spec.Args) {
	want := spec.ReadRecords(a.In)
	cfg := config(a)
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Producer.Compression = codec(a.Codec)
	if a.Idempotent || a.Transactional {
		cfg.Producer.Idempotent = true
		cfg.Net.MaxOpenRequests = 1
	}
	if a.Transactional {
		cfg.Producer.Transaction.ID = a.Topic + "-txn"
		// sarama retries a missing transaction coordinator for minutes.
		cfg.Producer.Transaction.Retry.Max = 20
		cfg.Producer.Transaction.Retry.Backoff = 250 * time.Millisecond
	}
	p, err := sarama.NewSyncProducer(a.Brokers(), cfg)
	spec.Check(err, "new producer")
	if a.Transactional {
		for _, commit := range []bool{false, true} {
			spec.Check(p.BeginTxn(), "begin transaction")
			send(p, toSarama(a, want))
			if commit {
				spec.Check(p.CommitTxn(), "commit transaction")
			} else {
				spec.Check(p.AbortTxn(), "abort transaction")
			}
		}
	} else {
		send(p, toSarama(a, want))
	}
	spec.Check(p.Close(), "close producer")
	readBack(ctx, a, spec.PerPartition(want))
}

func toSarama(a spec.Args, want []spec.Record) []*sarama.ProducerMessage {
	msgs := make([]*sarama.ProducerMessage, len(want))
	for i, r := range want {
		m := &sarama.ProducerMessage{Topic: a.Topic, Partition: r.Partition}
		if r.Key != nil {
			m.Key = sarama.ByteEncoder(r.Key)
		}
		if r.Value != nil {
			m.Value = sarama.ByteEncoder(r.Value)
		}
		if r.Timestamp != 0 {
			m.Timestamp = time.UnixMilli(r.Timestamp)
		}
		for _, h := range r.Headers {
			m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(h.Key), Value: h.Value})
		}
		msgs[i] = m
	}
	return msgs
}

func send(p sarama.SyncProducer, msgs []*sarama.ProducerMessage) {
	if err := p.SendMessages(msgs); err != nil {
		var perrs sarama.ProducerErrors
		if errors.As(err, &perrs) && len(perrs) > 0 {
			spec.Fail("produce: %d failed, first: %v", len(perrs), perrs[0].Err)
		}
		spec.Fail("produce: %v", err)
	}
}

func readBack(ctx context.Context, a spec.Args, want map[int32]int) {
	cfg := config(a)
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	c, err := sarama.NewConsumer(a.Brokers(), cfg)
	spec.Check(err, "new consumer")
	defer c.Close()
	var out []spec.Record
	for p, n := range want {
		pc, err := c.ConsumePartition(a.Topic, p, sarama.OffsetOldest)
		spec.Check(err, fmt.Sprintf("consume partition %d", p))
		for got := 0; got < n; got++ {
			select {
			case m := <-pc.Messages():
				out = append(out, fromSarama(m))
			case err := <-pc.Errors():
				spec.Fail("read back partition %d: %v", p, err)
			case <-ctx.Done():
				spec.Fail("read back partition %d: %d of %d records", p, got, n)
			}
		}
		pc.Close()
	}
	spec.WriteLines(a.Out, out)
}

func fromSarama(m *sarama.ConsumerMessage) spec.Record {
	r := spec.Record{Partition: m.Partition, Offset: m.Offset, Key: m.Key, Value: m.Value, Timestamp: m.Timestamp.UnixMilli()}
	for _, h := range m.Headers {
		r.Headers = append(r.Headers, spec.Header{Key: string(h.Key), Value: h.Value})
	}
	return r
}

// handler takes records until it has the count, marks exactly those, and
// commits them before the session ends.
type handler struct {
	count int
	mu    sync.Mutex
	got   []spec.Record
	done  chan struct{}
}

func (h *handler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *handler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for {
		select {
		case m, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			h.mu.Lock()
			if len(h.got) == h.count {
				h.mu.Unlock()
				return nil
			}
			h.got = append(h.got, fromSarama(m))
			sess.MarkMessage(m, "")
			full := len(h.got) == h.count
			h.mu.Unlock()
			if full {
				sess.Commit()
				close(h.done)
				return nil
			}
		case <-sess.Context().Done():
			return nil
		}
	}
}

func group(ctx context.Context, a spec.Args) {
	cfg := config(a)
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	cfg.Consumer.Return.Errors = true
	g, err := sarama.NewConsumerGroup(a.Brokers(), a.Group, cfg)
	spec.Check(err, "new consumer group")
	h := &handler{count: a.Count, done: make(chan struct{})}
	cctx, stop := context.WithCancel(ctx)
	var lastErr error
	var mu sync.Mutex
	go func() {
		for err := range g.Errors() {
			mu.Lock()
			lastErr = err
			mu.Unlock()
		}
	}()
	loop := make(chan error, 1)
	go func() {
		for cctx.Err() == nil {
			if err := g.Consume(cctx, []string{a.Topic}, h); err != nil {
				loop <- err
				return
			}
		}
		loop <- nil
	}()
	select {
	case <-h.done:
	case err := <-loop:
		spec.Fail("consume: %v", err)
	case <-ctx.Done():
		mu.Lock()
		defer mu.Unlock()
		spec.Fail("consumed %d of %d records (last error: %v)", len(h.got), a.Count, lastErr)
	}
	stop()
	<-loop
	spec.Check(g.Close(), "close consumer group")
	mu.Lock()
	err = lastErr
	mu.Unlock()
	spec.Check(err, "consumer group")
	spec.WriteLines(a.Out, h.got)
}

func offsets(a spec.Args) {
	cl, err := sarama.NewClient(a.Brokers(), config(a))
	spec.Check(err, "new client")
	defer cl.Close()
	var out []spec.TimeOffset
	for _, ts := range a.Timestamps {
		o, err := cl.GetOffset(a.Topic, 0, ts)
		spec.Check(err, fmt.Sprintf("offset for %d", ts))
		out = append(out, spec.TimeOffset{Timestamp: ts, Offset: o})
	}
	spec.WriteLines(a.Out, out)
}

// metadata refreshes the topic's metadata with auto-creation allowed
// (sarama's default) until it has partitions.
func metadata(ctx context.Context, a spec.Args) {
	cfg := config(a)
	cfg.Metadata.AllowAutoTopicCreation = true
	cfg.Metadata.Full = false
	cl, err := sarama.NewClient(a.Brokers(), cfg)
	spec.Check(err, "new client")
	defer cl.Close()
	var last spec.Metadata
	for ctx.Err() == nil {
		last = spec.Metadata{}
		if err := cl.RefreshMetadata(a.Topic); err != nil {
			last.Error = err.Error()
		} else if ps, err := cl.Partitions(a.Topic); err != nil {
			last.Error = err.Error()
		} else if len(ps) > 0 {
			last.Found, last.Partitions = true, len(ps)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	spec.WriteLines(a.Out, []spec.Metadata{last})
}

func codec(name string) sarama.CompressionCodec {
	switch name {
	case "gzip":
		return sarama.CompressionGZIP
	case "snappy":
		return sarama.CompressionSnappy
	case "lz4":
		return sarama.CompressionLZ4
	case "zstd":
		return sarama.CompressionZSTD
	case "none", "":
		return sarama.CompressionNone
	}
	spec.Fail("unknown codec %q", name)
	return sarama.CompressionNone
}
