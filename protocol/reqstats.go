package protocol

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// LatencyBuckets are the upper bounds, in seconds, of the request latency
// histogram: from a cached metadata answer to a fetch long poll that waits
// out its MaxWait.
var LatencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

const (
	publicKeys  = 128   // Kafka's API keys are below this
	privateBase = 32000 // Spool's private keys (RaftMessageKey, ...)
	privateKeys = 16
	keySlots    = publicKeys + privateKeys
)

// RequestStats counts requests per listener and API key: how many, how many
// failed, and how long they took from being read to being written. Counting
// is a handful of atomic adds on arrays made when the listener starts, so the
// request path never allocates or locks for it.
type RequestStats struct {
	mu    sync.Mutex
	lists map[string]*ListenerRequests
}

// NewRequestStats returns empty counters.
func NewRequestStats() *RequestStats {
	return &RequestStats{lists: map[string]*ListenerRequests{}}
}

// ListenerRequests are one listener's counters.
type ListenerRequests struct {
	Listener string
	apis     [keySlots]apiCounters
}

type apiCounters struct {
	count    atomic.Uint64
	errors   atomic.Uint64
	sumNanos atomic.Uint64
	buckets  [16]atomic.Uint64 // per LatencyBuckets, then +Inf; not cumulative
}

// APIRequests is a snapshot of one API's counters on one listener.
type APIRequests struct {
	Key    int16
	Count  uint64
	Errors uint64
	// Sum is the total latency in seconds; Buckets are cumulative counts
	// per LatencyBuckets bound, as Prometheus histograms want them.
	Sum     float64
	Buckets map[float64]uint64
}

// Listener returns the counters of a listener, making them on first use.
func (s *RequestStats) Listener(name string) *ListenerRequests {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.lists[name]
	if l == nil {
		l = &ListenerRequests{Listener: name}
		s.lists[name] = l
	}
	return l
}

// Listeners returns every listener's counters, by name.
func (s *RequestStats) Listeners() []*ListenerRequests {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*ListenerRequests, 0, len(s.lists))
	for _, l := range s.lists {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Listener < out[j].Listener })
	return out
}

func keySlot(key int16) int {
	switch {
	case key >= 0 && key < publicKeys:
		return int(key)
	case key >= privateBase && key < privateBase+privateKeys:
		return publicKeys + int(key-privateBase)
	}
	return -1
}

func slotKey(i int) int16 {
	if i < publicKeys {
		return int16(i)
	}
	return int16(privateBase + i - publicKeys)
}

// Observe counts one answered request. A nil receiver counts nothing.
func (l *ListenerRequests) Observe(key int16, took time.Duration, failed bool) {
	if l == nil {
		return
	}
	i := keySlot(key)
	if i < 0 {
		return
	}
	a := &l.apis[i]
	a.count.Add(1)
	if failed {
		a.errors.Add(1)
	}
	if took < 0 {
		took = 0
	}
	a.sumNanos.Add(uint64(took))
	secs := took.Seconds()
	b := sort.SearchFloat64s(LatencyBuckets, secs)
	a.buckets[b].Add(1)
}

// Snapshot returns the APIs that have seen requests.
func (l *ListenerRequests) Snapshot() []APIRequests {
	var out []APIRequests
	for i := range l.apis {
		a := &l.apis[i]
		n := a.count.Load()
		if n == 0 {
			continue
		}
		r := APIRequests{Key: slotKey(i), Errors: a.errors.Load(), Sum: float64(a.sumNanos.Load()) / 1e9,
			Buckets: make(map[float64]uint64, len(LatencyBuckets))}
		var cum uint64
		for b, bound := range LatencyBuckets {
			cum += a.buckets[b].Load()
			r.Buckets[bound] = cum
		}
		// The count is what the buckets add up to, so a request counted
		// between the loads above cannot make the histogram inconsistent.
		r.Count = cum + a.buckets[len(LatencyBuckets)].Load()
		out = append(out, r)
	}
	return out
}

// Queue reports the requests read and not yet answered over every
// connection, the bytes of request frames they hold, and the
// queued.max.request.bytes bound on those bytes (Kafka's RequestQueueSize
// and its memory pool): a full queue stops connections reading.
func (s *Server) Queue() (requests int, bytes, limit int64) {
	s.mu.Lock()
	for c := range s.conns {
		requests += int(c.inflight.Load())
	}
	b := s.budget
	s.mu.Unlock()
	if b != nil {
		bytes, limit = b.inUse(), b.max
	}
	return requests, bytes, limit
}
