package broker

import (
	"math"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
	"spool/quota"
	"spool/security"
)

// QuotaKind names Kafka's client quota types.
type QuotaKind int8

const (
	// QuotaProduce is producer_byte_rate: bytes of a client's produce
	// requests.
	QuotaProduce QuotaKind = iota
	// QuotaFetch is consumer_byte_rate: bytes of the fetch responses sent
	// to a consumer (follower fetches are not counted, as in Kafka).
	QuotaFetch
	// QuotaRequest is request_percentage: Bytes holds the nanoseconds
	// spent serving the request.
	QuotaRequest
)

// QuotaUse is one request's use of a quota.
type QuotaUse struct {
	Kind      QuotaKind
	Principal security.Principal
	ClientID  string
	Bytes     int64
	Now       time.Time
}

// Quotas is the broker's client quota hook: the handlers of quota-bound
// APIs report each request's use, and the answer is how long the client
// must hold off, which they put in the response's throttle_time_ms (what
// KIP-219 clients wait out before their next request) and for which the
// connection is muted after the response. It is called on request
// goroutines concurrently and must not block. New fills in the client
// quotas of the metadata image (clientQuotas) when none is given.
type Quotas interface {
	Record(u QuotaUse) time.Duration
}

// clientQuotas enforces the image's client quotas with quota.Manager.
type clientQuotas struct {
	m *quota.Manager
}

func newClientQuotas(w quota.Window, image func() *metadata.Image) *clientQuotas {
	return &clientQuotas{m: quota.NewManager(w, func() quota.Quotas { return image().Quotas })}
}

var quotaKinds = [...]quota.Kind{QuotaProduce: quota.Produce, QuotaFetch: quota.Fetch, QuotaRequest: quota.Request}

func (q *clientQuotas) Record(u QuotaUse) time.Duration {
	v := float64(u.Bytes)
	if u.Kind == QuotaRequest {
		v = v * 100 / float64(time.Second) // percent of one thread, per second
	}
	return q.m.Record(quotaKinds[u.Kind], u.Principal.Name, u.ClientID, v, u.Now)
}

// MaxInWindow is the most bytes of kind the client may take in one
// response; -1 when it is not bound.
func (q *clientQuotas) MaxInWindow(kind QuotaKind, p security.Principal, clientID string) int64 {
	v := q.m.MaxInWindow(quotaKinds[kind], p.Name, clientID)
	if v < 0 {
		return -1
	}
	return int64(min(v, math.MaxInt32))
}

// windowBound is implemented by Quotas that can cap a response's size.
type windowBound interface {
	MaxInWindow(kind QuotaKind, p security.Principal, clientID string) int64
}

// fetchQuotaCap is the most bytes a consumer's fetch may return under
// consumer_byte_rate, or -1: as in Kafka, a quota-bound consumer never
// gets more in one response than its quota allows over the sampled span,
// or one large fetch would outrun any throttle.
func (b *Broker) fetchQuotaCap(req *protocol.Request) int64 {
	wb, ok := b.cfg.Quotas.(windowBound)
	if !ok {
		return -1
	}
	id := ""
	if req.ClientID != nil {
		id = *req.ClientID
	}
	return wb.MaxInWindow(QuotaFetch, req.Principal, id)
}

// ConnectionQuota is protocol.Server's ConnectionQuota: how long to hold
// a new connection from ip before closing it under the ip entities'
// connection_creation_rate (zero admits it). As in Kafka, the
// inter-broker listener is exempt when it is not the only listener.
func (b *Broker) ConnectionQuota(listener string, ip netip.Addr, now time.Time) time.Duration {
	cq, ok := b.cfg.Quotas.(*clientQuotas)
	if !ok || !ip.IsValid() {
		return 0
	}
	if listener == b.cfg.Node.InterBrokerListener && b.clientListeners() > 1 {
		return 0
	}
	return cq.m.RecordConnection(ip.String(), now)
}

// quotaWindow reads quota.window.num and quota.window.size.seconds.
func (b *Broker) quotaWindow() quota.Window {
	return quota.Window{Samples: int(b.cfg.Static.Int("quota.window.num")),
		Size: time.Duration(b.cfg.Static.Int("quota.window.size.seconds")) * time.Second}
}

// throttle reports req's use of kind to the configured quotas and returns
// the throttle time for its response, in milliseconds.
func (b *Broker) throttle(req *protocol.Request, kind QuotaKind, bytes int64) int32 {
	q := b.cfg.Quotas
	if q == nil {
		return 0
	}
	u := QuotaUse{Kind: kind, Principal: req.Principal, Bytes: bytes, Now: time.Now()}
	if req.ClientID != nil {
		u.ClientID = *req.ClientID
	}
	ms := q.Record(u).Milliseconds()
	return int32(min(max(ms, 0), math.MaxInt32))
}

// requestQuotaExempt are the APIs request_percentage never throttles, as
// in Kafka: the handshake a client needs before it can learn of a
// throttle, and what brokers send each other.
var requestQuotaExempt = map[int16]bool{17: true, 18: true, 36: true, 27: true}

// metered counts the time serve takes against request_percentage and
// sets every response's throttle: the larger of what the handler put in
// (byte rates) and the request-time throttle, in throttle_time_ms where
// the response has one, and as the connection's mute (KIP-219).
func (b *Broker) metered(key int16, serve protocol.ServeFunc) protocol.ServeFunc {
	return func(req *protocol.Request, respond func(protocol.Response)) {
		if b.cfg.Quotas == nil || (b.meta != nil && len(b.Image().Quotas) == 0 && !b.quotaHook()) {
			// No client quota anywhere: nothing to count, and the
			// handlers' own throttles are zero.
			serve(req, respond)
			return
		}
		start := time.Now()
		var spent atomic.Int64
		serve(req, func(r protocol.Response) {
			d := time.Duration(spent.Load())
			if d == 0 {
				d = time.Since(start) // answered while serving
			}
			respond(b.withThrottle(key, req, r, d))
		})
		spent.CompareAndSwap(0, int64(max(time.Since(start), 1)))
	}
}

// quotaHook reports whether Quotas is another implementation than the
// image's (tests inject one), which must see every request.
func (b *Broker) quotaHook() bool {
	_, own := b.cfg.Quotas.(*clientQuotas)
	return !own
}

// throttleSetter is a kmsg response with a throttle_time_ms field.
type throttleSetter interface {
	kmsg.ThrottleResponse
	SetThrottle(int32)
}

// responseThrottle is implemented by hand-encoded bodies with a
// throttle_time_ms field (fetch).
type responseThrottle interface{ ThrottleMillis() int32 }

func (b *Broker) withThrottle(key int16, req *protocol.Request, r protocol.Response, spent time.Duration) protocol.Response {
	if r.Close {
		return r
	}
	var ms int32
	if !requestQuotaExempt[key] && !isFollowerFetch(req) {
		ms = b.throttle(req, QuotaRequest, int64(spent))
	}
	switch {
	case r.Msg != nil:
		if tr, ok := r.Msg.(throttleSetter); ok {
			if have, _ := tr.Throttle(); have > ms {
				ms = have
			} else if ms > 0 {
				tr.SetThrottle(ms)
			}
		}
	case r.Body != nil:
		if tb, ok := r.Body.(responseThrottle); ok {
			ms = max(ms, tb.ThrottleMillis())
		}
	}
	r.Throttle = max(r.Throttle, time.Duration(ms)*time.Millisecond)
	return r
}

func isFollowerFetch(req *protocol.Request) bool {
	f, ok := req.Msg.(*kmsg.FetchRequest)
	return ok && (f.ReplicaID >= 0 || f.ReplicaState.ID >= 0)
}

// AcceptRate is protocol.Server's AcceptRate: how long to hold accepting
// under max.connection.creation.rate (dynamic; the inter-broker listener
// is exempt when it is not the only one, as in Kafka).
func (b *Broker) AcceptRate(listener string, now time.Time) time.Duration {
	v, _ := b.configLayers(b.Image()).Broker("max.connection.creation.rate")
	bound, err := strconv.ParseInt(v, 10, 64)
	if err != nil || bound >= math.MaxInt32 {
		return 0
	}
	if listener == b.cfg.Node.InterBrokerListener && b.clientListeners() > 1 {
		return 0
	}
	b.acceptMu.Lock()
	defer b.acceptMu.Unlock()
	w := b.quotaWindow()
	if b.acceptRate == nil {
		b.acceptRate = quota.NewRate(w, now)
	}
	return b.acceptRate.RecordAndThrottle(w, 1, float64(bound), now, w.Size)
}

// clientListeners counts this node's listeners other than the
// controller's.
func (b *Broker) clientListeners() int {
	n := 0
	for _, l := range b.cfg.Node.Listeners {
		if !b.cfg.Node.IsControllerListener(l.Name) {
			n++
		}
	}
	return n
}
