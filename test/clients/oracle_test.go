package clients_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/clients/internal/spec"
)

// oracle is the driver's own franz-go client. It sets topics up, produces
// the data consumers read, and reads back what producers wrote, so a client
// that is wrong both ways (encodes and decodes the same mistake) still fails.
type oracle struct {
	seeds []string
	// auth are the options that reach the deployment (TLS and SASL on a
	// secured one), for every client the oracle opens.
	auth []kgo.Opt
	cl   *kgo.Client
	adm  *kadm.Client
}

const oracleMaxBytes = 8 << 20

func newOracle(seeds []string, auth ...kgo.Opt) (*oracle, error) {
	o := &oracle{seeds: seeds, auth: auth}
	cl, err := o.client(kgo.RetryTimeout(30 * time.Second))
	if err != nil {
		return nil, err
	}
	o.cl, o.adm = cl, kadm.NewClient(cl)
	return o, nil
}

// client opens a client of the oracle's on the deployment.
func (o *oracle) client(opts ...kgo.Opt) (*kgo.Client, error) {
	return kgo.NewClient(slices.Concat([]kgo.Opt{kgo.SeedBrokers(o.seeds...)}, o.auth, opts)...)
}

func (o *oracle) close() { o.cl.Close() }

// createTopic creates a topic and waits until every partition has a leader.
func (o *oracle) createTopic(ctx context.Context, topic string, partitions, rf int, configs map[string]string) error {
	cfg := map[string]*string{}
	for k, v := range configs {
		cfg[k] = &v
	}
	res, err := o.adm.CreateTopic(ctx, int32(partitions), int16(rf), cfg, topic)
	if err == nil {
		err = res.Err
	}
	if err != nil {
		return fmt.Errorf("oracle: create %s: %w", topic, err)
	}
	for {
		md, err := o.adm.Metadata(ctx, topic)
		if err != nil {
			return fmt.Errorf("oracle: metadata %s: %w", topic, err)
		}
		td := md.Topics[topic]
		ready := td.Err == nil && len(td.Partitions) == partitions
		for _, p := range td.Partitions {
			ready = ready && p.Err == nil && p.Leader >= 0
		}
		// Every broker learns of the topic from the metadata log on its
		// own, as in Kafka; a client producing right away may ask any of
		// them, so wait until all know it.
		if ready && o.everyBrokerKnows(ctx, topic, partitions, md.Brokers) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("oracle: %s has no leaders yet: %v", topic, td.Err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// everyBrokerKnows asks each broker itself for topic's metadata.
func (o *oracle) everyBrokerKnows(ctx context.Context, topic string, partitions int, brokers kadm.BrokerDetails) bool {
	for _, b := range brokers {
		req := kmsg.NewPtrMetadataRequest()
		req.AllowAutoTopicCreation = false
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, rt)
		raw, err := o.cl.Broker(int(b.NodeID)).Request(ctx, req)
		if err != nil {
			return false
		}
		resp := raw.(*kmsg.MetadataResponse)
		if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 || len(resp.Topics[0].Partitions) != partitions {
			return false
		}
		for _, p := range resp.Topics[0].Partitions {
			if p.ErrorCode != 0 || p.Leader < 0 {
				return false
			}
		}
	}
	return true
}

// topicSettled reports whether a topic exists, waiting up to settle for it
// to appear: brokers learn of a new topic from the metadata log, so the one
// the oracle asks may lag the one that created it.
func (o *oracle) topicSettled(ctx context.Context, topic string, settle time.Duration) (bool, int, error) {
	deadline := time.Now().Add(settle)
	for {
		exists, parts, err := o.topic(ctx, topic)
		if err != nil || exists || time.Now().After(deadline) {
			return exists, parts, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// topic reports whether a topic exists and its partition count.
func (o *oracle) topic(ctx context.Context, topic string) (bool, int, error) {
	md, err := o.adm.Metadata(ctx, topic)
	if err != nil {
		return false, 0, err
	}
	td, ok := md.Topics[topic]
	if !ok || td.Err == kerr.UnknownTopicOrPartition {
		return false, 0, nil
	}
	return true, len(td.Partitions), td.Err
}

// produce writes records (acks=all, idempotent) to their partitions in
// order and returns them with their offsets.
func (o *oracle) produce(ctx context.Context, topic string, recs []spec.Record) ([]spec.Record, error) {
	cl, err := o.client(
		kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchMaxBytes(oracleMaxBytes/2),
		kgo.ProducerLinger(50*time.Millisecond),
	)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	krs := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		kr := &kgo.Record{Partition: r.Partition, Key: r.Key, Value: r.Value}
		if r.Timestamp != 0 {
			kr.Timestamp = time.UnixMilli(r.Timestamp)
		}
		for _, h := range r.Headers {
			kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
		}
		krs[i] = kr
	}
	res := cl.ProduceSync(ctx, krs...)
	if err := res.FirstErr(); err != nil {
		return nil, fmt.Errorf("oracle: produce: %w", err)
	}
	// Results come back in completion order, not in the order given.
	index := make(map[*kgo.Record]int, len(krs))
	for i, kr := range krs {
		index[kr] = i
	}
	out := slices.Clone(recs)
	for _, r := range res {
		out[index[r.Record]].Offset = r.Record.Offset
	}
	return out, nil
}

// stored is a record as the oracle read it, with the batch facts a client
// could get wrong without noticing.
type stored struct {
	spec.Record
	codec         uint8
	producerID    int64
	transactional bool
}

// oracleReadTimeout bounds a read: records that are there arrive in
// milliseconds, so waiting longer only delays reporting that they are not.
const oracleReadTimeout = 20 * time.Second

// read reads every partition of a topic from its start to its end offset.
func (o *oracle) read(ctx context.Context, topic string) ([]stored, error) {
	ctx, cancel := context.WithTimeout(ctx, oracleReadTimeout)
	defer cancel()
	ends, err := o.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("oracle: end offsets: %w", err)
	}
	starts, err := o.adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("oracle: start offsets: %w", err)
	}
	parts := map[int32]kgo.Offset{}
	want := map[int32]int64{}
	var listErr error
	ends.Each(func(lo kadm.ListedOffset) {
		if lo.Err != nil && listErr == nil {
			listErr = fmt.Errorf("oracle: end offset of %d: %w", lo.Partition, lo.Err)
		}
		s, _ := starts.Lookup(topic, lo.Partition)
		if lo.Offset > s.Offset {
			parts[lo.Partition] = kgo.NewOffset().AtStart()
			want[lo.Partition] = lo.Offset
		}
	})
	if listErr != nil {
		return nil, listErr
	}
	if len(parts) == 0 {
		return nil, nil
	}
	cl, err := o.client(
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}),
		kgo.FetchMaxBytes(oracleMaxBytes),
		kgo.FetchMaxPartitionBytes(oracleMaxBytes),
	)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var out []stored
	next := map[int32]int64{}
	for {
		complete := true
		for p, end := range want {
			complete = complete && next[p] >= end
		}
		if complete {
			return out, nil
		}
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("oracle: read %s: reached %v of end offsets %v", topic, next, want)
		}
		var ferr error
		fs.EachError(func(_ string, p int32, err error) { ferr = fmt.Errorf("oracle: fetch partition %d: %w", p, err) })
		if ferr != nil {
			return nil, ferr
		}
		fs.EachRecord(func(r *kgo.Record) {
			next[r.Partition] = r.Offset + 1
			out = append(out, fromKgo(r))
		})
	}
}

func fromKgo(r *kgo.Record) stored {
	s := stored{codec: r.Attrs.CompressionType(), producerID: r.ProducerID, transactional: r.Attrs.IsTransactional()}
	s.Partition, s.Offset, s.Key, s.Value = r.Partition, r.Offset, r.Key, r.Value
	s.Timestamp = r.Timestamp.UnixMilli()
	for _, h := range r.Headers {
		s.Headers = append(s.Headers, spec.Header{Key: h.Key, Value: h.Value})
	}
	return s
}

// readCount reads each partition from its start until it has want[p]
// records, then a moment longer to catch any beyond. Control records and
// aborted records (read_committed) take offsets but are never handed out,
// so the end offset cannot tell when to stop.
func (o *oracle) readCount(ctx context.Context, topic string, want map[int32]int, committed bool) ([]stored, error) {
	ctx, cancel := context.WithTimeout(ctx, oracleReadTimeout)
	defer cancel()
	parts := map[int32]kgo.Offset{}
	for p := range want {
		parts[p] = kgo.NewOffset().AtStart()
	}
	isolation := kgo.ReadUncommitted()
	if committed {
		isolation = kgo.ReadCommitted()
	}
	cl, err := o.client(
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}),
		kgo.FetchIsolationLevel(isolation),
		kgo.FetchMaxBytes(oracleMaxBytes),
		kgo.FetchMaxPartitionBytes(oracleMaxBytes),
		kgo.FetchMaxWait(200*time.Millisecond),
	)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var out []stored
	got := map[int32]int{}
	var extra time.Time
	for {
		complete := true
		for p, n := range want {
			complete = complete && got[p] >= n
		}
		if complete && extra.IsZero() {
			extra = time.Now().Add(500 * time.Millisecond)
		}
		if !extra.IsZero() && time.Now().After(extra) {
			return out, nil
		}
		pctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		fs := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("oracle: read %s: have %v of %v records per partition", topic, got, want)
		}
		var ferr error
		fs.EachError(func(_ string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				ferr = fmt.Errorf("oracle: fetch partition %d: %w", p, err)
			}
		})
		if ferr != nil {
			return nil, ferr
		}
		fs.EachRecord(func(r *kgo.Record) {
			got[r.Partition]++
			out = append(out, fromKgo(r))
		})
	}
}

// committed returns the group's committed offsets for the topic.
func (o *oracle) committed(ctx context.Context, group, topic string) (map[int32]int64, error) {
	resp, err := o.adm.FetchOffsets(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("oracle: fetch offsets of %s: %w", group, err)
	}
	out := map[int32]int64{}
	var ferr error
	resp.Each(func(or kadm.OffsetResponse) {
		if or.Topic != topic {
			return
		}
		if or.Err != nil && ferr == nil {
			ferr = fmt.Errorf("oracle: committed offset of partition %d: %w", or.Partition, or.Err)
		}
		if or.At >= 0 {
			out[or.Partition] = or.At
		}
	})
	return out, ferr
}

// sameRecords compares records partition by partition, in order: keys and
// values including the difference between null and empty, and headers.
func sameRecords(want, got []spec.Record) error {
	w, g := byPartition(want), byPartition(got)
	var parts []int32
	for p := range w {
		parts = append(parts, p)
	}
	for p := range g {
		if _, ok := w[p]; !ok {
			return fmt.Errorf("%d unexpected records in partition %d", len(g[p]), p)
		}
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	for _, p := range parts {
		wp, gp := w[p], g[p]
		for i := range wp {
			if i >= len(gp) {
				return fmt.Errorf("partition %d: %d records, want %d", p, len(gp), len(wp))
			}
			if err := sameRecord(wp[i], gp[i]); err != nil {
				return fmt.Errorf("partition %d record %d (offset %d): %w", p, i, gp[i].Offset, err)
			}
		}
		if len(gp) > len(wp) {
			return fmt.Errorf("partition %d: %d records, want %d", p, len(gp), len(wp))
		}
	}
	return nil
}

func sameRecord(w, g spec.Record) error {
	if err := sameBytes("key", w.Key, g.Key); err != nil {
		return err
	}
	if err := sameBytes("value", w.Value, g.Value); err != nil {
		return err
	}
	if len(w.Headers) != len(g.Headers) {
		return fmt.Errorf("%d headers, want %d (%s)", len(g.Headers), len(w.Headers), headerNames(w.Headers))
	}
	for i := range w.Headers {
		if w.Headers[i].Key != g.Headers[i].Key || !bytes.Equal(w.Headers[i].Value, g.Headers[i].Value) {
			return fmt.Errorf("header %d is %q=%q, want %q=%q", i, g.Headers[i].Key, g.Headers[i].Value, w.Headers[i].Key, w.Headers[i].Value)
		}
	}
	return nil
}

func sameBytes(what string, w, g []byte) error {
	switch {
	case w == nil && g != nil:
		return fmt.Errorf("%s is %s, want null", what, show(g))
	case w != nil && g == nil:
		return fmt.Errorf("%s is null, want %s", what, show(w))
	case !bytes.Equal(w, g):
		return fmt.Errorf("%s is %s, want %s", what, show(g), show(w))
	}
	return nil
}

func show(b []byte) string {
	if len(b) > 24 {
		return fmt.Sprintf("%q... (%d bytes)", b[:24], len(b))
	}
	return fmt.Sprintf("%q", b)
}

func headerNames(hs []spec.Header) string {
	var b bytes.Buffer
	for i, h := range hs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(h.Key)
	}
	return b.String()
}

func byPartition(recs []spec.Record) map[int32][]spec.Record {
	m := map[int32][]spec.Record{}
	for _, r := range recs {
		m[r.Partition] = append(m[r.Partition], r)
	}
	return m
}

func plain(s []stored) []spec.Record {
	out := make([]spec.Record, len(s))
	for i := range s {
		out[i] = s[i].Record
	}
	return out
}
