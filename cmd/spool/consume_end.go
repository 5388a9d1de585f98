package main

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// endTracker decides when --exit-at-end is done: when every partition
// being consumed has been read up to the end offset it had when the command
// started. Without --exit-at-end it never is.
type endTracker struct {
	mu        sync.Mutex
	on        bool
	ends      map[int32]int64 // end offset at start, per partition
	pos       map[int32]int64 // next offset to read, per partition
	mine      map[int32]bool  // partitions this consumer reads
	gotAssign bool            // a group has assigned partitions at least once
	group     bool
}

func newEndTracker() *endTracker {
	return &endTracker{ends: map[int32]int64{}, pos: map[int32]int64{}, mine: map[int32]bool{}}
}

// load takes the partitions' end offsets and the positions reading starts
// from: the group's commits, else where --offset or --from-beginning
// points.
func (t *endTracker) load(s *session, topic string, parts []int32, o *consumeOpts) error {
	ends, err := s.adm.ListEndOffsets(s.ctx, topic)
	if err != nil {
		return err
	}
	starts, err := s.adm.ListStartOffsets(s.ctx, topic)
	if err != nil {
		return err
	}
	var committed kadm.OffsetResponses
	if o.group != "" {
		if committed, err = fetchCommitted(s, o.group); err != nil {
			return err
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.on, t.group = true, o.group != ""
	for _, p := range parts {
		end, _ := ends.Lookup(topic, p)
		start, _ := starts.Lookup(topic, p)
		t.ends[p] = end.Offset
		t.pos[p] = o.startAt(start.Offset, end.Offset)
		if c, ok := committed.Lookup(topic, p); ok && c.Err == nil && c.At >= 0 {
			t.pos[p] = c.At
		}
		if !t.group {
			t.mine[p] = true
		}
	}
	return nil
}

// startAt is the first offset read of a partition with nothing committed.
func (o *consumeOpts) startAt(logStart, end int64) int64 {
	switch {
	case o.offset == "" && o.fromBeginning, o.offset == "earliest":
		return logStart
	case o.offset == "", o.offset == "latest":
		return end
	}
	off, _ := o.start()
	return min(max(off.EpochOffset().Offset, logStart), end)
}

func (t *endTracker) enabled() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.on
}

func (t *endTracker) advance(p int32, next int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pos[p] = max(t.pos[p], next)
}

func (t *endTracker) done() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.on || (t.group && !t.gotAssign) {
		return false
	}
	for p := range t.mine {
		if t.pos[p] < t.ends[p] {
			return false
		}
	}
	return true
}

// remaining is how many offsets are left to read, for the progress bar.
func (t *endTracker) remaining() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var n int64
	for p, end := range t.ends {
		n += max(end-t.pos[p], 0)
	}
	return n
}

// assigned and revoked follow a group member's partitions.
func (t *endTracker) assigned(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gotAssign = true
	for _, parts := range ps {
		for _, p := range parts {
			t.mine[p] = true
		}
	}
}

func (t *endTracker) revoked(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, parts := range ps {
		for _, p := range parts {
			delete(t.mine, p)
		}
	}
}
