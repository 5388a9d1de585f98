package quota

import (
	"time"
)

// tokenBucket is KIP-599's measure of controller mutations: tokens refill
// at the quota per second up to a burst of the quota over the whole
// sampled period, each mutation takes one, and the bucket may go into
// debt.
type tokenBucket struct {
	tokens float64
	last   int64 // unix nanoseconds
}

func (tb *tokenBucket) refill(rate, burst float64, t int64) {
	if tb.last == 0 {
		tb.tokens = burst
	} else if t > tb.last {
		tb.tokens = min(burst, tb.tokens+rate*float64(t-tb.last)/float64(time.Second))
	}
	tb.last = max(tb.last, t)
}

// Mutations is the outcome of RecordMutations: which of the asks were
// refused for the quota and how long the client must hold off.
type Mutations struct {
	Refused  []bool
	Throttle time.Duration
}

// RecordMutations counts the partition mutations a CreateTopics,
// CreatePartitions or DeleteTopics asks for (permits, one entry per
// topic) against controller_mutation_rate, as KIP-599 does: strict
// (the request versions that know THROTTLING_QUOTA_EXCEEDED) refuses a
// topic once the client's bucket is in debt, else takes its permits even
// into debt; permissive (older versions) takes them all. The throttle is
// the time the debt takes to refill. Nothing is refused or throttled when
// no quota binds the client.
func (m *Manager) RecordMutations(user, client string, permits []int, strict bool, now time.Time) Mutations {
	out := Mutations{Refused: make([]bool, len(permits))}
	res, ok := Resolve(m.quotas(), ControllerMutationRate, user, client)
	if !ok {
		return out
	}
	s := m.sensor(sensorKey{mutationKind, res.User, res.Client}, now)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = now.UnixNano()
	if s.bucket == nil {
		s.bucket = &tokenBucket{}
	}
	burst := res.Bound * float64(m.win.Samples) * m.win.Size.Seconds()
	s.bucket.refill(res.Bound, burst, now.UnixNano())
	for i, p := range permits {
		if strict && s.bucket.tokens < 0 {
			out.Refused[i] = true
			continue
		}
		s.bucket.tokens -= float64(p)
	}
	if s.bucket.tokens < 0 {
		if res.Bound <= 0 {
			out.Throttle = time.Duration(max(m.win.Samples, 1)) * m.win.Size
		} else {
			out.Throttle = time.Duration(-s.bucket.tokens / res.Bound * float64(time.Second))
		}
	}
	return out
}
