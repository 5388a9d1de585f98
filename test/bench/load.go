package bench

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// cells are the durations of one measurement: warm-up, then the measured
// window. DESIGN asks for at least 10 s per cell; BENCH_CELL shortens it so
// the whole matrix fits a 20-minute run on two cores.
type cells struct {
	warm, measure time.Duration
	// onMeasure, when set, is called as a measured window opens (to start
	// a CPU profile over it).
	onMeasure func(d time.Duration)
}

func (c cells) opened() {
	if c.onMeasure != nil {
		c.onMeasure(c.measure)
	}
}

func cellTimes() cells {
	c := cells{warm: time.Second, measure: 10 * time.Second}
	if d, err := time.ParseDuration(os.Getenv("BENCH_CELL")); err == nil && d > 0 {
		c.measure = d
	}
	if d, err := time.ParseDuration(os.Getenv("BENCH_WARM")); err == nil && d >= 0 {
		c.warm = d
	}
	return c
}

// workload is one client workload: record size, acks, partitions, and
// where it runs.
type workload struct {
	size       int
	acks       string // "1" or "all"
	partitions int32
	brokers    int // 1, or 3 with RF=3 and min.insync.replicas=2
	rf         int16
}

func (w workload) String() string {
	size := fmt.Sprintf("%d B", w.size)
	if w.size >= 1024 {
		size = fmt.Sprintf("%d KiB", w.size/1024)
	}
	s := fmt.Sprintf("%s acks=%s %d part.", size, w.acks, w.partitions)
	if w.brokers > 1 {
		s += fmt.Sprintf(" RF=%d", w.rf)
	}
	return s
}

func (w workload) configs() map[string]*string {
	if w.rf < 3 {
		return nil
	}
	two := "2"
	return map[string]*string{"min.insync.replicas": &two}
}

// createTopic creates the topic and waits until every broker knows its
// leaders and each leader serves its partition, so the first produce does
// not race metadata propagation.
func createTopic(ctx context.Context, addrs []string, topic string, partitions int32, rf int16, configs map[string]*string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.RetryTimeout(time.Minute))
	if err != nil {
		return err
	}
	defer cl.Close()
	res, err := kadm.NewClient(cl).CreateTopics(ctx, partitions, rf, configs, topic)
	if err == nil {
		err = res[topic].Err
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", topic, err)
	}
	for _, a := range addrs {
		for !topicReady(a, topic, partitions) {
			if ctx.Err() != nil {
				return fmt.Errorf("topic %s not ready on %s", topic, a)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// Kafka's Metadata may name a leader before that broker serves the
	// partition; a produce cell would spend its time retrying.
	for {
		offs, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
		if err == nil {
			err = offs.Error()
		}
		if err == nil && len(offs[topic]) == int(partitions) {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("topic %s: partitions not served: %v", topic, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func topicReady(addr, topic string, partitions int32) bool {
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(9)
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	raw, err := harness.Request(addr, req, 2*time.Second)
	if err != nil {
		return false
	}
	resp := raw.(*kmsg.MetadataResponse)
	if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 || int32(len(resp.Topics[0].Partitions)) != partitions {
		return false
	}
	for _, p := range resp.Topics[0].Partitions {
		if p.Leader < 0 || p.ErrorCode != 0 {
			return false
		}
	}
	return true
}

// producer builds a franz-go producer for the workload. linger is 0 for
// latency cells and the client's default (10 ms) for throughput. Records
// are random bytes sent uncompressed: franz-go would snappy-compress by
// default, which on two shared cores mostly measures the codec, and
// all-zero values would shrink twentyfold on the wire. extra are more
// client options (kgo.DialTLSConfig for an SSL listener).
func producer(addrs []string, topic string, acks string, linger time.Duration, extra ...kgo.Opt) (*kgo.Client, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(addrs...), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.ProducerLinger(linger),
		kgo.MaxBufferedBytes(16 << 20), kgo.ProducerBatchCompression(kgo.NoCompression())}
	if acks == "all" {
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	} else {
		// Idempotence needs acks=all; without it, allow the 5 requests in
		// flight an idempotent producer has.
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(),
			kgo.MaxProduceRequestsInflightPerBroker(5))
	}
	return kgo.NewClient(append(opts, extra...)...)
}

// produced is the outcome of a produce cell.
type produced struct {
	rate  float64 // records/s in the measured window
	total int64   // records acknowledged overall (warm-up included)
}

// produceMax produces as fast as the server acknowledges for warm+measure
// and reports the acknowledged rate over the measured window.
func produceMax(ctx context.Context, addrs []string, topic string, w workload, c cells, extra ...kgo.Opt) (produced, error) {
	cl, err := producer(addrs, topic, w.acks, 10*time.Millisecond, extra...)
	if err != nil {
		return produced{}, err
	}
	defer cl.Close()
	value := randomValue(w.size)
	var acked atomic.Int64
	var firstErr atomic.Pointer[error]
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !stop.Load() && ctx.Err() == nil {
			cl.Produce(ctx, &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
				if err != nil {
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				acked.Add(1)
			})
		}
	}()
	time.Sleep(c.warm)
	n0, t0 := acked.Load(), time.Now()
	c.opened()
	time.Sleep(c.measure)
	n1, t1 := acked.Load(), time.Now()
	stop.Store(true)
	<-done
	if err := cl.Flush(ctx); err != nil {
		return produced{}, fmt.Errorf("flush: %w", err)
	}
	if e := firstErr.Load(); e != nil {
		return produced{}, fmt.Errorf("produce: %w", *e)
	}
	return produced{rate: float64(n1-n0) / t1.Sub(t0).Seconds(), total: acked.Load()}, nil
}

// consumeRate reads the topic's total records from the start, over and
// over, for the measured window (the data is in the page cache, or in
// kfake's memory), and reports records/s and the records read.
func consumeRate(ctx context.Context, addrs []string, topic string, total int64, c cells, extra ...kgo.Opt) (float64, int64, error) {
	c.opened()
	deadline := time.Now().Add(c.measure)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var got int64
	t0 := time.Now()
	for ctx.Err() == nil {
		// franz-go's fetch sizes (50 MiB a response, 1 MiB a partition),
		// like any stock consumer.
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, extra...)...)
		if err != nil {
			return 0, 0, err
		}
		for pass := int64(0); pass < total && ctx.Err() == nil; {
			fs := cl.PollFetches(ctx)
			for _, e := range fs.Errors() {
				if !errors.Is(e.Err, context.DeadlineExceeded) && !errors.Is(e.Err, context.Canceled) {
					cl.Close()
					return 0, 0, fmt.Errorf("consume %s[%d]: %w", e.Topic, e.Partition, e.Err)
				}
			}
			n := int64(fs.NumRecords())
			pass += n
			got += n
		}
		cl.Close()
	}
	return float64(got) / time.Since(t0).Seconds(), got, nil
}

// latencies is the end-to-end latency distribution of one paced cell.
type latencies struct {
	p50, p99, p999 time.Duration
	samples        int
	missing        int64 // produced in the window but never consumed
}

func (l latencies) ms() (float64, float64, float64) {
	f := func(d time.Duration) float64 { return float64(d) / 1e6 }
	return f(l.p50), f(l.p99), f(l.p999)
}

func (l latencies) String() string {
	a, b, c := l.ms()
	return fmt.Sprintf("%s / %s / %s", num(a), num(b), num(c))
}

// latency produces at rate records/s (paced every millisecond, no linger)
// while a consumer reads from the end, and measures produce-call to
// consumer-receipt time of the records produced in the measured window.
// The send time travels in the record's first 8 bytes.
func latency(ctx context.Context, addrs []string, topic string, w workload, rate float64, c cells) (latencies, error) {
	epoch := time.Now()
	since := func() int64 { return int64(time.Since(epoch)) }
	ccl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()), kgo.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		return latencies{}, err
	}
	defer ccl.Close()
	var winStart, winEnd atomic.Int64
	winStart.Store(1 << 62)
	winEnd.Store(1 << 62)
	var mu sync.Mutex
	var lats []time.Duration
	var received atomic.Int64
	cctx, ccancel := context.WithCancel(ctx)
	defer ccancel()
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for cctx.Err() == nil {
			fs := ccl.PollFetches(cctx)
			now := since()
			mu.Lock()
			fs.EachRecord(func(r *kgo.Record) {
				if len(r.Value) < 8 {
					return
				}
				sent := int64(binary.BigEndian.Uint64(r.Value))
				if sent >= winStart.Load() && sent < winEnd.Load() {
					lats = append(lats, time.Duration(now-sent))
					received.Add(1)
				}
			})
			mu.Unlock()
		}
	}()
	// Let the consumer find the end offsets before anything is produced
	// (a JVM broker's first answers on a new topic take longest).
	time.Sleep(time.Second)

	pcl, err := producer(addrs, topic, w.acks, 0)
	if err != nil {
		return latencies{}, err
	}
	defer pcl.Close()
	var firstErr atomic.Pointer[error]
	var inWindow int64
	t0 := time.Now()
	start, end := t0.Add(c.warm), t0.Add(c.warm+c.measure)
	winStart.Store(int64(start.Sub(epoch)))
	winEnd.Store(int64(end.Sub(epoch)))
	var sent int64
	// Values are reused once acknowledged, so the client's garbage does
	// not stall the measurement.
	free := make(chan []byte, 1<<16)
	tick := time.NewTicker(time.Millisecond)
	for now := range tick.C {
		if !now.Before(end) || ctx.Err() != nil {
			break
		}
		due := int64(rate * now.Sub(t0).Seconds())
		for ; sent < due; sent++ {
			var v []byte
			select {
			case v = <-free:
			default:
				v = randomValue(w.size)
			}
			at := since()
			binary.BigEndian.PutUint64(v, uint64(at))
			if at >= winStart.Load() && at < winEnd.Load() {
				inWindow++
			}
			pcl.Produce(ctx, &kgo.Record{Value: v}, func(r *kgo.Record, err error) {
				if err != nil {
					firstErr.CompareAndSwap(nil, &err)
				}
				select {
				case free <- r.Value:
				default:
				}
			})
		}
	}
	tick.Stop()
	if err := pcl.Flush(ctx); err != nil {
		return latencies{}, err
	}
	if e := firstErr.Load(); e != nil {
		return latencies{}, fmt.Errorf("produce: %w", *e)
	}
	for wait := time.Now().Add(5 * time.Second); received.Load() < inWindow && time.Now().Before(wait); {
		time.Sleep(10 * time.Millisecond)
	}
	ccancel()
	<-consumed
	mu.Lock()
	defer mu.Unlock()
	if len(lats) == 0 {
		return latencies{}, fmt.Errorf("no record of %d came back", inWindow)
	}
	slices.Sort(lats)
	at := func(q float64) time.Duration { return lats[min(len(lats)-1, int(q*float64(len(lats))))] }
	return latencies{p50: at(0.50), p99: at(0.99), p999: at(0.999), samples: len(lats), missing: inWindow - int64(len(lats))}, nil
}

// randomValue is an incompressible record value.
func randomValue(size int) []byte {
	v := make([]byte, size)
	rand.Read(v)
	return v
}
