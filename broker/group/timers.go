package group

import "time"

// arm makes sure a timer for key fires no later than at. At most one timer
// per key is outstanding: a later deadline is handled when the earlier
// timer fires and finds the deadline moved.
func (g *Group) arm(out *Out, key TimerKey, at time.Time) {
	if cur, ok := g.armed[key]; ok && !cur.After(at) {
		return
	}
	g.armed[key] = at
	out.Timers = append(out.Timers, Timer{Key: key, At: at})
}

// Fire is a timer set by an earlier Out going off. Stale timers (replaced
// by an earlier one, or whose deadline moved) do nothing or re-arm.
func (g *Group) Fire(key TimerKey, at, now time.Time) Out {
	var out Out
	if cur, ok := g.armed[key]; !ok || !cur.Equal(at) {
		return out
	}
	delete(g.armed, key)
	if g.state == Dead {
		return out
	}
	switch key.Kind {
	case TimerSession:
		g.sessionExpired(&out, key.Member, now)
	case TimerPending:
		g.pendingExpired(&out, key.Member, now)
	case TimerJoin:
		g.joinExpired(&out, now)
	case TimerSync:
		g.syncExpired(&out, now)
	}
	return out
}

// touch extends a member's session by its session timeout.
func (g *Group) touch(out *Out, m *Member, now time.Time) {
	m.deadline = now.Add(m.SessionTimeout)
	g.arm(out, TimerKey{TimerSession, m.ID}, m.deadline)
}

func (g *Group) sessionExpired(out *Out, id string, now time.Time) {
	m := g.members[id]
	if m == nil {
		return
	}
	if now.Before(m.deadline) {
		g.arm(out, TimerKey{TimerSession, id}, m.deadline)
		return
	}
	// A member waiting in JoinGroup or SyncGroup is alive: the rebalance
	// and sync timers bound those waits.
	if m.join != nil || m.sync != nil {
		g.touch(out, m, now)
		return
	}
	g.removeAndRebalance(out, m, now)
}

func (g *Group) pendingExpired(out *Out, id string, now time.Time) {
	deadline, ok := g.pending[id]
	if !ok {
		return
	}
	if now.Before(deadline) {
		g.arm(out, TimerKey{TimerPending, id}, deadline)
		return
	}
	delete(g.pending, id)
	if g.state == PreparingRebalance {
		g.maybeCompleteJoin(out, now)
	}
}

func (g *Group) joinExpired(out *Out, now time.Time) {
	if g.state != PreparingRebalance {
		return
	}
	if now.Before(g.joinDeadline) {
		g.arm(out, TimerKey{TimerJoin, ""}, g.joinDeadline)
		return
	}
	if g.initialJoin && g.newMemberJoined {
		// Kafka's InitialDelayedJoin: each new member buys another delay,
		// within the rebalance timeout.
		limit := g.joinStarted.Add(g.rebalanceTimeout())
		if now.Before(limit) {
			g.newMemberJoined = false
			g.joinDeadline = minTime(now.Add(g.cfg.InitialRebalanceDelay), limit)
			g.arm(out, TimerKey{TimerJoin, ""}, g.joinDeadline)
			return
		}
	}
	g.completeJoin(out, now)
}

func (g *Group) syncExpired(out *Out, now time.Time) {
	if g.state != CompletingRebalance && g.state != Stable || len(g.pendingSync) == 0 {
		return
	}
	if now.Before(g.syncDeadline) {
		g.arm(out, TimerKey{TimerSync, ""}, g.syncDeadline)
		return
	}
	for _, id := range g.order {
		if g.pendingSync[id] {
			g.dropMember(out, g.members[id])
		}
	}
	g.pendingSync = map[string]bool{}
	g.prepareRebalance(out, now)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
