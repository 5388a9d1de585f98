package storage

import (
	"sort"
	"sync/atomic"
	"time"
)

// FlushBuckets are the upper bounds, in seconds, of the flush latency
// histogram: from a page-cache-only fdatasync to a disk that stalls.
var FlushBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10}

// FlushStats is a latency histogram of log flushes (Kafka's
// LogFlushRateAndTimeMs): atomic counters, one add per flush.
type FlushStats struct {
	buckets [16]atomic.Uint64 // per FlushBuckets, then +Inf; not cumulative
	nanos   atomic.Uint64
}

func (f *FlushStats) observe(start time.Time) {
	if f == nil {
		return
	}
	d := time.Since(start)
	f.nanos.Add(uint64(d))
	f.buckets[sort.SearchFloat64s(FlushBuckets, d.Seconds())].Add(1)
}

// Snapshot returns the flush count, the total seconds and the cumulative
// count per FlushBuckets bound.
func (f *FlushStats) Snapshot() (count uint64, sum float64, buckets map[float64]uint64) {
	buckets = make(map[float64]uint64, len(FlushBuckets))
	for i, b := range FlushBuckets {
		count += f.buckets[i].Load()
		buckets[b] = count
	}
	count += f.buckets[len(FlushBuckets)].Load()
	return count, float64(f.nanos.Load()) / 1e9, buckets
}
