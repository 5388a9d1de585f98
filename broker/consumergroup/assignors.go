package consumergroup

import "slices"

// Uniform spreads partitions evenly over the members subscribed to them
// and keeps every member's current partitions where balance allows: a
// member joining takes partitions from the most loaded members only, so
// the fewest partitions move. It handles members with different
// subscriptions by moving partitions only between members subscribed to
// their topic.
func Uniform(spec *AssignSpec) map[string]Assignment {
	b := newBalancer(spec)
	b.keepCurrent(spec.Current)
	b.placeFree()
	b.balance()
	return b.result()
}

// Range gives each member subscribed to a topic a contiguous range of its
// partitions, members in id order (static members by instance id), the
// first ones one more when the count does not divide evenly, so members
// subscribed to the same topics get the same partition numbers of each
// (co-partitioning).
func Range(spec *AssignSpec) map[string]Assignment {
	out := map[string]Assignment{}
	subs := map[Uuid][]AssignMember{}
	for _, m := range spec.Members {
		out[m.ID] = Assignment{}
		for _, t := range m.Topics {
			subs[t] = append(subs[t], m)
		}
	}
	for t, ms := range subs {
		slices.SortFunc(ms, func(a, b AssignMember) int { return compareStr(rangeKey(a), rangeKey(b)) })
		n := spec.Partitions[t]
		per, extra := n/int32(len(ms)), n%int32(len(ms))
		start := int32(0)
		for i, m := range ms {
			size := per
			if int32(i) < extra {
				size++
			}
			for p := start; p < start+size; p++ {
				out[m.ID][t] = append(out[m.ID][t], p)
			}
			start += size
		}
	}
	return out
}

func rangeKey(m AssignMember) string {
	if m.InstanceID != nil {
		return "0" + *m.InstanceID
	}
	return "1" + m.ID
}

// balancer is Uniform's working state.
type balancer struct {
	members    []AssignMember
	partitions map[Uuid]int32
	owner      map[Uuid][]int // partition -> member index, -1 when free
	count      []int
	subscribed []map[Uuid]bool
}

func newBalancer(spec *AssignSpec) *balancer {
	b := &balancer{members: spec.Members, partitions: spec.Partitions, owner: map[Uuid][]int{}}
	b.count = make([]int, len(spec.Members))
	for _, m := range spec.Members {
		set := map[Uuid]bool{}
		for _, t := range m.Topics {
			set[t] = true
		}
		b.subscribed = append(b.subscribed, set)
	}
	for t, n := range spec.Partitions {
		own := make([]int, n)
		for i := range own {
			own[i] = -1
		}
		b.owner[t] = own
	}
	return b
}

// keepCurrent gives each member back the partitions it has in the
// current target that are still valid for it.
func (b *balancer) keepCurrent(current map[string]Assignment) {
	for i, m := range b.members {
		for t, ps := range current[m.ID] {
			own, ok := b.owner[t]
			if !ok || !b.subscribed[i][t] {
				continue
			}
			for _, p := range ps {
				if p >= 0 && int(p) < len(own) && own[p] == -1 {
					own[p] = i
					b.count[i]++
				}
			}
		}
	}
}

// placeFree gives every free partition to the least loaded member
// subscribed to its topic.
func (b *balancer) placeFree() {
	for _, t := range b.topics() {
		for p, o := range b.owner[t] {
			if o != -1 {
				continue
			}
			if i := b.leastLoaded(t, -1); i >= 0 {
				b.owner[t][p] = i
				b.count[i]++
			}
		}
	}
}

// balance moves partitions from a member to another subscribed to the
// same topic while their counts differ by more than one. Each move lowers
// the sum of squared counts, so it ends.
func (b *balancer) balance() {
	for moved := true; moved; {
		moved = false
		for _, t := range b.topics() {
			own := b.owner[t]
			for p := len(own) - 1; p >= 0; p-- {
				from := own[p]
				if from < 0 {
					continue
				}
				to := b.leastLoaded(t, from)
				if to >= 0 && b.count[to] < b.count[from]-1 {
					own[p] = to
					b.count[from]--
					b.count[to]++
					moved = true
				}
			}
		}
	}
}

// leastLoaded is the member subscribed to t with the fewest partitions,
// other than skip; ties go to the lowest member id; -1 if none.
func (b *balancer) leastLoaded(t Uuid, skip int) int {
	best := -1
	for i := range b.members {
		if i == skip || !b.subscribed[i][t] {
			continue
		}
		if best == -1 || b.count[i] < b.count[best] {
			best = i
		}
	}
	return best
}

func (b *balancer) topics() []Uuid {
	ts := make([]Uuid, 0, len(b.owner))
	for t := range b.owner {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, compareUuid)
	return ts
}

func (b *balancer) result() map[string]Assignment {
	out := make(map[string]Assignment, len(b.members))
	for _, m := range b.members {
		out[m.ID] = Assignment{}
	}
	for t, own := range b.owner {
		for p, i := range own {
			if i >= 0 {
				a := out[b.members[i].ID]
				a[t] = append(a[t], int32(p))
			}
		}
	}
	return out
}
