// Command kafkago is the segmentio/kafka-go runner of the client matrix.
package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"spool/test/clients/internal/spec"
)

const maxBytes = 4 << 20

// maxWait bounds the Reader's long poll: Close waits for the poll in flight.
const maxWait = 500 * time.Millisecond

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
	case "offsets":
		offsets(ctx, a)
	case "metadata":
		metadata(ctx, a)
	default:
		spec.Fail("unknown scenario %q", a.Scenario)
	}
}

func client(a spec.Args) *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(a.Brokers()...), Timeout: 10 * time.Second, Transport: transport(a.Security)}
}

func admin(ctx context.Context, a spec.Args) {
	cl := client(a)
	resp, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: a.Topic, NumPartitions: a.Partitions, ReplicationFactor: a.RF,
	}}})
	spec.Check(err, "create topic")
	spec.Check(resp.Errors[a.Topic], "create topic")
	for {
		md, err := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{a.Topic}})
		spec.Check(err, "describe topic")
		if len(md.Topics) == 1 && md.Topics[0].Error == nil && len(md.Topics[0].Partitions) == a.Partitions {
			break
		}
		if ctx.Err() != nil {
			spec.Fail("describe topic: %+v", md.Topics)
		}
		time.Sleep(100 * time.Millisecond)
	}
	del, err := cl.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{a.Topic}})
	spec.Check(err, "delete topic")
	spec.Check(del.Errors[a.Topic], "delete topic")
	for {
		md, err := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{a.Topic}})
		spec.Check(err, "describe deleted topic")
		if len(md.Topics) == 1 && errors.Is(md.Topics[0].Error, kafka.UnknownTopicOrPartition) {
			return
		}
		if ctx.Err() != nil {
			spec.Fail("deleted topic still described: %+v", md.Topics)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fixed sends everything to one partition: kafka-go's Writer ignores
// Message.Partition, so there is one writer per partition.
type fixed int

func (f fixed) Balance(kafka.Message, ...int) int { return int(f) }

func produce(ctx context.Context, a spec.Args) {
	want := spec.ReadRecords(a.In)
	byPart := map[int32][]kafka.Message{}
	for _, r := range want {
		m := kafka.Message{Key: r.Key, Value: r.Value}
		if r.Timestamp != 0 {
			m.Time = time.UnixMilli(r.Timestamp)
		}
		for _, h := range r.Headers {
			m.Headers = append(m.Headers, kafka.Header{Key: h.Key, Value: h.Value})
		}
		byPart[r.Partition] = append(byPart[r.Partition], m)
	}
	for p, msgs := range byPart {
		w := &kafka.Writer{
			Addr:         kafka.TCP(a.Brokers()...),
			Transport:    transport(a.Security),
			Topic:        a.Topic,
			Balancer:     fixed(p),
			RequiredAcks: kafka.RequireAll,
			Compression:  codec(a.Codec),
			BatchBytes:   maxBytes,
			BatchSize:    len(msgs),
			BatchTimeout: 10 * time.Millisecond,
		}
		spec.Check(w.WriteMessages(ctx, msgs...), fmt.Sprintf("produce to partition %d", p))
		spec.Check(w.Close(), "close writer")
	}
	readBack(ctx, a, spec.PerPartition(want))
}

func readBack(ctx context.Context, a spec.Args, want map[int32]int) {
	var out []spec.Record
	for p, n := range want {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: a.Brokers(), Dialer: dialer(a.Security), Topic: a.Topic, Partition: int(p), MaxBytes: maxBytes, MaxWait: maxWait})
		spec.Check(r.SetOffset(kafka.FirstOffset), "set offset")
		for got := 0; got < n; got++ {
			m, err := r.ReadMessage(ctx)
			spec.Check(err, fmt.Sprintf("read back partition %d after %d records", p, got))
			out = append(out, fromKafkaGo(m))
		}
		r.Close()
	}
	spec.WriteLines(a.Out, out)
}

func fromKafkaGo(m kafka.Message) spec.Record {
	r := spec.Record{Partition: int32(m.Partition), Offset: m.Offset, Key: m.Key, Value: m.Value, Timestamp: m.Time.UnixMilli()}
	for _, h := range m.Headers {
		r.Headers = append(r.Headers, spec.Header{Key: h.Key, Value: h.Value})
	}
	return r
}

// group fetches --count records in the group, commits exactly those
// synchronously, and leaves.
func group(ctx context.Context, a spec.Args) {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:     a.Brokers(),
		Dialer:      dialer(a.Security),
		GroupID:     a.Group,
		Topic:       a.Topic,
		StartOffset: kafka.FirstOffset,
		MaxBytes:    maxBytes,
		MaxWait:     maxWait,
	})
	var msgs []kafka.Message
	for len(msgs) < a.Count {
		m, err := r.FetchMessage(ctx)
		spec.Check(err, fmt.Sprintf("fetch after %d records", len(msgs)))
		msgs = append(msgs, m)
	}
	spec.Check(r.CommitMessages(ctx, msgs...), "commit")
	spec.Check(r.Close(), "close reader")
	out := make([]spec.Record, len(msgs))
	for i, m := range msgs {
		out[i] = fromKafkaGo(m)
	}
	spec.WriteLines(a.Out, out)
}

func offsets(ctx context.Context, a spec.Args) {
	cl := client(a)
	var out []spec.TimeOffset
	for _, ts := range a.Timestamps {
		resp, err := cl.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{a.Topic: {{Partition: 0, Timestamp: ts}}}})
		spec.Check(err, "list offsets")
		ps := resp.Topics[a.Topic]
		if len(ps) != 1 {
			spec.Fail("list offsets at %d: %d partitions in the answer", ts, len(ps))
		}
		spec.Check(ps[0].Error, fmt.Sprintf("list offsets at %d", ts))
		// kafka-go files a found offset under Offsets and Kafka's -1 for
		// "no such record" under LastOffset.
		o := ps[0].LastOffset
		for off := range ps[0].Offsets {
			o = off
		}
		out = append(out, spec.TimeOffset{Timestamp: ts, Offset: o})
	}
	spec.WriteLines(a.Out, out)
}

// metadata uses Conn.ReadPartitions, which asks with auto-creation allowed.
func metadata(ctx context.Context, a spec.Args) {
	var last spec.Metadata
	for ctx.Err() == nil {
		last = spec.Metadata{}
		conn, err := dialer(a.Security).DialContext(ctx, "tcp", a.Brokers()[0])
		if err != nil {
			last.Error = err.Error()
			break
		}
		ps, err := conn.ReadPartitions(a.Topic)
		conn.Close()
		if err != nil {
			last.Error = err.Error()
		} else if len(ps) > 0 {
			last.Found, last.Partitions = true, len(ps)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	spec.WriteLines(a.Out, []spec.Metadata{last})
}

func codec(name string) kafka.Compression {
	switch name {
	case "gzip":
		return kafka.Gzip
	case "snappy":
		return kafka.Snappy
	case "lz4":
		return kafka.Lz4
	case "zstd":
		return kafka.Zstd
	case "none", "":
		return 0
	}
	spec.Fail("unknown codec %q", name)
	return 0
}
