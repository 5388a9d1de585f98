package test

import (
	"bytes"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// quotaRate is every client quota of these tests, in bytes per second.
const quotaRate = 100_000

// throttleHook counts the throttles a client was told of.
type throttleHook struct {
	n   atomic.Int64
	max atomic.Int64
}

func (h *throttleHook) OnBrokerThrottle(_ kgo.BrokerMetadata, d time.Duration, _ bool) {
	h.n.Add(1)
	for {
		cur := h.max.Load()
		if int64(d) <= cur || h.max.CompareAndSwap(cur, int64(d)) {
			return
		}
	}
}

// produceFor produces 64 KiB calls to topic until d has passed and returns
// the bytes acknowledged per second (0 after a failure it reports).
func produceFor(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, d time.Duration) float64 {
	t.Helper()
	value := bytes.Repeat([]byte("q"), 8<<10)
	start := time.Now()
	total := 0
	for time.Since(start) < d {
		recs := make([]*kgo.Record, 8)
		for i := range recs {
			recs[i] = &kgo.Record{Topic: topic, Value: value}
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Errorf("produce: %v", err) // not Fatal: some callers run it on their own goroutine
			return 0
		}
		total += len(recs) * len(value)
	}
	return float64(total) / time.Since(start).Seconds()
}

// A producer over its producer_byte_rate is held near it and told so in
// throttle_time_ms; a client that ignores the throttle is held by the
// muted connection (KIP-219); another client on the same broker is not
// throttled; raising the quota applies at once. The bounds have 3x slack:
// the rate is measured, not timed.
func TestProduceQuotaEnforced(t *testing.T) {
	n := harness.SingleNode(t, map[string]string{"quota.window.num": "3"})
	n.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	admCl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	createTopic(t, adm, "quota", 1, nil)
	for _, id := range []string{"slow", "spool-test"} {
		if err := alterQuota(ctx, t, adm, quotaEntity("client-id", id), kadm.AlterClientQuotaOp{Key: "producer_byte_rate", Value: quotaRate}); err != nil {
			t.Fatal(err)
		}
	}
	client := func(id string, h *throttleHook) *kgo.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.ClientID(id), kgo.WithHooks(h), kgo.ProducerLinger(0),
			kgo.ProducerBatchCompression(kgo.NoCompression())) // the quota counts bytes on the wire
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	slowHook, fastHook := new(throttleHook), new(throttleHook)
	slow, fast := client("slow", slowHook), client("fast", fastHook)

	var wg sync.WaitGroup
	var fastRate float64
	wg.Add(1)
	go func() {
		defer wg.Done()
		fastRate = produceFor(ctx, t, fast, "quota", 4*time.Second)
	}()
	slowRate := produceFor(ctx, t, slow, "quota", 8*time.Second)
	wg.Wait()
	t.Logf("slow %.0f B/s (quota %d, %d throttles, longest %v); fast %.0f B/s", slowRate, quotaRate, slowHook.n.Load(),
		time.Duration(slowHook.max.Load()), fastRate)
	if slowRate > 3*quotaRate {
		t.Errorf("throttled producer ran at %.0f B/s, over 3x its quota of %d", slowRate, quotaRate)
	}
	if slowHook.n.Load() == 0 {
		t.Error("the throttled producer was never told of a throttle")
	}
	if fastHook.n.Load() != 0 || fastRate < 3*quotaRate {
		t.Errorf("the unlimited producer was throttled %d times, ran at %.0f B/s", fastHook.n.Load(), fastRate)
	}

	rawRate, throttled := rawProduceFor(t, n.Addr, "quota", 8*time.Second)
	t.Logf("raw client ignoring throttles: %.0f B/s, %d throttled answers", rawRate, throttled)
	if rawRate > 3*quotaRate || throttled == 0 {
		t.Errorf("a client ignoring throttle_time_ms ran at %.0f B/s (%d throttled answers): the connection was not muted", rawRate, throttled)
	}

	if err := alterQuota(ctx, t, adm, quotaEntity("client-id", "slow"), kadm.AlterClientQuotaOp{Key: "producer_byte_rate", Value: 1 << 40}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Duration(slowHook.max.Load())) // any mute still running
	before := slowHook.n.Load()
	produceFor(ctx, t, slow, "quota", time.Second)
	if got := slowHook.n.Load() - before; got != 0 {
		t.Errorf("throttled %d times after the quota was raised", got)
	}
}

// rawProduceFor sends 64 KiB produce requests one after another on one
// connection, never waiting out a throttle, until d has passed; it
// returns the acknowledged bytes per second and how many answers carried
// a throttle.
func rawProduceFor(t *testing.T, addr, topic string, d time.Duration) (float64, int) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var recs []rawRecord
	for range 8 {
		recs = append(recs, rawRecord{value: bytes.Repeat([]byte("r"), 8<<10)})
	}
	batch := rawBatch(time.Now().UnixMilli(), recs...)
	start, total, throttled := time.Now(), 0, 0
	for time.Since(start) < d {
		req := kmsg.NewPtrProduceRequest()
		req.SetVersion(9)
		req.Acks, req.TimeoutMillis = 1, 30000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = batch
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		raw, err := harness.RequestOn(c, req, time.Minute)
		if err != nil {
			t.Fatalf("raw produce: %v", err)
		}
		resp := raw.(*kmsg.ProduceResponse)
		if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
			t.Fatalf("raw produce error %d", code)
		}
		if resp.ThrottleMillis > 0 {
			throttled++
		}
		total += len(batch)
	}
	return float64(total) / time.Since(start).Seconds(), throttled
}

// consumeFor consumes topic from the start until d has passed or want
// bytes arrived, and returns the record bytes per second.
func consumeFor(ctx context.Context, t *testing.T, cl *kgo.Client, d time.Duration, want int) float64 {
	t.Helper()
	start := time.Now()
	total := 0
	for time.Since(start) < d && total < want {
		fctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := cl.PollFetches(fctx)
		cancel()
		fs.EachError(func(_ string, _ int32, err error) {
			if ctx.Err() == nil && err != context.DeadlineExceeded {
				t.Fatalf("fetch: %v", err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) { total += len(r.Value) })
	}
	return float64(total) / time.Since(start).Seconds()
}

// A consumer over its consumer_byte_rate is held near it, each fetch no
// larger than the quota allows over the sampled span, while another
// consumer of the same data is not throttled.
func TestFetchQuotaEnforced(t *testing.T) {
	n := harness.SingleNode(t, map[string]string{"quota.window.num": "3"})
	n.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Small batches: a fetch returns at least one whole batch, whatever
	// its size, so a consumer is held to the quota only over many.
	admCl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ProducerBatchMaxBytes(20<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	createTopic(t, adm, "cq", 1, nil)
	const size = 2 << 20
	value := bytes.Repeat([]byte("c"), 8<<10)
	for sent := 0; sent < size; sent += len(value) {
		admCl.Produce(ctx, &kgo.Record{Topic: "cq", Value: value}, nil)
	}
	if err := admCl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := alterQuota(ctx, t, adm, quotaEntity("client-id", "slowc"), kadm.AlterClientQuotaOp{Key: "consumer_byte_rate", Value: quotaRate}); err != nil {
		t.Fatal(err)
	}
	consumer := func(id string, h *throttleHook) *kgo.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.ClientID(id), kgo.WithHooks(h), kgo.ConsumeTopics("cq"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	slowHook, fastHook := new(throttleHook), new(throttleHook)
	fastRate := consumeFor(ctx, t, consumer("fastc", fastHook), time.Minute, size)
	slowRate := consumeFor(ctx, t, consumer("slowc", slowHook), 8*time.Second, size)
	t.Logf("slow consumer %.0f B/s (quota %d, %d throttles, longest %v); fast %.0f B/s", slowRate, quotaRate,
		slowHook.n.Load(), time.Duration(slowHook.max.Load()), fastRate)
	if slowRate > 3*quotaRate || slowHook.n.Load() == 0 {
		t.Errorf("throttled consumer ran at %.0f B/s with %d throttles, quota %d", slowRate, slowHook.n.Load(), quotaRate)
	}
	if fastHook.n.Load() != 0 || fastRate < 3*quotaRate {
		t.Errorf("the unlimited consumer was throttled %d times, ran at %.0f B/s", fastHook.n.Load(), fastRate)
	}
}

// An address over its connection_creation_rate has new connections held
// unanswered and closed, as Kafka does, while the rest are served; the
// quota is lifted without a restart.
func TestConnectionCreationRate(t *testing.T) {
	n := harness.SingleNode(t, map[string]string{"quota.window.num": "3"})
	n.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admCl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	const rate = 2
	if err := alterQuota(ctx, t, adm, quotaEntity("ip", "127.0.0.1"), kadm.AlterClientQuotaOp{Key: "connection_creation_rate", Value: rate}); err != nil {
		t.Fatal(err)
	}
	answered := func(count int) int {
		ok := 0
		for range count {
			req := kmsg.NewPtrApiVersionsRequest()
			if _, err := harness.Request(n.Addr, req, 5*time.Second); err == nil {
				ok++
			}
		}
		return ok
	}
	start := time.Now()
	got := answered(20)
	t.Logf("%d of 20 connections served in %v", got, time.Since(start))
	// Each refused connection is held up to a window (1 s), so at 2 per
	// second some, never all, are served.
	if got == 20 || got == 0 {
		t.Errorf("%d of 20 connections served at %d per second", got, rate)
	}
	if err := alterQuota(ctx, t, adm, quotaEntity("ip", "127.0.0.1"), kadm.AlterClientQuotaOp{Key: "connection_creation_rate", Value: 1e6}); err != nil {
		t.Fatal(err)
	}
	if got := answered(10); got != 10 {
		t.Errorf("%d of 10 connections served after the quota was raised", got)
	}
}

// controller_mutation_rate (KIP-599): a burst up to the bucket is served
// and throttled; while the client is in debt, topics of the versions
// that know the error are refused with THROTTLING_QUOTA_EXCEEDED and
// older versions are only throttled; other clients are not held; raising
// the quota applies at once.
func TestControllerMutationRate(t *testing.T) {
	n := harness.SingleNode(t, map[string]string{"quota.window.num": "2"})
	n.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admCl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	// harness.Request sends as client id spool-test.
	if err := alterQuota(ctx, t, adm, quotaEntity("client-id", "spool-test"), kadm.AlterClientQuotaOp{Key: "controller_mutation_rate", Value: 2}); err != nil {
		t.Fatal(err)
	}
	create := func(version int16, name string, partitions int32) (code int16, throttleMs int32) {
		t.Helper()
		req := kmsg.NewPtrCreateTopicsRequest()
		req.SetVersion(version)
		req.TimeoutMillis = 30000
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, partitions, 1
		req.Topics = append(req.Topics, rt)
		raw, err := harness.Request(n.Addr, req, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		resp := raw.(*kmsg.CreateTopicsResponse)
		if len(resp.Topics) != 1 {
			t.Fatalf("create %s: %+v", name, resp)
		}
		return resp.Topics[0].ErrorCode, resp.ThrottleMillis
	}
	// The bucket holds 2/s x 2 windows x 1 s = 4 permits: 24 partitions
	// leave it 20 in debt, 10 s to refill, ample for the steps below.
	if code, ms := create(7, "mut-a", 24); code != 0 || ms == 0 {
		t.Fatalf("a burst from a full bucket: error %d, throttle %d ms; want created and throttled", code, ms)
	}
	if code, ms := create(7, "mut-b", 1); code != kerr.ThrottlingQuotaExceeded.Code || ms == 0 {
		t.Fatalf("in debt, v7: error %d, throttle %d ms; want THROTTLING_QUOTA_EXCEEDED", code, ms)
	}
	if code, ms := create(5, "mut-c", 1); code != 0 || ms == 0 {
		t.Fatalf("in debt, v5 (permissive): error %d, throttle %d ms; want created and throttled", code, ms)
	}
	del := kmsg.NewPtrDeleteTopicsRequest()
	del.SetVersion(6)
	del.TimeoutMillis = 30000
	dt := kmsg.NewDeleteTopicsRequestTopic()
	dt.Topic = kmsg.StringPtr("mut-a")
	del.Topics = append(del.Topics, dt)
	if raw, err := harness.Request(n.Addr, del, 30*time.Second); err != nil || raw.(*kmsg.DeleteTopicsResponse).Topics[0].ErrorCode != kerr.ThrottlingQuotaExceeded.Code {
		t.Fatalf("delete in debt: %v %+v", err, raw)
	}
	cp := kmsg.NewPtrCreatePartitionsRequest()
	cp.SetVersion(3)
	cp.TimeoutMillis = 30000
	cpt := kmsg.NewCreatePartitionsRequestTopic()
	cpt.Topic, cpt.Count = "mut-a", 30
	cp.Topics = append(cp.Topics, cpt)
	if raw, err := harness.Request(n.Addr, cp, 30*time.Second); err != nil || raw.(*kmsg.CreatePartitionsResponse).Topics[0].ErrorCode != kerr.ThrottlingQuotaExceeded.Code {
		t.Fatalf("create partitions in debt: %v %+v", err, raw)
	}
	if res, err := adm.CreateTopic(ctx, 8, 1, nil, "mut-other"); err != nil || res.Err != nil {
		t.Fatalf("a client without the quota was held: %v %v", err, res.Err)
	}
	if err := alterQuota(ctx, t, adm, quotaEntity("client-id", "spool-test"), kadm.AlterClientQuotaOp{Key: "controller_mutation_rate", Value: 1e6}); err != nil {
		t.Fatal(err)
	}
	if code, _ := create(7, "mut-b", 1); code != 0 {
		t.Fatalf("after raising the quota: error %d", code)
	}
}

// max.connection.creation.rate, set at run time, delays accepting new
// connections to about that rate (here 5 a second: 30 connections take
// well over 2 s; unthrottled they take milliseconds).
func TestMaxConnectionCreationRate(t *testing.T) {
	n := harness.SingleNode(t, map[string]string{"quota.window.num": "2"})
	n.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admCl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer admCl.Close()
	if _, err := kadm.NewClient(admCl).AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: "max.connection.creation.rate", Value: kmsg.StringPtr("5")}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the broker applies the change from its image
	start := time.Now()
	for i := range 30 {
		if _, err := harness.Request(n.Addr, kmsg.NewPtrApiVersionsRequest(), 30*time.Second); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
	}
	elapsed := time.Since(start)
	t.Logf("30 connections at max.connection.creation.rate=5 took %v", elapsed)
	if elapsed < 2*time.Second {
		t.Errorf("30 connections took %v: accepting was not held to 5 a second", elapsed)
	}
}

// A user quota binds every client of that SASL principal and no other:
// alice, over producer_byte_rate, is held near it and told so; bob, on
// the same broker at the same time, is not throttled.
func TestUserQuotaSASL(t *testing.T) {
	n := secureNode(t, "SASL_PLAINTEXT", map[string]string{
		"sasl.enabled.mechanisms":                             "PLAIN",
		"sasl.mechanism.inter.broker.protocol":                "PLAIN",
		"listener.name.sasl_plaintext.plain.sasl.jaas.config": plainModule + ` required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret" user_bob="bob-secret";`,
		"quota.window.num":                                    "3",
	}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	adm := kadm.NewClient(aclClient(t, n.Addr, "admin"))
	createTopic(t, adm, "user-quota", 1, nil)
	if err := alterQuota(ctx, t, adm, quotaEntity("user", "alice"), kadm.AlterClientQuotaOp{Key: "producer_byte_rate", Value: quotaRate}); err != nil {
		t.Fatal(err)
	}
	aliceHook, bobHook := new(throttleHook), new(throttleHook)
	opts := func(h *throttleHook) []kgo.Opt {
		return []kgo.Opt{kgo.WithHooks(h), kgo.ProducerLinger(0), kgo.ProducerBatchCompression(kgo.NoCompression())}
	}
	alice, bob := aclClient(t, n.Addr, "alice", opts(aliceHook)...), aclClient(t, n.Addr, "bob", opts(bobHook)...)
	var bobRate float64
	done := make(chan struct{})
	go func() {
		defer close(done)
		bobRate = produceFor(ctx, t, bob, "user-quota", 4*time.Second)
	}()
	aliceRate := produceFor(ctx, t, alice, "user-quota", 8*time.Second)
	<-done
	t.Logf("alice %.0f B/s (quota %d, %d throttles); bob %.0f B/s", aliceRate, quotaRate, aliceHook.n.Load(), bobRate)
	if aliceRate > 3*quotaRate || aliceHook.n.Load() == 0 {
		t.Errorf("alice ran at %.0f B/s with %d throttles, quota %d", aliceRate, aliceHook.n.Load(), quotaRate)
	}
	if bobHook.n.Load() != 0 || bobRate < 3*quotaRate {
		t.Errorf("bob was throttled %d times, ran at %.0f B/s", bobHook.n.Load(), bobRate)
	}
}
