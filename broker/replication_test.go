package broker

import (
	"slices"
	"testing"
	"time"
)

func TestReplicationHighWatermarkAndISR(t *testing.T) {
	t0 := time.Unix(1000, 0)
	lag := 30 * time.Second
	r := newReplication(1, []int32{1, 2, 3}, []int32{1, 2, 3}, 5, 0, t0)
	if hw := r.highWatermark(100); hw != -1 {
		t.Fatalf("hw before any follower fetched: %d", hw)
	}
	r.fetched(2, 100, 100, t0.Add(time.Second))
	r.fetched(3, 40, 100, t0.Add(time.Second))
	if hw := r.highWatermark(100); hw != 40 {
		t.Fatalf("hw %d, want the slowest ISR member's 40", hw)
	}
	// Follower 3 keeps fetching but never catches up: out after the lag.
	for s := 2; s < 40; s++ {
		r.fetched(3, 40+int64(s), 200+int64(s)*10, t0.Add(time.Duration(s)*time.Second))
		r.fetched(2, 200+int64(s)*10, 200+int64(s)*10, t0.Add(time.Duration(s)*time.Second))
	}
	now := t0.Add(39 * time.Second)
	want := r.wantedISR(r.highWatermark(590), now, lag)
	if !slices.Equal(sorted(want), []int32{1, 2}) {
		t.Fatalf("wanted ISR %v, want [1 2]", want)
	}
	r.pending = want
	// While the shrink is pending the larger set still bounds the watermark.
	if hw := r.highWatermark(590); hw != 79 {
		t.Fatalf("hw during pending shrink %d, want 79", hw)
	}
	r.isrFromImage([]int32{1, 2}, 6)
	if r.pending != nil || r.highWatermark(590) != 590 {
		t.Fatalf("after the shrink committed: pending %v hw %d", r.pending, r.highWatermark(590))
	}
	// Follower 3 catches up to the watermark: back in.
	r.fetched(3, 590, 590, now.Add(time.Second))
	if want := r.wantedISR(590, now.Add(time.Second), lag); !slices.Equal(sorted(want), []int32{1, 2, 3}) {
		t.Fatalf("expand: %v", want)
	}
	// A follower that has the committed records rejoins even if it has not
	// touched the log end for longer than the lag window.
	r.isrFromImage([]int32{1, 2}, 8)
	r.followers[3].lastCaughtUp = now.Add(-time.Hour)
	if want := r.wantedISR(590, now.Add(time.Second), lag); !slices.Equal(sorted(want), []int32{1, 2, 3}) {
		t.Fatalf("expand without recent catch-up: %v", want)
	}
	// An older partition epoch from a stale image is ignored.
	r.isrFromImage([]int32{1}, 4)
	if !slices.Equal(r.isr, []int32{1, 2}) {
		t.Fatalf("stale image applied: %v", r.isr)
	}
}

// A follower that reached the leader's previous log end counts as caught up
// as of that fetch, though the leader moved on meanwhile (Kafka's rule).
func TestFollowerCaughtUpAtPreviousFetch(t *testing.T) {
	t0 := time.Unix(1000, 0)
	r := newReplication(1, []int32{1, 2}, []int32{1, 2}, 0, 0, t0)
	r.fetched(2, 10, 50, t0.Add(10*time.Second)) // behind
	r.fetched(2, 50, 90, t0.Add(20*time.Second)) // has what the leader had at 10s
	if got := r.followers[2].lastCaughtUp; !got.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("lastCaughtUp %v", got)
	}
}
