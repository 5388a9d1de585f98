package quota

import (
	"math"
	"time"
)

// Window is how use is sampled: Samples windows of Size each
// (quota.window.num and quota.window.size.seconds; Kafka's defaults are
// 11 and 1 s).
type Window struct {
	Samples int
	Size    time.Duration
}

// DefaultWindow is Kafka's default sampling.
var DefaultWindow = Window{Samples: 11, Size: time.Second}

// sample is one window's total and when the window began.
type sample struct {
	start int64 // unix nanoseconds
	total float64
}

// Rate is a sampled rate as Kafka's metrics measure one: the total of the
// retained samples over the time they span, where a span shorter than
// Samples-1 whole windows counts as that long, so that a client's first
// burst is not measured over a few milliseconds. Not safe for concurrent
// use; it allocates only when made.
type Rate struct {
	samples []sample
	cur     int
}

// NewRate makes a rate over w, starting at now.
func NewRate(w Window, now time.Time) *Rate {
	r := &Rate{samples: make([]sample, max(w.Samples, 1))}
	t := now.UnixNano()
	for i := range r.samples {
		r.samples[i].start = t
	}
	return r
}

// Record adds v at now: to the current window, or to a fresh one once the
// current window is over.
func (r *Rate) Record(w Window, v float64, now time.Time) {
	t := now.UnixNano()
	s := &r.samples[r.cur]
	if t-s.start >= int64(w.Size) {
		r.cur = (r.cur + 1) % len(r.samples)
		s = &r.samples[r.cur]
		s.start, s.total = t, 0
	}
	s.total += v
}

// purge resets the samples too old to count: those that began at least
// Samples windows ago.
func (r *Rate) purge(w Window, t int64) {
	expire := int64(len(r.samples)) * int64(w.Size)
	for i := range r.samples {
		if t-r.samples[i].start >= expire {
			r.samples[i].start, r.samples[i].total = t, 0
		}
	}
}

// span is the time the retained samples cover, at least Samples-1 whole
// windows (Kafka's Rate.windowSize).
func (r *Rate) span(w Window, t int64) time.Duration {
	oldest := t
	for _, s := range r.samples {
		oldest = min(oldest, s.start)
	}
	elapsed := t - oldest
	full := elapsed / int64(w.Size)
	if least := int64(len(r.samples) - 1); full < least {
		elapsed += (least - full) * int64(w.Size)
	}
	return time.Duration(max(elapsed, 1))
}

// PerSecond is the rate at now, in units of v per second.
func (r *Rate) PerSecond(w Window, now time.Time) float64 {
	t := now.UnixNano()
	r.purge(w, t)
	total := 0.0
	for _, s := range r.samples {
		total += s.total
	}
	return total / r.span(w, t).Seconds()
}

// Throttle is how long a client measured at rate per second must pause
// to come back to bound, as Kafka computes it: the overshoot as a share
// of the bound, times the span measured over; zero at or under the
// bound. A positive limit caps it (Kafka bounds only request-time
// throttles, at one window). A zero bound, which no use can meet,
// throttles by the whole sampled period rather than Kafka's overflowing
// infinity.
func Throttle(w Window, rate, bound float64, span, limit time.Duration) time.Duration {
	if rate <= bound || bound < 0 {
		return 0
	}
	whole := time.Duration(max(w.Samples, 1)) * w.Size
	if bound == 0 {
		return whole
	}
	d := (rate - bound) / bound * float64(span)
	if limit > 0 && d >= float64(limit) {
		return limit
	}
	if d >= float64(math.MaxInt32)*float64(time.Millisecond) {
		return time.Duration(math.MaxInt32) * time.Millisecond
	}
	return time.Duration(d)
}

// RecordAndThrottle records v at now and returns the throttle time for a
// client bound to bound per second, capped at limit when it is positive.
func (r *Rate) RecordAndThrottle(w Window, v, bound float64, now time.Time, limit time.Duration) time.Duration {
	r.Record(w, v, now)
	rate := r.PerSecond(w, now)
	return Throttle(w, rate, bound, r.span(w, now.UnixNano()), limit)
}
