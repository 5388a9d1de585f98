// Command franzgo is the franz-go (kgo/kadm) runner of the client matrix.
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"spool/test/clients/internal/spec"
)

// maxBytes covers the matrix's 1 MiB records with their batch overhead.
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
		offsets(ctx, a)
	case "metadata":
		metadata(ctx, a)
	default:
		spec.Fail("unknown scenario %q", a.Scenario)
	}
}

func client(a spec.Args, opts ...kgo.Opt) *kgo.Client {
	base := []kgo.Opt{
		kgo.SeedBrokers(a.Brokers()...),
		kgo.FetchMaxBytes(maxBytes),
		kgo.FetchMaxPartitionBytes(maxBytes),
		kgo.ProducerBatchMaxBytes(maxBytes / 2),
	}
	base = append(base, security(a.Security)...)
	cl, err := kgo.NewClient(append(base, opts...)...)
	spec.Check(err, "new client")
	return cl
}

// security turns the matrix's security flags into kgo options.
func security(s spec.Security) []kgo.Opt {
	var opts []kgo.Opt
	if s.TLS() {
		opts = append(opts, kgo.DialTLSConfig(s.TLSConfig()))
	}
	if s.SASL() {
		auth := scram.Auth{User: s.User, Pass: s.Password}
		switch s.Mechanism {
		case "SCRAM-SHA-512":
			opts = append(opts, kgo.SASL(auth.AsSha512Mechanism()))
		case "SCRAM-SHA-256":
			opts = append(opts, kgo.SASL(auth.AsSha256Mechanism()))
		default:
			spec.Fail("franz-go runner: no SASL mechanism %q", s.Mechanism)
		}
	}
	return opts
}

func admin(ctx context.Context, a spec.Args) {
	cl := client(a)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	res, err := adm.CreateTopic(ctx, int32(a.Partitions), int16(a.RF), nil, a.Topic)
	if err == nil {
		err = res.Err
	}
	spec.Check(err, "create topic")
	// A created topic may answer LEADER_NOT_AVAILABLE until its leaders are
	// elected, so describe until it settles.
	for {
		md, err := adm.Metadata(ctx, a.Topic)
		spec.Check(err, "describe topic")
		td := md.Topics[a.Topic]
		if td.Err == nil && len(td.Partitions) == a.Partitions && allLed(td) {
			break
		}
		if ctx.Err() != nil {
			spec.Fail("describe topic: %d partitions, err %v", len(td.Partitions), td.Err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	del, err := adm.DeleteTopic(ctx, a.Topic)
	if err == nil {
		err = del.Err
	}
	spec.Check(err, "delete topic")
	for {
		md, err := adm.Metadata(ctx, a.Topic)
		spec.Check(err, "describe deleted topic")
		if md.Topics[a.Topic].Err == kerr.UnknownTopicOrPartition {
			return
		}
		if ctx.Err() != nil {
			spec.Fail("deleted topic still described: err %v", md.Topics[a.Topic].Err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func allLed(td kadm.TopicDetail) bool {
	for _, p := range td.Partitions {
		if p.Err != nil || p.Leader < 0 {
			return false
		}
	}
	return true
}

func produce(ctx context.Context, a spec.Args) {
	want := spec.ReadRecords(a.In)
	opts := []kgo.Opt{
		kgo.DefaultProduceTopic(a.Topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(codec(a.Codec)),
		kgo.ProducerLinger(0),
	}
	switch {
	case a.Transactional:
		opts = append(opts, kgo.TransactionalID(a.Topic+"-txn"))
	case !a.Idempotent:
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	cl := client(a, opts...)
	if a.Transactional {
		for _, commit := range []bool{false, true} {
			spec.Check(cl.BeginTransaction(), "begin transaction")
			spec.Check(cl.ProduceSync(ctx, toKgo(want)...).FirstErr(), "produce in a transaction")
			spec.Check(cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)), fmt.Sprintf("end transaction (commit %v)", commit))
		}
	} else {
		spec.Check(cl.ProduceSync(ctx, toKgo(want)...).FirstErr(), "produce")
	}
	cl.Close()
	readBack(ctx, a, spec.PerPartition(want))
}

// toKgo builds fresh records: a produced kgo.Record belongs to the client.
func toKgo(want []spec.Record) []*kgo.Record {
	recs := make([]*kgo.Record, len(want))
	for i, r := range want {
		kr := &kgo.Record{Partition: r.Partition, Key: r.Key, Value: r.Value}
		if r.Timestamp != 0 {
			kr.Timestamp = time.UnixMilli(r.Timestamp)
		}
		for _, h := range r.Headers {
			kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
		}
		recs[i] = kr
	}
	return recs
}

// readBack reads every partition from its start, without a group, until it
// has the records the scenario produced.
func readBack(ctx context.Context, a spec.Args, want map[int32]int) {
	parts := map[int32]kgo.Offset{}
	for p := range want {
		parts[p] = kgo.NewOffset().AtStart()
	}
	cl := client(a, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{a.Topic: parts}), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	defer cl.Close()
	got := map[int32]int{}
	var out []spec.Record
	for !done(got, want) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			spec.Fail("read back: have %v of %v records per partition", got, want)
		}
		if err := firstErr(fs); err != nil {
			spec.Fail("read back: %v", err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			got[r.Partition]++
			out = append(out, fromKgo(r))
		})
	}
	spec.WriteLines(a.Out, out)
}

func done(got, want map[int32]int) bool {
	for p, n := range want {
		if got[p] < n {
			return false
		}
	}
	return true
}

func firstErr(fs kgo.Fetches) error {
	var err error
	fs.EachError(func(t string, p int32, e error) {
		if err == nil {
			err = fmt.Errorf("%s[%d]: %w", t, p, e)
		}
	})
	return err
}

func fromKgo(r *kgo.Record) spec.Record {
	out := spec.Record{Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp.UnixMilli()}
	for _, h := range r.Headers {
		out.Headers = append(out.Headers, spec.Header{Key: h.Key, Value: h.Value})
	}
	return out
}

// group consumes --count records in --group from the earliest offset,
// commits exactly those, and leaves.
func group(ctx context.Context, a spec.Args) {
	opts := []kgo.Opt{
		kgo.ConsumerGroup(a.Group),
		kgo.ConsumeTopics(a.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
	}
	if a.GroupProtocol == "consumer" {
		// KIP-848 wants a balancer the broker can run; franz-go falls
		// back to the classic protocol where the broker has none, which
		// the matrix's oracle catches.
		opts = append(opts, kgo.ServerSideBalancer(), kgo.Balancers(kgo.RangeBalancer()))
	}
	cl := client(a, opts...)
	defer cl.Close()
	var recs []*kgo.Record
	for len(recs) < a.Count {
		fs := cl.PollRecords(ctx, a.Count-len(recs))
		if ctx.Err() != nil {
			spec.Fail("consumed %d of %d records", len(recs), a.Count)
		}
		if err := firstErr(fs); err != nil {
			spec.Fail("consume: %v", err)
		}
		recs = append(recs, fs.Records()...)
	}
	spec.Check(cl.CommitRecords(ctx, recs...), "commit")
	out := make([]spec.Record, len(recs))
	for i, r := range recs {
		out[i] = fromKgo(r)
	}
	spec.WriteLines(a.Out, out)
}

// transform consumes --count records in --group read_committed and, in
// one GroupTransactSession transaction, produces them to --to and commits
// their offsets; with --abort it aborts instead, which franz-go does
// without sending the offsets.
func transform(ctx context.Context, a spec.Args) {
	base := []kgo.Opt{
		kgo.SeedBrokers(a.Brokers()...),
		kgo.FetchMaxBytes(maxBytes),
		kgo.FetchMaxPartitionBytes(maxBytes),
		kgo.ConsumerGroup(a.Group),
		kgo.ConsumeTopics(a.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.TransactionalID(a.Topic + "-txn"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	}
	base = append(base, security(a.Security)...)
	sess, err := kgo.NewGroupTransactSession(base...)
	spec.Check(err, "new transact session")
	defer sess.Close()
	var recs []*kgo.Record
	for len(recs) < a.Count {
		fs := sess.PollRecords(ctx, a.Count-len(recs))
		if ctx.Err() != nil {
			spec.Fail("consumed %d of %d records", len(recs), a.Count)
		}
		if err := firstErr(fs); err != nil {
			spec.Fail("consume: %v", err)
		}
		recs = append(recs, fs.Records()...)
	}
	spec.Check(sess.Begin(), "begin transaction")
	out := make([]spec.Record, len(recs))
	var produced []*kgo.Record
	for i, r := range recs {
		out[i] = fromKgo(r)
		produced = append(produced, toKgo([]spec.Record{{Partition: r.Partition, Key: r.Key, Value: r.Value, Headers: out[i].Headers}})...)
		produced[i].Topic = a.To
	}
	spec.Check(sess.ProduceSync(ctx, produced...).FirstErr(), "produce in the transaction")
	committed, err := sess.End(ctx, kgo.TransactionEndTry(!a.Abort))
	spec.Check(err, "end transaction")
	if committed == a.Abort {
		spec.Fail("end transaction: committed %v, want %v", committed, !a.Abort)
	}
	spec.WriteLines(a.Out, out)
}

func offsets(ctx context.Context, a spec.Args) {
	cl := client(a)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	var out []spec.TimeOffset
	for _, ts := range a.Timestamps {
		lo, err := adm.ListOffsetsAfterMilli(ctx, ts, a.Topic)
		spec.Check(err, "list offsets")
		o, ok := lo.Lookup(a.Topic, 0)
		if !ok {
			spec.Fail("no answer for partition 0 at %d", ts)
		}
		spec.Check(o.Err, fmt.Sprintf("list offsets at %d", ts))
		out = append(out, spec.TimeOffset{Timestamp: ts, Offset: o.Offset})
	}
	spec.WriteLines(a.Out, out)
}

// metadata asks for the topic with auto-creation allowed, as a producer
// would, until it has leaders or the time is up.
func metadata(ctx context.Context, a spec.Args) {
	cl := client(a)
	defer cl.Close()
	var last spec.Metadata
	for ctx.Err() == nil {
		req := kmsg.NewPtrMetadataRequest()
		req.AllowAutoTopicCreation = true
		t := kmsg.NewMetadataRequestTopic()
		t.Topic = kmsg.StringPtr(a.Topic)
		req.Topics = append(req.Topics, t)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			last.Error = err.Error()
			break
		}
		last = spec.Metadata{}
		for _, t := range resp.Topics {
			if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
				last.Error = err.Error()
				continue
			}
			last.Found, last.Partitions = true, len(t.Partitions)
		}
		if last.Found {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	spec.WriteLines(a.Out, []spec.Metadata{last})
}

func codec(name string) kgo.CompressionCodec {
	switch name {
	case "gzip":
		return kgo.GzipCompression()
	case "snappy":
		return kgo.SnappyCompression()
	case "lz4":
		return kgo.Lz4Compression()
	case "zstd":
		return kgo.ZstdCompression()
	case "none", "":
		return kgo.NoCompression()
	}
	spec.Fail("unknown codec %q", name)
	return kgo.NoCompression()
}
