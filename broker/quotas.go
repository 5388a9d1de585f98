package broker

import (
	"math"
	"time"

	"spool/protocol"
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
// KIP-219 clients wait out before their next request). It is called on
// request goroutines concurrently and must not block. A nil Quotas (the
// default) throttles nobody.
type Quotas interface {
	Record(u QuotaUse) time.Duration
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
