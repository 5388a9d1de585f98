package protocol

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestRequestStatsCountAndBucket(t *testing.T) {
	s := NewRequestStats()
	l := s.Listener("PLAINTEXT")
	l.Observe(0, 3*time.Millisecond, false)
	l.Observe(0, 40*time.Second, true)
	l.Observe(RaftMessageKey, time.Millisecond, false)
	l.Observe(-1, time.Millisecond, false) // not an API: ignored
	snap := l.Snapshot()
	if len(snap) != 2 || snap[0].Key != 0 || snap[1].Key != RaftMessageKey {
		t.Fatalf("snapshot keys: %+v", snap)
	}
	p := snap[0]
	if p.Count != 2 || p.Errors != 1 || p.Buckets[0.0025] != 0 || p.Buckets[0.005] != 1 || p.Buckets[30] != 1 {
		t.Fatalf("produce counters: %+v", p)
	}
	if p.Sum < 40 || p.Sum > 40.01 {
		t.Fatalf("sum %v", p.Sum)
	}
}

func TestTopErrorCode(t *testing.T) {
	r := kmsg.NewPtrApiVersionsResponse()
	r.ErrorCode = 35
	if got := topErrorCode(r); got != 35 {
		t.Fatalf("ApiVersions error %d", got)
	}
	if got := topErrorCode(kmsg.NewPtrProduceResponse()); got != 0 {
		t.Fatalf("Produce has no top-level error; got %d", got)
	}
	if got := topErrorCode(nil); got != 0 {
		t.Fatalf("nil: %d", got)
	}
}

// Counting a request is on every request's path: it must not allocate.
func TestRequestCountingDoesNotAllocate(t *testing.T) {
	l := NewRequestStats().Listener("PLAINTEXT")
	resp := kmsg.NewPtrMetadataResponse()
	topErrorCode(resp) // cache the type
	allocs := testing.AllocsPerRun(1000, func() {
		l.Observe(3, time.Millisecond, topErrorCode(resp) != 0)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per counted request", allocs)
	}
}

func BenchmarkRequestCounting(b *testing.B) {
	l := NewRequestStats().Listener("PLAINTEXT")
	resp := kmsg.NewPtrFetchResponse()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		l.Observe(1, time.Duration(i), topErrorCode(resp) != 0)
	}
}
