package broker

import (
	"math"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// shareSessionKey names a share session: one member fetching from this broker.
type shareSessionKey struct{ group, member string }

// sessionPart is a partition in a share session.
type sessionPart struct {
	topicID   [16]byte
	partition int32
}

// shareSession is KIP-932's share session: the partitions a member
// fetches from this broker, so each ShareFetch lists only what changed,
// and the epoch its next request must carry.
type shareSession struct {
	epoch int32
	parts []sessionPart
	used  time.Time
}

// Share session epochs: 0 opens a session, -1 closes it.
const (
	shareSessionOpen  = 0
	shareSessionClose = -1
)

// session applies a request's session epoch and partition changes and
// returns the session's partitions. A closing request removes the
// session; its partitions are returned so the caller can release them.
func (m *shareManager) session(key shareSessionKey, epoch int32, add, forget []sessionPart, now time.Time) ([]sessionPart, int16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sessions[key]
	switch {
	case epoch == shareSessionOpen:
		s = &shareSession{epoch: 1}
		m.sessions[key] = s
	case s == nil:
		return nil, kerr.ShareSessionNotFound.Code
	case epoch == shareSessionClose:
		delete(m.sessions, key)
		return slices.Clone(s.parts), 0
	case epoch != s.epoch:
		return nil, kerr.InvalidShareSessionEpoch.Code
	default:
		s.epoch++
		if s.epoch == math.MaxInt32 {
			s.epoch = 1
		}
	}
	s.used = now
	s.parts = slices.DeleteFunc(s.parts, func(p sessionPart) bool { return slices.Contains(forget, p) })
	for _, p := range add {
		if !slices.Contains(s.parts, p) {
			s.parts = append(s.parts, p)
		}
	}
	return slices.Clone(s.parts), 0
}
