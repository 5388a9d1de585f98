package broker

import (
	"slices"
	"time"
)

// replication is a leader's view of its followers during one leader epoch:
// how far each has fetched and when it was last caught up, from which the
// high watermark and the ISR changes follow.
type replication struct {
	self           int32
	followers      map[int32]*followerState
	isr            []int32 // as last confirmed by the image or AlterPartition
	partitionEpoch int32
	// pending is the ISR asked for in an AlterPartition still in flight.
	pending []int32
	// epochStart is the log end when this leader epoch began.
	epochStart int64
}

// followerState is what the leader knows of one follower.
type followerState struct {
	leo          int64     // the follower's log end: its last fetch offset
	logStart     int64     // the follower's log start, as its last fetch said
	lastCaughtUp time.Time // last time it had everything the leader had
	prevFetchLeo int64     // the leader's log end at the follower's previous fetch
	prevFetch    time.Time
}

func newReplication(self int32, replicas, isr []int32, partitionEpoch int32, epochStart int64, now time.Time) *replication {
	r := &replication{self: self, followers: map[int32]*followerState{}, isr: slices.Clone(isr), partitionEpoch: partitionEpoch, epochStart: epochStart}
	for _, id := range replicas {
		if id != self {
			// A new leader gives every follower a full lag window to show up.
			r.followers[id] = &followerState{leo: -1, lastCaughtUp: now, prevFetch: now}
		}
	}
	return r
}

// isrFromImage takes the ISR the controller committed.
func (r *replication) isrFromImage(isr []int32, partitionEpoch int32) {
	if partitionEpoch >= r.partitionEpoch {
		r.isr, r.partitionEpoch = slices.Clone(isr), partitionEpoch
		if r.pending != nil && slices.Equal(sorted(r.pending), sorted(isr)) {
			r.pending = nil
		}
	}
}

// replicasFromImage follows a reassignment: a new replica gets a follower
// state (a full lag window to show up), a removed one loses it.
func (r *replication) replicasFromImage(replicas []int32, now time.Time) {
	for _, id := range replicas {
		if id != r.self && r.followers[id] == nil {
			r.followers[id] = &followerState{leo: -1, lastCaughtUp: now, prevFetch: now}
		}
	}
	for id := range r.followers {
		if !slices.Contains(replicas, id) {
			delete(r.followers, id)
		}
	}
}

// fetched records a follower fetch at offset (its log end) while the
// leader's log end is leo. Like Kafka, a follower is caught up now if it
// reached the leader's end, or was caught up as of its previous fetch if it
// reached the end the leader had then.
func (r *replication) fetched(id int32, offset, leo int64, now time.Time) bool {
	f := r.followers[id]
	if f == nil {
		return false
	}
	switch {
	case offset >= leo:
		f.lastCaughtUp = now
	case offset >= f.prevFetchLeo && f.prevFetch.After(f.lastCaughtUp):
		f.lastCaughtUp = f.prevFetch
	}
	f.leo, f.prevFetchLeo, f.prevFetch = offset, leo, now
	return true
}

// highWatermark is the offset every member of the ISR has, bounded by the
// leader's log end. While an ISR change is pending the larger of the two
// sets counts, so the watermark never covers records a new member lacks.
func (r *replication) highWatermark(leo int64) int64 {
	hw := leo
	for _, id := range r.maximalISR() {
		if id == r.self {
			continue
		}
		f := r.followers[id]
		if f == nil || f.leo < 0 {
			return -1 // unknown yet: do not move
		}
		hw = min(hw, f.leo)
	}
	return hw
}

func (r *replication) maximalISR() []int32 {
	if r.pending == nil {
		return r.isr
	}
	out := slices.Clone(r.isr)
	for _, id := range r.pending {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// wantedISR is the ISR the leader should ask for now: followers lagging
// more than maxLag drop out, followers that reached the high watermark
// (and so have every committed record) come back. It returns nil when the
// ISR should stay as it is or a change is already in flight.
func (r *replication) wantedISR(hw int64, now time.Time, maxLag time.Duration) []int32 {
	if r.pending != nil {
		return nil
	}
	want := []int32{r.self}
	for id, f := range r.followers {
		in := slices.Contains(r.isr, id)
		switch {
		case in && now.Sub(f.lastCaughtUp) <= maxLag:
			want = append(want, id)
		case !in && hw >= 0 && f.leo >= hw && f.leo >= r.epochStart:
			// Kafka's rule: back in once it has everything committed and
			// has fetched into this leader's epoch; lag does not count,
			// since under load a follower may never touch the log end.
			want = append(want, id)
		}
	}
	if slices.Equal(sorted(want), sorted(r.isr)) {
		return nil
	}
	return want
}

func sorted(s []int32) []int32 {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
