package consumergroup

import (
	"time"

	"spool/broker/group"
)

// reconcile moves a member one step towards its target (Kafka's
// CurrentAssignmentBuilder): partitions leaving the member are revoked
// first, at the member's current epoch; only once the member no longer
// reports them does it move to the target epoch and receive the new
// partitions, each as soon as its previous owner has released it.
// owned is what the member reported (nil: it did not say).
func (g *Group) reconcile(m *Member, owned []OwnedTopic, now time.Time, recs *[]group.Record, out *Out) *Member {
	if m.reconciledTo(g.targetEpoch) {
		return m
	}
	next := g.nextState(m, owned)
	if next.sameAssignmentState(m) {
		return m
	}
	*recs = append(*recs, currentRecord(g.ID, next))
	g.putMember(next)
	if next.UsesClassic() {
		return next
	}
	key := TimerKey{TimerRebalance, next.ID}
	if next.State == UnrevokedPartitions {
		next.rebalanceEpoch = next.Epoch
		g.arm(out, key, now.Add(next.RebalanceTimeout))
	} else {
		g.disarm(out, key)
	}
	return next
}

// nextState is the member's next assignment state, or m itself.
func (g *Group) nextState(m *Member, owned []OwnedTopic) *Member {
	switch m.State {
	case Stable:
		if m.Epoch == g.targetEpoch {
			return m
		}
		return g.nextAssignment(m, m.Epoch, owned)
	case UnrevokedPartitions:
		if owned == nil || overlaps(owned, m.Revoking) {
			return m
		}
		return g.nextAssignment(m, m.Epoch+1, owned)
	case UnreleasedPartitions:
		return g.nextAssignment(m, m.Epoch, owned)
	}
	// A state written by a newer coordinator: start over from nothing.
	return g.nextAssignment(m, g.targetEpoch, owned)
}

// nextAssignment computes the member's next state at epoch from its
// assigned partitions and its target.
func (g *Group) nextAssignment(m *Member, epoch int32, owned []OwnedTopic) *Member {
	target := g.target[m.ID]
	keep := intersect(m.Assigned, target)
	revoke := minus(m.Assigned, keep)
	pending := minus(target, keep)
	unreleased := false
	for id, ps := range pending {
		free := ps[:0:0]
		for _, p := range ps {
			if g.ownerEpoch(id, p) == -1 {
				free = append(free, p)
			} else {
				unreleased = true
			}
		}
		if len(free) == 0 {
			delete(pending, id)
		} else {
			pending[id] = free
		}
	}
	next := m.clone()
	next.Revoking = Assignment{}
	if len(revoke) > 0 && (owned == nil || overlaps(owned, revoke)) {
		next.State, next.Assigned, next.Revoking = UnrevokedPartitions, keep, revoke
		next.setEpoch(epoch)
		return next
	}
	next.Assigned = union(keep, pending)
	next.State = Stable
	if unreleased {
		next.State = UnreleasedPartitions
	}
	next.setEpoch(g.targetEpoch)
	return next
}

// setEpoch moves the member to epoch; as in Kafka, the previous epoch is
// the one it had before this step, even when the epoch does not change.
func (m *Member) setEpoch(epoch int32) {
	m.PreviousEpoch, m.Epoch = m.Epoch, epoch
}
