package broker

import (
	"sync/atomic"

	"spool/broker/sharegroup"
)

// shareCounts counts what happens to share groups' records on this
// broker, for /metrics.
type shareCounts struct {
	deliveries atomic.Uint64 // records handed to members, redeliveries included
	acks       [sharegroup.AckRenew + 1]atomic.Uint64
	expired    atomic.Uint64 // records whose acquisition lock ran out
}

// ShareStats is the share groups' state for /metrics.
type ShareStats struct {
	// Members counts the members of each share group this broker
	// coordinates.
	Members map[string]int
	// InFlight counts the records acquired now, over every share-partition
	// here.
	InFlight int
	// Lag is each share-partition's records not yet acknowledged or
	// archived, for the partitions this broker leads.
	Lag        []GroupLag
	Deliveries uint64
	// Acks counts acknowledged records by type: gap, accept, release,
	// reject, renew.
	Acks    map[string]uint64
	Expired uint64
}

var ackNames = [...]string{"gap", "accept", "release", "reject", "renew"}

func (m *shareManager) stats() ShareStats {
	s := ShareStats{Members: map[string]int{}, Acks: map[string]uint64{}}
	img := m.b.Image()
	m.mu.Lock()
	for id, g := range m.groups {
		s.Members[id] = g.Len()
	}
	parts := make([]*sharePart, 0, len(m.parts))
	for _, sp := range m.parts {
		parts = append(parts, sp)
	}
	m.mu.Unlock()
	for _, sp := range parts {
		t := img.Topics.ByID(sp.key.topicID)
		if t == nil {
			continue
		}
		sp.mu.Lock()
		s.InFlight += sp.sp.Acquired()
		lag := sp.sp.Lag(sp.p.HighWatermark())
		sp.mu.Unlock()
		s.Lag = append(s.Lag, GroupLag{Group: sp.key.group, Topic: t.Name, Partition: sp.key.partition, Lag: lag})
	}
	s.Deliveries, s.Expired = m.counts.deliveries.Load(), m.counts.expired.Load()
	for i, name := range ackNames {
		s.Acks[name] = m.counts.acks[i].Load()
	}
	return s
}

// countAcks counts an applied acknowledgement batch by type.
func (m *shareManager) countAcks(a shareAck) {
	if len(a.types) == 1 {
		m.counts.acks[a.types[0]].Add(uint64(a.last - a.first + 1))
		return
	}
	for _, t := range a.types {
		m.counts.acks[t].Add(1)
	}
}
