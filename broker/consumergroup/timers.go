package consumergroup

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"spool/broker/group"
)

// arm sets a timer, replacing any of the same key.
func (g *Group) arm(out *Out, key TimerKey, at time.Time) {
	g.armed[key] = at
	out.Timers = append(out.Timers, Timer{Key: key, At: at})
}

// disarm cancels a timer if it is set.
func (g *Group) disarm(out *Out, key TimerKey) {
	if _, ok := g.armed[key]; ok {
		delete(g.armed, key)
		out.Timers = append(out.Timers, Timer{Key: key})
	}
}

// disarmMember cancels every timer of a member.
func (g *Group) disarmMember(out *Out, id string) {
	for _, k := range []TimerKind{TimerSession, TimerRebalance, TimerJoin, TimerSync} {
		g.disarm(out, TimerKey{k, id})
	}
}

// Fire handles a timer the caller set: a session that expired, a
// revocation that took too long, a classic member that did not rejoin or
// sync in time, or a target assignment that was held back. A timer that
// was moved or cancelled since it was set does nothing.
func (g *Group) Fire(key TimerKey, topics Topics, now time.Time) Out {
	var out Out
	at, ok := g.armed[key]
	if !ok || now.Before(at) || g.dead {
		return out
	}
	delete(g.armed, key)
	if key.Kind == TimerAssign {
		var recs []group.Record
		g.maybeAssign(topics, now, &recs, &out)
		g.write(&out, recs, nil)
		return out
	}
	m := g.members[key.Member]
	if m == nil {
		return out
	}
	switch key.Kind {
	case TimerRebalance:
		if m.Epoch != m.rebalanceEpoch || m.State != UnrevokedPartitions {
			return out
		}
	}
	out.merge(g.fence(m, topics, now, nil))
	return out
}

// fence removes a member (its session ended, it left, or it was too slow)
// and bumps the group epoch so the others rebalance without it. done, if
// given, runs once the records are durable.
func (g *Group) fence(m *Member, topics Topics, now time.Time, done func(*Out, *kerr.Error)) Out {
	var out Out
	recs := g.removalRecords(m)
	g.dropMember(m.ID)
	g.disarmMember(&out, m.ID)
	g.epoch++
	if topics != nil {
		g.topics = topics
	}
	if g.topics != nil {
		g.metadataHash = g.computeHash(g.topics)
	}
	recs = append(recs, groupEpochRecord(g.ID, g.epoch, g.metadataHash))
	g.write(&out, recs, done)
	return out
}

// removalRecords are the tombstones that remove a member, in Kafka's
// order, and its regex's when it was the last subscriber.
func (g *Group) removalRecords(m *Member) []group.Record {
	recs := []group.Record{
		tombstone(memberKey(TypeCurrentMemberAssignment, g.ID, m.ID)),
		tombstone(memberKey(TypeTargetAssignmentMember, g.ID, m.ID)),
		tombstone(memberKey(TypeMemberMetadata, g.ID, m.ID)),
	}
	if re := regexOf(m); re != "" && g.regexSubscribers(re) == 1 {
		delete(g.regexes, re)
		recs = append(recs, tombstone(memberKey(TypeRegularExpression, g.ID, re)))
	}
	return recs
}
