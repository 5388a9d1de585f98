package broker

import (
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
	"spool/security"
	"spool/storage"
)

// recordingQuotas throttles every use by a fixed time and keeps the uses.
type recordingQuotas struct {
	mu    sync.Mutex
	uses  []QuotaUse
	delay time.Duration
}

func (q *recordingQuotas) Record(u QuotaUse) time.Duration {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.uses = append(q.uses, u)
	return q.delay
}

func (q *recordingQuotas) taken() []QuotaUse {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]QuotaUse(nil), q.uses...)
}

func quotaRequest(msg kmsg.Request, body []byte) *protocol.Request {
	client := "quota-client"
	return &protocol.Request{
		Header:    protocol.Header{Key: msg.Key(), Version: msg.GetVersion(), ClientID: &client},
		Listener:  "PLAINTEXT",
		Msg:       msg,
		Body:      body,
		Principal: security.Principal{Type: "User", Name: "alice"},
	}
}

func serveOnce(t *testing.T, serve protocol.ServeFunc, req *protocol.Request) protocol.Response {
	t.Helper()
	ch := make(chan protocol.Response, 1)
	serve(req, func(r protocol.Response) { ch <- r })
	select {
	case r := <-ch:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("no response")
	}
	return protocol.Response{}
}

// The produce quota sees the request's size, principal and client id, and
// its answer is the response's throttle time.
func TestQuotasThrottleProduce(t *testing.T) {
	tb := newTestBroker(t, nil, storage.Options{})
	q := &recordingQuotas{delay: 1500 * time.Millisecond}
	tb.b.cfg.Quotas = q
	r := produceReq(12, 1, buildBatch(t, batchSpec{recs: values(3, 10)}))
	body := make([]byte, 777)
	resp := serveOnce(t, tb.b.handleProduce, quotaRequest(r, body)).Msg.(*kmsg.ProduceResponse)
	if resp.ThrottleMillis != 1500 {
		t.Fatalf("throttle %d ms, want 1500", resp.ThrottleMillis)
	}
	uses := q.taken()
	if len(uses) != 1 {
		t.Fatalf("%d quota uses, want 1", len(uses))
	}
	u := uses[0]
	if u.Kind != QuotaProduce || u.Bytes != 777 || u.ClientID != "quota-client" || u.Principal.Name != "alice" {
		t.Fatalf("use %+v", u)
	}
}

// The fetch quota counts the whole response; an unthrottled consumer gets
// its records, and one the response would put over its quota gets an
// empty response with the throttle while the bytes are taken back, as in
// Kafka.
func TestQuotasThrottleFetch(t *testing.T) {
	e := newDataEnv(t, nil)
	id := e.topic("q", 1, nil)
	e.append("q", 0, testBatch(4, 100, 1, 0))
	fetch := func(q *recordingQuotas) (*kmsg.FetchResponse, int) {
		e.b.cfg.Quotas = q
		r := serveOnce(t, e.b.handleFetch, quotaRequest(oneFetch(13, "q", id, 0, 0), nil))
		fb := r.Body.(*fetchBody)
		size := fb.Len()
		resp := kmsg.NewPtrFetchResponse()
		resp.SetVersion(13)
		if err := resp.ReadFrom(bodyBytes(t, fb)); err != nil {
			t.Fatal(err)
		}
		return resp, size
	}
	free := &recordingQuotas{}
	resp, size := fetch(free)
	if resp.ThrottleMillis != 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions[0].RecordBatches) == 0 {
		t.Fatalf("unthrottled fetch: throttle %d ms, %d topics", resp.ThrottleMillis, len(resp.Topics))
	}
	if uses := free.taken(); len(uses) != 1 || uses[0].Kind != QuotaFetch || uses[0].Bytes != int64(size) {
		t.Fatalf("uses %+v, want one fetch of %d bytes", uses, size)
	}
	held := &recordingQuotas{delay: 250 * time.Millisecond}
	resp, _ = fetch(held)
	if resp.ThrottleMillis != 250 || len(resp.Topics) != 0 {
		t.Fatalf("throttled fetch: throttle %d ms, %d topics; want 250 ms and none", resp.ThrottleMillis, len(resp.Topics))
	}
	if uses := held.taken(); len(uses) != 2 || uses[0].Bytes != int64(size) || uses[1].Bytes != -int64(size) {
		t.Fatalf("uses %+v, want %d bytes counted and taken back", uses, size)
	}
}

// Without quotas nobody is throttled.
func TestQuotasNoneThrottlesNobody(t *testing.T) {
	tb := newTestBroker(t, nil, storage.Options{})
	r := produceReq(12, 1, buildBatch(t, batchSpec{recs: values(1, 10)}))
	if got := serveOnce(t, tb.b.handleProduce, quotaRequest(r, nil)).Msg.(*kmsg.ProduceResponse).ThrottleMillis; got != 0 {
		t.Fatalf("throttle %d ms without quotas", got)
	}
}

// Every metered response carries the larger of the handler's throttle and
// the request-time one, in throttle_time_ms and as the connection's mute;
// the handshake APIs are never counted.
func TestMeteredThrottlesAndMutes(t *testing.T) {
	tb := newTestBroker(t, nil, storage.Options{})
	q := &recordingQuotas{delay: 700 * time.Millisecond}
	tb.b.cfg.Quotas = q
	answer := func(req *protocol.Request, respond func(protocol.Response)) {
		respond(protocol.Msg(kmsg.NewPtrMetadataResponse()))
	}
	r := serveOnce(t, tb.b.metered(3, answer), quotaRequest(kmsg.NewPtrMetadataRequest(), nil))
	if got := r.Msg.(*kmsg.MetadataResponse).ThrottleMillis; got != 700 || r.Throttle != 700*time.Millisecond {
		t.Fatalf("throttle %d ms, mute %v; want 700 ms both", got, r.Throttle)
	}
	if uses := q.taken(); len(uses) != 1 || uses[0].Kind != QuotaRequest || uses[0].Bytes <= 0 {
		t.Fatalf("uses %+v, want one request-time use", uses)
	}
	r = serveOnce(t, tb.b.metered(18, answer), quotaRequest(kmsg.NewPtrApiVersionsRequest(), nil))
	if len(q.taken()) != 1 || r.Throttle != 0 {
		t.Fatalf("ApiVersions was counted (mute %v)", r.Throttle)
	}
	big := func(req *protocol.Request, respond func(protocol.Response)) {
		resp := kmsg.NewPtrMetadataResponse()
		resp.ThrottleMillis = 5000
		respond(protocol.Msg(resp))
	}
	r = serveOnce(t, tb.b.metered(3, big), quotaRequest(kmsg.NewPtrMetadataRequest(), nil))
	if got := r.Msg.(*kmsg.MetadataResponse).ThrottleMillis; got != 5000 || r.Throttle != 5*time.Second {
		t.Fatalf("throttle %d ms, mute %v; want the handler's 5000 ms", got, r.Throttle)
	}
}
