package broker

import (
	"cmp"
	"encoding/binary"
	"slices"
	"sync"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
	"spool/storage"
)

// copyBelow is the region size under which record bytes are read into the
// response buffer instead of sent with sendfile. A sendfile costs a flush of
// the buffered bytes before it plus its own syscall; a copied region costs
// one pread and rides along with the next write. BenchmarkRegionSend puts
// the crossover between 16 and 32 KiB on loopback; a real NIC makes the
// copy dearer, so the threshold sits at the low end.
const copyBelow = 16 << 10

// fetchBody is a Fetch response as a scatter list: every encoded byte is in
// buf, and each file region is sent after buf[:at]. The frame length is
// known before anything is written, so regions go straight from the page
// cache to the socket.
type fetchBody struct {
	version int16
	buf     []byte
	regions []bodyRegion
	fileLen int // bytes that regions hold
	copied  int // record bytes read into buf
}

type bodyRegion struct {
	at    int
	slice storage.Slice
}

var fetchBodies = sync.Pool{New: func() any { return &fetchBody{buf: make([]byte, 0, 1024)} }}

// ThrottleMillis is the response's throttle_time_ms, which leads the
// body.
func (fb *fetchBody) ThrottleMillis() int32 {
	if len(fb.buf) < 4 {
		return 0
	}
	return int32(binary.BigEndian.Uint32(fb.buf[:4]))
}

func newFetchBody(version int16) *fetchBody {
	fb := fetchBodies.Get().(*fetchBody)
	fb.version = version
	return fb
}

// Len implements protocol.Body.
func (fb *fetchBody) Len() int { return len(fb.buf) + fb.fileLen }

// Flexible implements protocol.Body.
func (fb *fetchBody) Flexible() bool { return fb.version >= 12 }

// WriteTo implements protocol.Body.
func (fb *fetchBody) WriteTo(w *protocol.Writer) error {
	from := 0
	for i := range fb.regions {
		r := &fb.regions[i]
		if _, err := w.Write(fb.buf[from:r.at]); err != nil {
			return err
		}
		if err := w.SendFile(r.slice.File(), r.slice.Pos(), r.slice.Len()); err != nil {
			return err
		}
		from = r.at
	}
	w.CountCopied(fb.copied)
	_, err := w.Write(fb.buf[from:])
	return err
}

// Release implements protocol.Body: it unpins every region and recycles the
// body, which must not be used afterwards.
func (fb *fetchBody) Release() {
	for i := range fb.regions {
		fb.regions[i].slice.Release()
		fb.regions[i] = bodyRegion{}
	}
	if cap(fb.buf) > 1<<20 {
		return // let an outsized buffer go rather than pin it in the pool
	}
	fb.buf, fb.regions = fb.buf[:0], fb.regions[:0]
	fb.fileLen, fb.copied = 0, 0
	fetchBodies.Put(fb)
}

func (fb *fetchBody) flexible() bool { return fb.version >= 12 }

func (fb *fetchBody) arrayLen(n int) {
	if fb.flexible() {
		fb.buf = kbin.AppendCompactArrayLen(fb.buf, n)
	} else {
		fb.buf = kbin.AppendArrayLen(fb.buf, n)
	}
}

func (fb *fetchBody) str(s string) {
	if fb.flexible() {
		fb.buf = kbin.AppendCompactString(fb.buf, s)
	} else {
		fb.buf = kbin.AppendString(fb.buf, s)
	}
}

// noTags closes a flexible struct without tagged fields.
func (fb *fetchBody) noTags() {
	if fb.flexible() {
		fb.buf = append(fb.buf, 0)
	}
}

// header encodes the fields before the topics array.
func (fb *fetchBody) header(errCode int16, sessionID int32, topics int) {
	fb.buf = kbin.AppendInt32(fb.buf, 0) // throttle
	if fb.version >= 7 {
		fb.buf = kbin.AppendInt16(fb.buf, errCode)
		fb.buf = kbin.AppendInt32(fb.buf, sessionID)
	}
	fb.arrayLen(topics)
}

// topic encodes a topic's fields up to its partitions array.
func (fb *fetchBody) topic(name string, id [16]byte, partitions int) {
	if fb.version >= 13 {
		fb.buf = kbin.AppendUuid(fb.buf, id)
	} else {
		fb.str(name)
	}
	fb.arrayLen(partitions)
}

// partition encodes one partition; the body takes over r.records.
func (fb *fetchBody) partition(r *fetchResult, isolation int8) {
	fb.buf = kbin.AppendInt32(fb.buf, r.partition)
	fb.buf = kbin.AppendInt16(fb.buf, r.errCode)
	fb.buf = kbin.AppendInt64(fb.buf, r.hw)
	fb.buf = kbin.AppendInt64(fb.buf, r.lso)
	if fb.version >= 5 {
		fb.buf = kbin.AppendInt64(fb.buf, r.logStart)
	}
	// Aborted transactions: null for read_uncommitted, which never asks
	// for them, and a list (maybe empty) for read_committed and for a
	// partition the broker does not know, as Kafka answers.
	null := isolation != readCommitted && r.errCode != kerr.UnknownTopicOrPartition.Code && r.errCode != kerr.UnknownTopicID.Code
	if fb.flexible() {
		fb.buf = kbin.AppendCompactNullableArrayLen(fb.buf, len(r.aborted), null)
	} else {
		fb.buf = kbin.AppendNullableArrayLen(fb.buf, len(r.aborted), null)
	}
	for _, a := range r.aborted {
		fb.buf = kbin.AppendInt64(fb.buf, a.ProducerID)
		fb.buf = kbin.AppendInt64(fb.buf, a.FirstOffset)
		fb.noTags()
	}
	if fb.version >= 11 {
		fb.buf = kbin.AppendInt32(fb.buf, r.preferred)
	}
	fb.records(&r.records)
	r.records = storage.Slice{}
	if fb.flexible() {
		fb.partitionTags(r)
	}
}

// records encodes the records length and queues the region, or copies a
// small one into buf.
func (fb *fetchBody) records(sl *storage.Slice) {
	n := sl.Len()
	if fb.flexible() {
		fb.buf = kbin.AppendUvarint(fb.buf, uint32(n)+1)
	} else {
		fb.buf = kbin.AppendInt32(fb.buf, int32(n))
	}
	if n == 0 {
		sl.Release()
		return
	}
	if n < copyBelow || sl.InMemory() {
		at := len(fb.buf)
		if buf, err := sl.ReadAll(fb.buf); err == nil {
			fb.buf, fb.copied = buf, fb.copied+n
			sl.Release()
			return
		}
		fb.buf = fb.buf[:at] // sendfile will report the failure
	}
	fb.regions = append(fb.regions, bodyRegion{at: len(fb.buf), slice: *sl})
	fb.fileLen += n
}

// partitionTags encodes the tagged fields Spool sets, as kmsg does when
// they differ from their defaults: DivergingEpoch (tag 0) for a follower
// whose log diverged, CurrentLeader (tag 1) for a client that asked the
// wrong broker.
func (fb *fetchBody) partitionTags(r *fetchResult) {
	diverging := r.divergingEpoch != -1 || r.divergingEnd != -1
	leader := r.leaderID != -1 || r.leaderEpoch != -1
	n := byte(0)
	if diverging {
		n++
	}
	if leader {
		n++
	}
	fb.buf = append(fb.buf, n)
	if diverging {
		fb.buf = append(fb.buf, 0, 13) // tag 0, 13 bytes
		fb.buf = kbin.AppendInt32(fb.buf, r.divergingEpoch)
		fb.buf = kbin.AppendInt64(fb.buf, r.divergingEnd)
		fb.buf = append(fb.buf, 0)
	}
	if leader {
		fb.buf = append(fb.buf, 1, 9) // tag 1, 9 bytes
		fb.buf = kbin.AppendInt32(fb.buf, r.leaderID)
		fb.buf = kbin.AppendInt32(fb.buf, r.leaderEpoch)
		fb.buf = append(fb.buf, 0)
	}
}

// finish encodes the top-level tagged fields: NodeEndpoints (tag 0, v16+)
// when some partition names a new leader.
func (fb *fetchBody) finish(brokers []kmsg.FetchResponseBroker) {
	if !fb.flexible() {
		return
	}
	if len(brokers) == 0 || fb.version < 16 {
		fb.buf = append(fb.buf, 0)
		return
	}
	fb.buf = append(fb.buf, 1, 0)
	start := len(fb.buf)
	fb.arrayLen(len(brokers))
	for i := range brokers {
		br := &brokers[i]
		fb.buf = kbin.AppendInt32(fb.buf, br.NodeID)
		fb.buf = kbin.AppendCompactString(fb.buf, br.Host)
		fb.buf = kbin.AppendInt32(fb.buf, br.Port)
		fb.buf = kbin.AppendCompactNullableString(fb.buf, br.Rack)
		fb.buf = append(fb.buf, 0)
	}
	// The tag's size precedes its value: encode the size, then move the
	// value behind it.
	size := len(fb.buf) - start
	var lenBuf [5]byte
	l := kbin.AppendUvarint(lenBuf[:0], uint32(size))
	fb.buf = append(fb.buf, l...)
	copy(fb.buf[start+len(l):], fb.buf[start:start+size])
	copy(fb.buf[start:], l)
}

// response encodes a round, leaving out what an incremental session need
// not repeat. Partitions are grouped into topics by consecutive runs, which
// keeps the request's (or the session's) order.
func (op *fetchOp) response(rd fetchRound) protocol.Response {
	results := rd.results
	var sessionID int32
	if op.session != nil {
		results = op.session.settle(results, op.incremental)
		sessionID = op.session.id
	}
	op.count(results)
	fb := newFetchBody(op.version)
	fb.header(0, sessionID, countRuns(results, op.version))
	for i := 0; i < len(results); {
		j := i + 1
		for j < len(results) && sameTopic(results[i].target, results[j].target, op.version) {
			j++
		}
		t := results[i].target
		fb.topic(t.topic, t.topicID, j-i)
		for k := i; k < j; k++ {
			fb.partition(&results[k], op.isolation)
		}
		fb.noTags()
		i = j
	}
	fb.finish(op.nodeEndpoints(results))
	if op.replicaID < 0 {
		// The throttle field leads the body; the fetch quota counts the
		// whole response, so it is filled in last. As in Kafka, a
		// response that puts the consumer over its quota is not sent:
		// its bytes are taken back and an empty response (the session
		// kept) carries the throttle, so the consumer never runs ahead
		// of its quota by a whole fetch.
		size := int64(fb.Len())
		ms := op.b.throttle(op.req, QuotaFetch, size)
		if ms > 0 {
			op.b.throttle(op.req, QuotaFetch, -size)
			fb.Release()
			fb = newFetchBody(op.version)
			fb.header(0, sessionID, 0)
			fb.finish(nil)
		}
		binary.BigEndian.PutUint32(fb.buf[:4], uint32(ms))
	}
	return protocol.Response{Body: fb}
}

func sameTopic(a, b *fetchTarget, version int16) bool {
	if version >= 13 {
		return a.topicID == b.topicID
	}
	return a.topic == b.topic
}

func countRuns(results []fetchResult, version int16) int {
	n := 0
	for i := range results {
		if i == 0 || !sameTopic(results[i-1].target, results[i].target, version) {
			n++
		}
	}
	return n
}

// nodeEndpoints lists the leaders named in CurrentLeader fields, on the
// client's listener (v16+, KIP-951).
func (op *fetchOp) nodeEndpoints(results []fetchResult) []kmsg.FetchResponseBroker {
	if op.version < 16 {
		return nil
	}
	var out []kmsg.FetchResponseBroker
	img := op.b.Image()
	for i := range results {
		id := results[i].leaderID
		if id < 0 || slices.ContainsFunc(out, func(b kmsg.FetchResponseBroker) bool { return b.NodeID == id }) {
			continue
		}
		br := img.Brokers[id]
		if br == nil {
			continue
		}
		if ep, ok := br.Endpoint(op.listener); ok {
			fb := kmsg.NewFetchResponseBroker()
			fb.NodeID, fb.Host, fb.Port, fb.Rack = id, ep.Host, int32(ep.Port), br.Rack
			out = append(out, fb)
		}
	}
	slices.SortFunc(out, func(a, b kmsg.FetchResponseBroker) int { return cmp.Compare(a.NodeID, b.NodeID) })
	return out
}
