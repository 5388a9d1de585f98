package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/broker/txn"
	"spool/controller/metadata"
	"spool/protocol"
	"spool/record"
	"spool/storage"
)

// minSyncWait is the least time an acks=all request waits for its fsync,
// whatever its timeout says: a client asking for durability with a tiny
// timeout would otherwise see spurious REQUEST_TIMED_OUT errors.
const minSyncWait = 5 * time.Second

// inflateWait is how long a batch may wait for room to inflate in: the
// request's timeout, within bounds (acks=0 requests often carry none).
func inflateWait(timeoutMs int32) time.Duration {
	return min(max(time.Duration(timeoutMs)*time.Millisecond, time.Second), 30*time.Second)
}

// pendingSync is an acks=all partition answered only once its log is
// durable up to upTo.
type pendingSync struct {
	minInsync int
	resp      *kmsg.ProduceResponseTopicPartition
	p         *partition
	upTo      int64
}

// produceRequest is one Produce request being served.
type produceRequest struct {
	// ctx ends when the request's connection closes.
	ctx      context.Context
	r        *kmsg.ProduceRequest
	img      *metadata.Image
	listener string
	params   appendParams
	resp     *kmsg.ProduceResponse
	waits    []pendingSync
	failed   bool // some partition has an error (acks=0 closes the connection)
	// verified holds the coordinator's verdicts on the partitions whose
	// transactional batches open a transaction, asked once per request.
	verified map[txn.Partition]verdict
	// topics has each request topic's metadata and configs, resolved once;
	// topicsBuf holds them for the usual request of a few topics.
	topics    []produceTopicInfo
	topicsBuf [4]produceTopicInfo
	// checked, when set, holds every partition's batch validated ahead of
	// the appends, indexed from topics[i].first in request order.
	checked []checkedBatch
	// appended is the record count producePartition last appended.
	appended int
	// room is where validating takes the memory to inflate batches.
	room record.Room
}

type produceTopicInfo struct {
	topic *metadata.Topic // nil when unknown
	cfg   produceConfig
	first int // index of the topic's first partition in checked
}

// handleProduce validates and appends on the connection's reading
// goroutine, so appends keep request order, then answers: at once for
// acks=1, never for acks=0, and for acks=all only after the appended
// batches are fsynced, waiting off the reading goroutine.
func (b *Broker) handleProduce(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.ProduceRequest)
	if r.Version < minProduceVersion {
		respond(unsupportedProduce(r))
		return
	}
	now := time.Now().UnixMilli()
	pr := &produceRequest{
		ctx: req.Context(), r: r, img: b.Image(), listener: req.Listener,
		params: appendParams{nowMs: now, expiryMs: b.cfg.Static.Int("producer.id.expiration.ms")},
		resp:   r.ResponseKind().(*kmsg.ProduceResponse),
	}
	pr.room = record.Room{Budget: b.inflate, Ctx: pr.ctx, Deadline: time.UnixMilli(now).Add(inflateWait(r.TimeoutMillis))}
	pr.resp.ThrottleMillis = b.throttle(req, QuotaProduce, int64(len(req.Body)))
	b.prevalidate(pr)
	for i := range r.Topics {
		pr.resp.Topics = append(pr.resp.Topics, b.produceTopic(pr, i))
	}
	switch {
	case r.Acks == 0 && pr.failed:
		// A client that wants no answer learns of the failure only this
		// way, as with Kafka.
		respond(protocol.CloseConn)
	case r.Acks == 0:
		// No answer carries the throttle, so the mute alone holds the
		// client, as in Kafka.
		respond(protocol.Response{None: true, Throttle: time.Duration(pr.resp.ThrottleMillis) * time.Millisecond})
	case len(pr.waits) == 0:
		respond(protocol.Msg(pr.resp))
	default:
		go func() {
			b.awaitSyncs(pr.ctx, r.TimeoutMillis, pr.waits)
			respond(protocol.Msg(pr.resp))
		}()
	}
}

func (b *Broker) produceTopic(pr *produceRequest, ti int) kmsg.ProduceResponseTopic {
	t := &pr.r.Topics[ti]
	rt := kmsg.NewProduceResponseTopic()
	rt.Topic, rt.TopicID = t.Topic, t.TopicID
	rt.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(t.Partitions))
	topic, cfg := pr.topics[ti].topic, &pr.topics[ti].cfg
	var counters *topicCounters
	if topic != nil {
		counters = b.topicStats.get(topic.Name)
	}
	for i := range t.Partitions {
		out := &rt.Partitions[i]
		*out = kmsg.NewProduceResponseTopicPartition()
		out.Partition, out.BaseOffset = t.Partitions[i].Partition, -1
		var pre *checkedBatch
		if pr.checked != nil {
			pre = &pr.checked[pr.topics[ti].first+i]
		}
		pr.appended = 0
		b.producePartition(pr, topic, cfg, &t.Partitions[i], pre, out)
		if out.ErrorCode != 0 {
			pr.failed = true
		}
		counters.produced(len(t.Partitions[i].Records), pr.appended, out.ErrorCode != 0)
	}
	return rt
}

// producePartition fills out for one partition of the request; pre, when
// set, is its batch already validated.
func (b *Broker) producePartition(pr *produceRequest, topic *metadata.Topic, cfg *produceConfig,
	in *kmsg.ProduceRequestTopicPartition, pre *checkedBatch, out *kmsg.ProduceResponseTopicPartition) {
	fail := func(err *kerr.Error, msg string) {
		out.ErrorCode, out.ErrorMessage = err.Code, &msg
	}
	switch {
	case pr.r.Acks != 0 && pr.r.Acks != 1 && pr.r.Acks != -1:
		fail(kerr.InvalidRequiredAcks, "acks must be -1, 0 or 1")
		return
	case topic == nil && pr.r.Version >= 13:
		fail(kerr.UnknownTopicID, "unknown topic id")
		return
	case topic == nil || topic.Partition(in.Partition) == nil:
		fail(kerr.UnknownTopicOrPartition, "unknown topic or partition")
		return
	case isInternal(topic.Name):
		fail(kerr.InvalidTopicException, "clients may not write to internal topic "+topic.Name)
		return
	}
	p := b.replicas.get(tp{topic.Name, in.Partition})
	if p == nil {
		fail(kerr.NotLeaderForPartition, "this broker does not host the partition")
		b.setCurrentLeader(pr, topic.Partition(in.Partition), out)
		return
	}
	// From here the partition is ours: its errors carry the log start
	// offset, as Kafka's do.
	fail = func(err *kerr.Error, msg string) {
		out.ErrorCode, out.ErrorMessage, out.LogStartOffset = err.Code, &msg, p.log.LogStartOffset()
	}
	if isr := p.inSyncReplicas(); pr.r.Acks == -1 && len(isr) < cfg.minInsync {
		fail(kerr.NotEnoughReplicas, fmt.Sprintf("the ISR %v is smaller than min.insync.replicas=%d", isr, cfg.minInsync))
		return
	}
	var h record.Header
	var bad batchProblem
	if pre != nil && pre.done {
		h, bad = pre.h, pre.bad
	} else {
		h, bad = validateProduce(in.Records, pr.r.Version, cfg, pr.params.nowMs, pr.room)
	}
	if bad.err != nil {
		fail(bad.err, bad.msg)
		out.ErrorRecords = bad.records
		if !bad.inBatch {
			out.LogStartOffset = -1
		}
		return
	}
	if h.IsTransactional() {
		if err, msg := b.verifier.check(pr, topic.Name, in.Partition, h); err != nil {
			fail(err, msg)
			return
		}
	}
	ap := pr.params
	ap.appendTimeMs = -1
	if cfg.logAppendTime {
		ap.appendTimeMs = ap.nowMs
	}
	res := p.appendAsLeader(in.Records, h, ap)
	if res.snapshotErr != nil {
		b.log.Warn("producer state snapshot failed", zap.Stringer("partition", tp{topic.Name, in.Partition}), zap.Error(res.snapshotErr))
	}
	if res.err != nil {
		fail(res.err, res.msg)
		if res.err == kerr.NotLeaderForPartition {
			b.setCurrentLeader(pr, topic.Partition(in.Partition), out)
		}
		return
	}
	out.BaseOffset, out.LogAppendTime, out.LogStartOffset = res.base, res.logAppendTime, p.log.LogStartOffset()
	pr.appended = int(res.last - res.base + 1)
	if pr.r.Acks == -1 {
		pr.waits = append(pr.waits, pendingSync{resp: out, p: p, upTo: res.last + 1, minInsync: cfg.minInsync})
	}
}

// setCurrentLeader tells v10+ clients where the partition's leader is
// (KIP-951), sparing them a metadata round trip.
func (b *Broker) setCurrentLeader(pr *produceRequest, mp *metadata.Partition, out *kmsg.ProduceResponseTopicPartition) {
	if mp == nil || mp.Leader < 0 || pr.r.Version < 10 {
		return
	}
	out.CurrentLeader.LeaderID, out.CurrentLeader.LeaderEpoch = mp.Leader, mp.LeaderEpoch
	for _, nb := range pr.resp.Brokers {
		if nb.NodeID == mp.Leader {
			return
		}
	}
	for _, mb := range brokersFor(pr.img, pr.listener) {
		if mb.NodeID == mp.Leader {
			nb := kmsg.NewProduceResponseBroker()
			nb.NodeID, nb.Host, nb.Port, nb.Rack = mb.NodeID, mb.Host, mb.Port, mb.Rack
			pr.resp.Brokers = append(pr.resp.Brokers, nb)
		}
	}
}

// awaitSyncs waits until every acks=all partition has what this request
// appended on every ISR member, and, where the ISR is the leader alone, on
// its disk; failures become partition errors. The partitions that need an
// fsync are flushed together in one pass (storage.SyncAll), and storage
// groups concurrent waiters on a log into one fsync.
func (b *Broker) awaitSyncs(ctx context.Context, timeoutMs int32, waits []pendingSync) {
	ctx, cancel := context.WithTimeout(ctx,
		max(time.Duration(timeoutMs)*time.Millisecond, minSyncWait))
	defer cancel()
	errs := make([]error, len(waits))
	syncs := make([]storage.SyncTarget, 0, len(waits))
	of := make([]int, 0, len(waits)) // syncs[k] is for waits[of[k]]
	for i, w := range waits {
		err := w.p.awaitCommitted(ctx, w.upTo)
		isr := w.p.inSyncReplicas()
		if err == nil && len(isr) < w.minInsync {
			msg := fmt.Sprintf("written, but the ISR %v shrank below min.insync.replicas=%d", isr, w.minInsync)
			w.resp.ErrorCode, w.resp.ErrorMessage = kerr.NotEnoughReplicasAfterAppend.Code, &msg
			continue
		}
		if err == nil && len(isr) <= 1 {
			syncs = append(syncs, storage.SyncTarget{Log: w.p.log, UpTo: w.upTo})
			of = append(of, i)
		}
		errs[i] = err
	}
	storage.SyncAll(ctx, syncs)
	for k := range syncs {
		errs[of[k]] = syncs[k].Err
	}
	for i, w := range waits {
		if errs[i] != nil {
			b.failSync(w, errs[i])
		}
	}
}

// failSync turns a failed wait for durability into the partition's error.
func (b *Broker) failSync(w pendingSync, err error) {
	code, msg := kerr.KafkaStorageError.Code, err.Error()
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		code = kerr.RequestTimedOut.Code
	case errors.Is(err, storage.ErrClosed):
		code = kerr.NotLeaderForPartition.Code
	default:
		b.log.Error("fsync for acks=all failed", zap.String("dir", w.p.log.Dir()), zap.Error(err))
	}
	w.resp.ErrorCode, w.resp.ErrorMessage = code, &msg
	w.resp.BaseOffset, w.resp.LogAppendTime, w.resp.LogStartOffset = -1, -1, -1
}

// minProduceVersion is the oldest Produce spool accepts (Kafka 4 dropped
// the v0 and v1 message formats with Produce v0-v2). ApiVersions still
// advertises v0, as Kafka 4 does, because librdkafka before 2.11 only
// compresses when a broker lists Produce v0 (KAFKA-18659); such a request
// gets UNSUPPORTED_VERSION for every partition rather than a dropped
// connection.
const minProduceVersion = 3

func unsupportedProduce(r *kmsg.ProduceRequest) protocol.Response {
	if r.Acks == 0 {
		return protocol.CloseConn
	}
	resp := r.ResponseKind().(*kmsg.ProduceResponse)
	for _, t := range r.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic, rt.TopicID = t.Topic, t.TopicID
		for _, p := range t.Partitions {
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, kerr.UnsupportedVersion.Code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return protocol.Msg(resp)
}
