package consumergroup

import (
	"slices"
	"time"

	"spool/broker/group"
)

// AssignSpec is what an assignor works from: the members (sorted by id)
// with the topics each subscribes to, the partition count of every topic,
// and the current target, which sticky assignors keep where they can.
type AssignSpec struct {
	Members    []AssignMember
	Partitions map[Uuid]int32
	Current    map[string]Assignment
}

// AssignMember is one member as an assignor sees it.
type AssignMember struct {
	ID         string
	InstanceID *string
	Topics     []Uuid // sorted
}

// Assignor computes a target assignment: every partition of a subscribed
// topic to exactly one member subscribed to it.
type Assignor func(spec *AssignSpec) map[string]Assignment

// Assignors are the server-side assignors by name.
var Assignors = map[string]Assignor{"uniform": Uniform, "range": Range}

// maybeAssign computes a new target assignment when the group epoch has
// moved past it, at most once per assignment interval (Kafka 4.4's
// group.consumer.assignment.interval.ms): a later one waits for a timer.
func (g *Group) maybeAssign(topics Topics, now time.Time, recs *[]group.Record, out *Out) {
	if g.epoch <= g.targetEpoch {
		return
	}
	if at := time.UnixMilli(g.targetAtMs).Add(g.cfg.AssignmentInterval); g.targetAtMs > 0 && now.Before(at) {
		g.arm(out, TimerKey{Kind: TimerAssign}, at)
		return
	}
	spec := g.assignSpec(topics)
	next := Assignors[g.assignorName()](spec)
	for _, m := range spec.Members {
		a := next[m.ID]
		if a == nil {
			a = Assignment{}
			next[m.ID] = a
		}
		if cur, ok := g.target[m.ID]; !ok || !cur.Equal(a) {
			*recs = append(*recs, targetMemberRecord(g.ID, m.ID, a))
		}
	}
	g.target = next
	g.targetEpoch, g.targetAtMs = g.epoch, now.UnixMilli()
	*recs = append(*recs, targetEpochRecord(g.ID, g.targetEpoch, g.targetAtMs))
	g.disarm(out, TimerKey{Kind: TimerAssign})
}

func (g *Group) assignSpec(topics Topics) *AssignSpec {
	spec := &AssignSpec{Partitions: map[Uuid]int32{}, Current: g.target}
	for _, m := range g.Members() {
		am := AssignMember{ID: m.ID, InstanceID: m.InstanceID}
		for _, name := range g.memberTopics(m) {
			if t, ok := topics.ByName(name); ok && t.Partitions > 0 {
				am.Topics = append(am.Topics, t.ID)
				spec.Partitions[t.ID] = t.Partitions
			}
		}
		slices.SortFunc(am.Topics, compareUuid)
		spec.Members = append(spec.Members, am)
	}
	return spec
}

// assignorName is the server assignor the members ask for most (Kafka's
// preferred assignor), or the configured default.
func (g *Group) assignorName() string {
	votes := map[string]int{}
	best := ""
	for _, m := range g.Members() {
		if m.Assignor == nil || Assignors[*m.Assignor] == nil {
			continue
		}
		votes[*m.Assignor]++
		if best == "" || votes[*m.Assignor] > votes[best] {
			best = *m.Assignor
		}
	}
	if best != "" {
		return best
	}
	for _, name := range g.cfg.Assignors {
		if Assignors[name] != nil {
			return name
		}
	}
	return "uniform"
}

func compareUuid(a, b Uuid) int {
	for i := range a {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return 0
}
