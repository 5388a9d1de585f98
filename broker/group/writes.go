package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// pendingWrite is what to do once a write is in the log and once it is
// durable or has failed.
type pendingWrite struct {
	base     int64 // log offset of the first record, -1 until Appended
	appended func(base int64)
	done     func(out *Out, err *kerr.Error, now time.Time)
}

// offsetOf is the log offset of the write's i-th record, -1 when unknown.
func (w *pendingWrite) offsetOf(i int) int64 {
	if w.base < 0 {
		return -1
	}
	return w.base + int64(i)
}

// write asks the caller to persist recs and remembers done, which may be
// set later through the returned write.
func (g *Group) write(out *Out, recs []Record, done func(out *Out, err *kerr.Error, now time.Time)) *pendingWrite {
	return g.writeAs(out, recs, nil, done)
}

// writeAs is write in txn's transaction (nil: none).
func (g *Group) writeAs(out *Out, recs []Record, txn *Producer, done func(out *Out, err *kerr.Error, now time.Time)) *pendingWrite {
	g.nextWrite++
	id := g.nextWrite
	w := &pendingWrite{base: -1, done: done}
	g.writes[id] = w
	out.Writes = append(out.Writes, Write{ID: id, Records: recs, Txn: txn})
	return w
}

// Appended reports that write id is in the log with its first record at
// base (the batch is uncompressed and written whole, so record i is at
// base+i). It is not yet durable.
func (g *Group) Appended(id uint64, base int64) {
	w := g.writes[id]
	if w == nil || w.base >= 0 {
		return
	}
	w.base = base
	if w.appended != nil {
		w.appended(base)
	}
}

// WriteDone reports that write id is durable (err nil) or failed with err,
// already mapped to the error the client should see.
func (g *Group) WriteDone(id uint64, err *kerr.Error, now time.Time) Out {
	var out Out
	w := g.writes[id]
	if w == nil {
		return out
	}
	delete(g.writes, id)
	if w.done != nil {
		w.done(&out, err, now)
	}
	if len(g.writes) == 0 {
		g.tombstoned = nil // no older commit is left to come back
	}
	return out
}

// store persists the group's metadata; done may be nil.
func (g *Group) store(out *Out, done func(out *Out, err *kerr.Error, now time.Time)) {
	g.write(out, []Record{{Key: GroupKey(g.ID), Value: g.metadataValue()}}, done)
}

// metadataValue is the group's GroupMetadataValue (version 3, which every
// Kafka since 2.3 reads).
func (g *Group) metadataValue() []byte {
	v := kmsg.NewGroupMetadataValue()
	v.Version = 3
	v.ProtocolType, v.Generation = g.protocolType, g.generation
	if g.protocol != "" {
		p := g.protocol
		v.Protocol = &p
	}
	if g.leader != "" {
		l := g.leader
		v.Leader = &l
	}
	v.CurrentStateTimestamp = g.stateSince.UnixMilli()
	for _, id := range g.order {
		m := g.members[id]
		vm := kmsg.NewGroupMetadataValueMember()
		vm.MemberID, vm.InstanceID, vm.ClientID, vm.ClientHost = m.ID, m.InstanceID, m.ClientID, m.ClientHost
		vm.RebalanceTimeoutMillis = int32(m.RebalanceTimeout / time.Millisecond)
		vm.SessionTimeoutMillis = int32(m.SessionTimeout / time.Millisecond)
		vm.Subscription, vm.Assignment = m.metadataFor(g.protocol), m.Assignment
		if vm.Subscription == nil {
			vm.Subscription = []byte{}
		}
		if vm.Assignment == nil {
			vm.Assignment = []byte{}
		}
		v.Members = append(v.Members, vm)
	}
	return v.AppendTo(nil)
}

// Close answers every waiting request with NOT_COORDINATOR: the broker no
// longer leads the group's partition. The group must not be used after.
func (g *Group) Close(now time.Time) Out {
	var out Out
	for _, id := range g.order {
		m := g.members[id]
		if m.join != nil {
			out.reply(m.join.id, joinError(m.join.version, m.ID, kerr.NotCoordinator))
			m.join = nil
		}
		if m.sync != nil {
			out.reply(m.sync.id, syncError(m.sync.version, kerr.NotCoordinator))
			m.sync = nil
		}
	}
	for id := range g.writes {
		out.merge(g.WriteDone(id, kerr.NotCoordinator, now))
	}
	g.armed = map[TimerKey]time.Time{}
	g.state = Dead
	return out
}
