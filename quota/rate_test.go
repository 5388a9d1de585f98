package quota

import (
	"math"
	"testing"
	"time"

	"spool/controller/metadata"
)

var t0 = time.Unix(1_700_000_000, 0)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

// A first burst is measured over Samples-1 windows, not over the moment
// it took, and the throttle is the overshoot's share of the bound times
// that span.
func TestRateFirstBurst(t *testing.T) {
	w := DefaultWindow
	r := NewRate(w, t0)
	d := r.RecordAndThrottle(w, 2_000_000, 100_000, t0, 0)
	if got := r.PerSecond(w, t0); !near(got, 200_000) {
		t.Fatalf("rate %v, want 200000 (2 MB over 10 s)", got)
	}
	if d != 10*time.Second {
		t.Fatalf("throttle %v, want 10s", d)
	}
}

// A client sending evenly under its bound is never throttled, and the
// rate converges on what it sends.
func TestRateSteadyAtBound(t *testing.T) {
	w := DefaultWindow
	r := NewRate(w, t0)
	now := t0
	for i := 0; i < 300; i++ { // 30 s, 10 sends a second of 1000
		if d := r.RecordAndThrottle(w, 900, 10_000, now, 0); d != 0 {
			t.Fatalf("throttled %v at %v", d, now.Sub(t0))
		}
		now = now.Add(100 * time.Millisecond)
	}
	if got := r.PerSecond(w, now); got < 8000 || got > 9000 {
		t.Fatalf("steady rate %v, want about 9000", got)
	}
}

// Samples older than the whole sampled period no longer count.
func TestRateForgets(t *testing.T) {
	w := Window{Samples: 3, Size: time.Second}
	r := NewRate(w, t0)
	r.Record(w, 6000, t0)
	if got := r.PerSecond(w, t0.Add(500*time.Millisecond)); !near(got, 2400) {
		t.Fatalf("rate %v, want 2400 (6000 over 0.5 s plus the 2-window minimum)", got)
	}
	if got := r.PerSecond(w, t0.Add(3*time.Second)); got != 0 {
		t.Fatalf("rate %v after the period, want 0", got)
	}
}

// Byte-rate throttles are not capped; request-time ones are, at the limit
// given; a zero bound throttles by the whole sampled period.
func TestThrottleCap(t *testing.T) {
	w := DefaultWindow
	if d := Throttle(w, 1000, 100, 10*time.Second, 0); d != 90*time.Second {
		t.Fatalf("uncapped throttle %v, want 90s", d)
	}
	if d := Throttle(w, 1000, 100, 10*time.Second, time.Second); d != time.Second {
		t.Fatalf("capped throttle %v, want 1s", d)
	}
	if d := Throttle(w, 1, 0, 10*time.Second, 0); d != 11*time.Second {
		t.Fatalf("zero-bound throttle %v", d)
	}
	if d := Throttle(w, 1e300, 1, 10*time.Second, 0); d != math.MaxInt32*time.Millisecond {
		t.Fatalf("huge throttle %v, want the int32 milliseconds ceiling", d)
	}
	if d := Throttle(w, 150, 100, 10*time.Second, 0); d != 5*time.Second {
		t.Fatalf("throttle %v, want 5s", d)
	}
}

// KIP-55's order, most specific first, and the count each level shares.
func TestResolveOrder(t *testing.T) {
	n := func(s string) metadata.QuotaName { return metadata.QuotaName{Set: true, Name: s} }
	d := metadata.QuotaName{Set: true, Default: true}
	var no metadata.QuotaName
	levels := []struct {
		user, client metadata.QuotaName
		wantUser     string
		wantClient   string
	}{
		{n("u"), n("c"), "u", "c"}, {n("u"), d, "u", "c"}, {n("u"), no, "u", ""},
		{d, n("c"), "u", "c"}, {d, d, "u", "c"}, {d, no, "u", ""},
		{no, n("c"), "", "c"}, {no, d, "", "c"},
	}
	q := Quotas{}
	for i := len(levels) - 1; i >= 0; i-- {
		l := levels[i]
		q[metadata.QuotaEntity{User: l.user, ClientID: l.client}] = map[string]float64{ProducerByteRate: float64(i + 1)}
		r, ok := Resolve(q, ProducerByteRate, "u", "c")
		if !ok || r.Bound != float64(i+1) || r.User != l.wantUser || r.Client != l.wantClient {
			t.Fatalf("level %d: %+v %v", i+1, r, ok)
		}
	}
	if _, ok := Resolve(q, ConsumerByteRate, "u", "c"); ok {
		t.Fatal("a key nobody set resolved")
	}
	if r, _ := Resolve(q, ProducerByteRate, "other", "x"); r.Bound != 5 || r.User != "other" {
		t.Fatalf("default user and client: %+v", r)
	}
	if allocs := testing.AllocsPerRun(100, func() { Resolve(q, ProducerByteRate, "u", "c") }); allocs != 0 {
		t.Fatalf("Resolve allocates %v", allocs)
	}
}

// Clients under one user quota share its count; a quota change applies to
// the next use; with no quota nothing is throttled.
func TestManagerSharesAndFollowsChanges(t *testing.T) {
	alice := metadata.QuotaEntity{User: metadata.QuotaName{Set: true, Name: "alice"}}
	q := Quotas{alice: {ProducerByteRate: 1000}}
	m := NewManager(DefaultWindow, func() Quotas { return q })
	if d := m.Record(Produce, "alice", "a", 5000, t0); d != 0 {
		t.Fatalf("throttled %v under the bound", d)
	}
	if d := m.Record(Produce, "alice", "b", 10_000, t0); d == 0 {
		t.Fatal("second client of alice not throttled: the count is not shared")
	}
	if d := m.Record(Produce, "bob", "a", 1e9, t0); d != 0 {
		t.Fatalf("bob (no quota) throttled %v", d)
	}
	q = Quotas{alice: {ProducerByteRate: 1e9}}
	if d := m.Record(Produce, "alice", "a", 1, t0); d != 0 {
		t.Fatalf("throttled %v after the quota was raised", d)
	}
	if allocs := testing.AllocsPerRun(100, func() { m.Record(Produce, "alice", "a", 1, t0) }); allocs != 0 {
		t.Fatalf("Record allocates %v", allocs)
	}
}

func TestThrottledReplica(t *testing.T) {
	for _, c := range []struct {
		list      string
		part, brk int32
		want      bool
	}{
		{"", 0, 1, false}, {"*", 7, 3, true}, {" * ", 7, 3, true},
		{"0:1,1:2", 0, 1, true}, {"0:1,1:2", 1, 2, true}, {"0:1,1:2", 0, 2, false},
		{" 3 : 4 , 5:6", 3, 4, true}, {"junk,0:1", 0, 1, true},
	} {
		if got := ThrottledReplica(c.list, c.part, c.brk); got != c.want {
			t.Errorf("%q %d:%d = %v", c.list, c.part, c.brk, got)
		}
	}
}

// A replication throttle is exceeded once the bytes moved outrun the
// bound over the sampled span, and never when the bound is unset.
func TestReplicationExceeded(t *testing.T) {
	w := Window{Samples: 3, Size: time.Second}
	r := NewReplication(w, t0)
	r.Record(150_000, t0)
	if r.Exceeded(100_000, t0) {
		t.Fatal("150 kB over the 2 s minimum span exceeds 100 kB/s")
	}
	r.Record(100_000, t0.Add(100*time.Millisecond))
	if !r.Exceeded(100_000, t0.Add(100*time.Millisecond)) {
		t.Fatal("250 kB over about 2 s does not exceed 100 kB/s")
	}
	if r.Exceeded(Unlimited, t0) {
		t.Fatal("an unset bound was exceeded")
	}
	if r.Exceeded(100_000, t0.Add(4*time.Second)) {
		t.Fatal("still exceeded once the samples expired")
	}
}

// An address's own connection_creation_rate wins over the default ip
// entity; each address is counted on its own; throttles are bounded by
// one window.
func TestRecordConnection(t *testing.T) {
	w := Window{Samples: 3, Size: time.Second}
	ip := func(name string) metadata.QuotaEntity {
		if name == "" {
			return metadata.QuotaEntity{IP: metadata.QuotaName{Set: true, Default: true}}
		}
		return metadata.QuotaEntity{IP: metadata.QuotaName{Set: true, Name: name}}
	}
	q := Quotas{ip(""): {ConnectionCreationRate: 1}, ip("10.0.0.9"): {ConnectionCreationRate: 1000}}
	m := NewManager(w, func() Quotas { return q })
	throttled := 0
	for range 10 {
		if d := m.RecordConnection("10.0.0.1", t0); d > 0 {
			throttled++
			if d > w.Size {
				t.Fatalf("throttle %v over one window", d)
			}
		}
		if d := m.RecordConnection("10.0.0.9", t0); d != 0 {
			t.Fatalf("the address with its own high rate was throttled %v", d)
		}
	}
	if throttled < 7 {
		t.Fatalf("%d of 10 connections at once throttled under a rate of 1/s", throttled)
	}
	if d := m.RecordConnection("10.0.0.2", t0); d != 0 {
		t.Fatalf("another address shares the count: throttled %v", d)
	}
}

// KIP-599: a burst up to the bucket is taken whole; once in debt, strict
// requests have their topics refused and permissive ones are only
// throttled; the bucket refills at the quota.
func TestRecordMutations(t *testing.T) {
	w := Window{Samples: 2, Size: time.Second}
	u := metadata.QuotaEntity{User: metadata.QuotaName{Set: true, Name: "u"}}
	m := NewManager(w, func() Quotas { return Quotas{u: {ControllerMutationRate: 5}} })
	got := m.RecordMutations("u", "c", []int{6, 6}, true, t0) // burst 10: 12 goes 2 into debt
	if got.Refused[0] || got.Refused[1] || got.Throttle != 400*time.Millisecond {
		t.Fatalf("first request: %+v", got)
	}
	got = m.RecordMutations("u", "c", []int{1, 1}, true, t0)
	if !got.Refused[0] || !got.Refused[1] || got.Throttle != 400*time.Millisecond {
		t.Fatalf("strict in debt: %+v", got)
	}
	got = m.RecordMutations("u", "c", []int{3}, false, t0)
	if got.Refused[0] || got.Throttle != time.Second {
		t.Fatalf("permissive in debt: %+v", got)
	}
	got = m.RecordMutations("u", "c", []int{1}, true, t0.Add(2*time.Second)) // 10 tokens back, 5 used... refilled to 5
	if got.Refused[0] || got.Throttle != 0 {
		t.Fatalf("after refilling: %+v", got)
	}
	if got := m.RecordMutations("other", "c", []int{1000}, true, t0); got.Refused[0] || got.Throttle != 0 {
		t.Fatalf("unbound client: %+v", got)
	}
}

// After a long idle the old samples count for nothing and the span is
// the minimum again: the first fetches may move about bound x
// (samples-1) windows, no more.
func TestReplicationAfterIdle(t *testing.T) {
	w := Window{Samples: 3, Size: time.Second}
	r := NewReplication(w, t0)
	r.Record(1_000_000, t0)
	later := t0.Add(time.Hour)
	moved := 0
	for now := later; !r.Exceeded(100_000, now); now = now.Add(10 * time.Millisecond) {
		r.Record(65536, now)
		moved += 65536
	}
	if moved < 200_000 || moved > 200_000+65536 {
		t.Fatalf("moved %d bytes before the throttle held after an idle hour, want about 200000", moved)
	}
}
