package quota

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ThrottledReplica reports whether a topic's leader.replication.throttled
// .replicas or follower.replication.throttled.replicas value names
// partition on broker: "*" names every replica, otherwise the value is a
// list of partition:broker pairs. As in Kafka, a broker reads only the
// pairs that name itself.
func ThrottledReplica(list string, partition, broker int32) bool {
	list = strings.TrimSpace(list)
	if list == "" {
		return false
	}
	if list == "*" {
		return true
	}
	for list != "" {
		var pair string
		pair, list, _ = strings.Cut(list, ",")
		ps, bs, ok := strings.Cut(pair, ":")
		if !ok {
			continue
		}
		p, err1 := strconv.ParseInt(strings.TrimSpace(ps), 10, 32)
		b, err2 := strconv.ParseInt(strings.TrimSpace(bs), 10, 32)
		if err1 == nil && err2 == nil && int32(p) == partition && int32(b) == broker {
			return true
		}
	}
	return false
}

// Replication is one side's replication throttle (the leader's or the
// follower's): the bytes of throttled partitions it moved, sampled like
// a client quota. Safe for concurrent use.
type Replication struct {
	win  Window
	mu   sync.Mutex
	rate *Rate
}

// NewReplication makes a replication throttle sampled over w.
func NewReplication(w Window, now time.Time) *Replication {
	if w.Samples < 1 {
		w.Samples = 1
	}
	if w.Size <= 0 {
		w.Size = time.Second
	}
	return &Replication{win: w, rate: NewRate(w, now)}
}

// Unlimited is the bound of a replication throttle that is not set
// (Kafka's default of Long.MAX_VALUE bytes per second).
const Unlimited = math.MaxInt64

// Exceeded reports whether the measured rate is over bound bytes per
// second; an Unlimited bound is never exceeded.
func (r *Replication) Exceeded(bound int64, now time.Time) bool {
	if bound >= Unlimited {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rate.PerSecond(r.win, now) > float64(bound)
}

// Record counts n bytes of throttled replication at now.
func (r *Replication) Record(n int, now time.Time) {
	if n <= 0 {
		return
	}
	r.mu.Lock()
	r.rate.Record(r.win, float64(n), now)
	r.mu.Unlock()
}
