package console

import (
	"sync"
	"time"
)

// lagHistory keeps each group's total lag as read by the group page's
// polls, so a page opened later (or reloaded) draws the lag since someone
// first looked. It reads nothing itself: the history grows only while a
// page polls, and it is bounded in groups and samples.
type lagHistory struct {
	mu     sync.Mutex
	groups map[string]*lagSeries
}

type lagSeries struct {
	samples  [][2]int64 // unix ms, total lag
	lastSeen time.Time
}

const (
	lagKeepSamples = 720 // an hour at the page's 5 s polls
	lagKeepGroups  = 256
	lagMinInterval = 2 * time.Second
)

func newLagHistory() *lagHistory { return &lagHistory{groups: map[string]*lagSeries{}} }

// record adds a reading of group's total lag (unless one was recorded
// moments ago) and returns the series, oldest first.
func (h *lagHistory) record(group string, now time.Time, lag int64) [][2]int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.groups[group]
	if s == nil {
		if len(h.groups) >= lagKeepGroups {
			h.evictOldest()
		}
		s = &lagSeries{}
		h.groups[group] = s
	}
	s.lastSeen = now
	if n := len(s.samples); lag >= 0 && (n == 0 || now.UnixMilli()-s.samples[n-1][0] >= lagMinInterval.Milliseconds()) {
		s.samples = append(s.samples, [2]int64{now.UnixMilli(), lag})
		if len(s.samples) > lagKeepSamples {
			s.samples = append(s.samples[:0], s.samples[len(s.samples)-lagKeepSamples:]...)
		}
	}
	return append([][2]int64{}, s.samples...)
}

func (h *lagHistory) evictOldest() {
	var oldest string
	var at time.Time
	for g, s := range h.groups {
		if oldest == "" || s.lastSeen.Before(at) {
			oldest, at = g, s.lastSeen
		}
	}
	delete(h.groups, oldest)
}
