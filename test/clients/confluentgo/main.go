// Command confluentgo is the confluent-kafka-go runner of the client matrix,
// linked with the librdkafka that confluent-kafka-go bundles. It is its own
// module so that the main module never links cgo.
//
// The runner contract (flags, JSON-lines record files, one line of failure
// reason) is test/clients/internal/spec's, repeated here because this module
// cannot import the main one.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// maxBytes makes room for the matrix's 1 MiB records.
const maxBytes = 4000000

type record struct {
	Partition int32    `json:"p"`
	Offset    int64    `json:"o"`
	Key       []byte   `json:"k"`
	Value     []byte   `json:"v"`
	Headers   []header `json:"h"`
	Timestamp int64    `json:"ts,omitempty"`
}

type header struct {
	Key   string `json:"k"`
	Value []byte `json:"v"`
}

type args struct {
	bootstrap, scenario, topic, in, out, group, codec string
	count, partitions, rf                             int
	idempotent, transactional                         bool
	timestamps                                        []int64
	timeout                                           time.Duration
	to                                                string // transform: the topic it produces to
	abort                                             bool   // transform: abort instead of committing
	groupProtocol                                     string // group: classic, or consumer (KIP-848)
	// Kafka's security settings: security.protocol, sasl.mechanism, the
	// SCRAM user and password, and the CA the client trusts (PEM).
	securityProtocol, saslMechanism, saslUser, saslPassword, caFile string
}

func main() {
	var a args
	var ts string
	var timeout float64
	flag.StringVar(&a.bootstrap, "bootstrap", "", "")
	flag.StringVar(&a.scenario, "scenario", "", "admin | produce | group | transform | offsets | metadata | version")
	flag.StringVar(&a.topic, "topic", "", "")
	flag.StringVar(&a.in, "in", "", "")
	flag.StringVar(&a.out, "out", "", "")
	flag.StringVar(&a.group, "group", "", "")
	flag.StringVar(&a.groupProtocol, "group-protocol", "classic", "group scenario: classic, or consumer (KIP-848)")
	flag.IntVar(&a.count, "count", 0, "")
	flag.StringVar(&a.codec, "codec", "none", "")
	flag.BoolVar(&a.idempotent, "idempotent", false, "")
	flag.BoolVar(&a.transactional, "transactional", false, "abort one transaction of the records, commit another")
	flag.StringVar(&a.to, "to", "", "topic the transform scenario produces to")
	flag.BoolVar(&a.abort, "abort", false, "transform: abort the transaction instead of committing it")
	flag.IntVar(&a.partitions, "partitions", 3, "")
	flag.IntVar(&a.rf, "rf", 1, "")
	flag.StringVar(&ts, "timestamps", "", "")
	flag.Float64Var(&timeout, "timeout", 30, "seconds")
	flag.StringVar(&a.securityProtocol, "security-protocol", "PLAINTEXT", "PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL")
	flag.StringVar(&a.saslMechanism, "sasl-mechanism", "SCRAM-SHA-512", "")
	flag.StringVar(&a.saslUser, "sasl-user", "", "")
	flag.StringVar(&a.saslPassword, "sasl-password", "", "")
	flag.StringVar(&a.caFile, "ca-file", "", "PEM file of the CA the client trusts")
	flag.Parse()
	for _, s := range strings.Split(ts, ",") {
		if s != "" {
			v, err := strconv.ParseInt(s, 10, 64)
			check(err, "--timestamps")
			a.timestamps = append(a.timestamps, v)
		}
	}
	a.timeout = time.Duration(timeout * float64(time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	switch a.scenario {
	case "version":
		_, v := kafka.LibraryVersion()
		fmt.Println(v)
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
		fail("unknown scenario %q", a.scenario)
	}
}

func fail(format string, v ...any) {
	fmt.Println(strings.ReplaceAll(fmt.Sprintf(format, v...), "\n", " | "))
	os.Exit(1)
}

func check(err error, what string) {
	if err != nil {
		fail("%s: %v", what, err)
	}
}

func cfg(a args, kv ...any) *kafka.ConfigMap {
	m := kafka.ConfigMap{"bootstrap.servers": a.bootstrap, "security.protocol": strings.ToLower(a.securityProtocol)}
	if strings.HasSuffix(a.securityProtocol, "SSL") {
		m["ssl.ca.location"] = a.caFile
	}
	if strings.HasPrefix(a.securityProtocol, "SASL_") {
		m["sasl.mechanisms"], m["sasl.username"], m["sasl.password"] = a.saslMechanism, a.saslUser, a.saslPassword
	}
	// librdkafka's own trace, for a cell that needs explaining.
	if v := os.Getenv("RDKAFKA_DEBUG"); v != "" {
		m["debug"] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return &m
}

func ms(ctx context.Context) int {
	d, _ := ctx.Deadline()
	return max(1, int(time.Until(d).Milliseconds()))
}

func admin(ctx context.Context, a args) {
	adm, err := kafka.NewAdminClient(cfg(a))
	check(err, "new admin client")
	defer adm.Close()
	// Creating a topic takes milliseconds; a step that takes seconds is the
	// failure to report, not a reason to wait out the whole scenario.
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := adm.CreateTopics(cctx, []kafka.TopicSpecification{{Topic: a.topic, NumPartitions: a.partitions, ReplicationFactor: a.rf}},
		kafka.SetAdminOperationTimeout(10*time.Second))
	check(err, "create topic")
	if res[0].Error.Code() != kafka.ErrNoError {
		fail("create topic: %v", res[0].Error)
	}
	names := kafka.NewTopicCollectionOfTopicNames([]string{a.topic})
	for {
		d, err := adm.DescribeTopics(ctx, names)
		check(err, "describe topic")
		td := d.TopicDescriptions[0]
		if td.Error.Code() == kafka.ErrNoError && len(td.Partitions) == a.partitions {
			break
		}
		if ctx.Err() != nil {
			fail("describe topic: %v, %d partitions", td.Error, len(td.Partitions))
		}
		time.Sleep(100 * time.Millisecond)
	}
	del, err := adm.DeleteTopics(ctx, []string{a.topic}, kafka.SetAdminOperationTimeout(10*time.Second))
	check(err, "delete topic")
	if del[0].Error.Code() != kafka.ErrNoError {
		fail("delete topic: %v", del[0].Error)
	}
	for {
		d, err := adm.DescribeTopics(ctx, names)
		check(err, "describe deleted topic")
		if d.TopicDescriptions[0].Error.Code() == kafka.ErrUnknownTopicOrPart {
			return
		}
		if ctx.Err() != nil {
			fail("deleted topic still described: %v", d.TopicDescriptions[0].Error)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func produce(ctx context.Context, a args) {
	want := readRecords(a.in)
	kv := []any{"acks", "all", "compression.type", a.codec, "enable.idempotence", a.idempotent || a.transactional,
		"message.max.bytes", maxBytes, "linger.ms", 5}
	if a.transactional {
		kv = append(kv, "transactional.id", a.topic+"-txn")
	}
	p, err := kafka.NewProducer(cfg(a, kv...))
	check(err, "new producer")
	if a.transactional {
		check(p.InitTransactions(ctx), "init transactions")
		for _, commit := range []bool{false, true} {
			check(p.BeginTransaction(), "begin transaction")
			send(ctx, a, p, want)
			if commit {
				check(p.CommitTransaction(ctx), "commit transaction")
			} else {
				check(p.AbortTransaction(ctx), "abort transaction")
			}
		}
	} else {
		send(ctx, a, p, want)
	}
	p.Close()
	perPartition := map[int32]int{}
	for _, r := range want {
		perPartition[r.Partition]++
	}
	readBack(ctx, a, perPartition)
}

// send produces the records and waits for every delivery report.
func send(ctx context.Context, a args, p *kafka.Producer, want []record) {
	reports := make(chan kafka.Event, len(want))
	for _, r := range want {
		m := &kafka.Message{TopicPartition: kafka.TopicPartition{Topic: &a.topic, Partition: r.Partition}, Key: r.Key, Value: r.Value}
		if r.Timestamp != 0 {
			m.Timestamp = time.UnixMilli(r.Timestamp)
		}
		for _, h := range r.Headers {
			m.Headers = append(m.Headers, kafka.Header{Key: h.Key, Value: h.Value})
		}
		check(p.Produce(m, reports), "produce")
	}
	for range want {
		select {
		case e := <-reports:
			if m, ok := e.(*kafka.Message); ok && m.TopicPartition.Error != nil {
				fail("delivery: %v", m.TopicPartition.Error)
			}
		case <-ctx.Done():
			fail("no delivery report before the deadline")
		}
	}
}

func consumer(a args, kv ...any) *kafka.Consumer {
	c, err := kafka.NewConsumer(cfg(a, append([]any{"enable.auto.commit", false, "fetch.message.max.bytes", maxBytes,
		"isolation.level", "read_committed"}, kv...)...))
	check(err, "new consumer")
	return c
}

func fromMsg(m *kafka.Message) record {
	r := record{Partition: m.TopicPartition.Partition, Offset: int64(m.TopicPartition.Offset), Key: m.Key, Value: m.Value, Timestamp: m.Timestamp.UnixMilli()}
	for _, h := range m.Headers {
		r.Headers = append(r.Headers, header{Key: h.Key, Value: h.Value})
	}
	return r
}

func readBack(ctx context.Context, a args, want map[int32]int) {
	c := consumer(a, "group.id", "matrix-readback-unused")
	defer c.Close()
	var tps []kafka.TopicPartition
	for p := range want {
		tps = append(tps, kafka.TopicPartition{Topic: &a.topic, Partition: p, Offset: kafka.OffsetBeginning})
	}
	check(c.Assign(tps), "assign")
	got := map[int32]int{}
	var out []record
	for {
		complete := true
		for p, n := range want {
			complete = complete && got[p] >= n
		}
		if complete {
			break
		}
		m, err := c.ReadMessage(time.Second)
		if ctx.Err() != nil {
			fail("read back: have %v of %v records per partition", got, want)
		}
		var kerr kafka.Error
		if errors.As(err, &kerr) && kerr.IsTimeout() {
			continue
		}
		check(err, "read back")
		got[m.TopicPartition.Partition]++
		out = append(out, fromMsg(m))
	}
	writeLines(a.out, out)
}

// group reads --count records in the group from the earliest offset,
// commits exactly those synchronously, and leaves.
func group(ctx context.Context, a args) {
	c := consumer(a, "group.id", a.group, "auto.offset.reset", "earliest", "group.protocol", a.groupProtocol)
	check(c.Subscribe(a.topic, nil), "subscribe")
	var out []record
	for len(out) < a.count {
		m, err := c.ReadMessage(time.Second)
		if ctx.Err() != nil {
			fail("consumed %d of %d records", len(out), a.count)
		}
		var kerr kafka.Error
		if errors.As(err, &kerr) && kerr.IsTimeout() {
			continue
		}
		check(err, "consume")
		out = append(out, fromMsg(m))
	}
	next := map[int32]int64{}
	for _, r := range out {
		next[r.Partition] = max(next[r.Partition], r.Offset+1)
	}
	var tps []kafka.TopicPartition
	for p, o := range next {
		tps = append(tps, kafka.TopicPartition{Topic: &a.topic, Partition: p, Offset: kafka.Offset(o)})
	}
	_, err := c.CommitOffsets(tps)
	check(err, "commit")
	check(c.Close(), "close")
	writeLines(a.out, out)
}

func offsets(a args) {
	c := consumer(a, "group.id", "matrix-offsets-unused")
	defer c.Close()
	type timeOffset struct {
		Timestamp int64 `json:"ts"`
		Offset    int64 `json:"offset"`
	}
	var out []timeOffset
	for _, ts := range a.timestamps {
		res, err := c.OffsetsForTimes([]kafka.TopicPartition{{Topic: &a.topic, Partition: 0, Offset: kafka.Offset(ts)}}, 10000)
		check(err, fmt.Sprintf("offset for %d", ts))
		if res[0].Error != nil {
			fail("offset for %d: %v", ts, res[0].Error)
		}
		out = append(out, timeOffset{ts, int64(res[0].Offset)})
	}
	writeLines(a.out, out)
}

// metadata asks through a producer handle, which librdkafka lets ask the
// broker to create missing topics.
func metadata(ctx context.Context, a args) {
	p, err := kafka.NewProducer(cfg(a))
	check(err, "new producer")
	defer p.Close()
	type result struct {
		Found      bool   `json:"found"`
		Partitions int    `json:"partitions"`
		Error      string `json:"error,omitempty"`
	}
	var last result
	for ctx.Err() == nil {
		md, err := p.GetMetadata(&a.topic, false, min(5000, ms(ctx)))
		last = result{}
		if err != nil {
			last.Error = err.Error()
		} else if t, ok := md.Topics[a.topic]; !ok {
			last.Error = "topic not in the answer"
		} else if t.Error.Code() != kafka.ErrNoError {
			last.Error = t.Error.Error()
		} else if len(t.Partitions) > 0 {
			last.Found, last.Partitions = true, len(t.Partitions)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	writeLines(a.out, []result{last})
}

func readRecords(path string) []record {
	f, err := os.Open(path)
	check(err, "open records")
	defer f.Close()
	var out []record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var r record
		check(json.Unmarshal(sc.Bytes(), &r), "decode record")
		out = append(out, r)
	}
	check(sc.Err(), "read records")
	return out
}

func writeLines[T any](path string, vs []T) {
	f, err := os.Create(path)
	check(err, "create output")
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, v := range vs {
		check(enc.Encode(v), "encode output")
	}
	check(w.Flush(), "write output")
	check(f.Close(), "close output")
}
