package consumergroup

import (
	"fmt"
	"testing"
)

func specOf(members int, topics map[string]int32, subs func(i int) []string) *AssignSpec {
	spec := &AssignSpec{Partitions: map[Uuid]int32{}, Current: map[string]Assignment{}}
	for name, n := range topics {
		spec.Partitions[topicID(name)] = n
	}
	for i := 0; i < members; i++ {
		m := AssignMember{ID: fmt.Sprintf("m%03d", i)}
		for _, t := range subs(i) {
			m.Topics = append(m.Topics, topicID(t))
		}
		spec.Members = append(spec.Members, m)
	}
	return spec
}

// checkComplete fails unless every partition of a subscribed topic has
// exactly one owner, subscribed to its topic.
func checkComplete(t *testing.T, spec *AssignSpec, out map[string]Assignment) {
	t.Helper()
	owner := map[Uuid]map[int32]string{}
	subscribed := map[Uuid]bool{}
	for _, m := range spec.Members {
		set := map[Uuid]bool{}
		for _, tp := range m.Topics {
			set[tp] = true
			subscribed[tp] = true
		}
		for tp, ps := range out[m.ID] {
			if !set[tp] {
				t.Fatalf("%s got a partition of a topic it does not subscribe to", m.ID)
			}
			for _, p := range ps {
				if owner[tp] == nil {
					owner[tp] = map[int32]string{}
				}
				if o, ok := owner[tp][p]; ok {
					t.Fatalf("partition %d given to %s and %s", p, o, m.ID)
				}
				owner[tp][p] = m.ID
			}
		}
	}
	for tp := range subscribed {
		if len(owner[tp]) != int(spec.Partitions[tp]) {
			t.Fatalf("topic has %d of %d partitions assigned", len(owner[tp]), spec.Partitions[tp])
		}
	}
}

func counts(out map[string]Assignment) (lo, hi int) {
	lo = 1 << 30
	for _, a := range out {
		lo, hi = min(lo, a.Count()), max(hi, a.Count())
	}
	return lo, hi
}

// TestUniformJoinMovesFewest: a member joining 99 others over 1,000
// partitions takes its 10 from the most loaded, and nobody else loses or
// gains a partition.
func TestUniformJoinMovesFewest(t *testing.T) {
	topics := map[string]int32{"t": 1000}
	all := func(int) []string { return []string{"t"} }
	spec := specOf(99, topics, all)
	before := Uniform(spec)
	checkComplete(t, spec, before)
	if lo, hi := counts(before); hi-lo > 1 {
		t.Fatalf("unbalanced: %d..%d", lo, hi)
	}
	spec = specOf(100, topics, all)
	spec.Current = before
	after := Uniform(spec)
	checkComplete(t, spec, after)
	if lo, hi := counts(after); lo != 10 || hi != 10 {
		t.Fatalf("after the join: %d..%d partitions per member, want 10", lo, hi)
	}
	moved := 0
	for id, a := range before {
		moved += len(minus(a, after[id]))
	}
	if moved != 10 {
		t.Fatalf("%d partitions moved, want 10", moved)
	}
}

// TestUniformHeterogeneous: members with different subscriptions get only
// their topics, and members with the same subscription are balanced.
func TestUniformHeterogeneous(t *testing.T) {
	topics := map[string]int32{"a": 6, "b": 3, "c": 9}
	subs := func(i int) []string {
		switch i % 3 {
		case 0:
			return []string{"a", "b"}
		case 1:
			return []string{"b", "c"}
		}
		return []string{"c"}
	}
	spec := specOf(6, topics, subs)
	out := Uniform(spec)
	checkComplete(t, spec, out)
	for i := 0; i < 3; i++ {
		a, b := out[spec.Members[i].ID].Count(), out[spec.Members[i+3].ID].Count()
		if a-b > 1 || b-a > 1 {
			t.Fatalf("members with the same subscription got %d and %d partitions", a, b)
		}
	}
}

// TestRangeCoPartitions: members subscribed to the same two topics get
// the same partition numbers of each, in contiguous ranges.
func TestRangeCoPartitions(t *testing.T) {
	topics := map[string]int32{"x": 5, "y": 5}
	spec := specOf(2, topics, func(int) []string { return []string{"x", "y"} })
	out := Range(spec)
	checkComplete(t, spec, out)
	for _, m := range spec.Members {
		x, y := out[m.ID][topicID("x")], out[m.ID][topicID("y")]
		if fmt.Sprint(x) != fmt.Sprint(y) {
			t.Fatalf("%s: x=%v y=%v", m.ID, x, y)
		}
	}
	if got := fmt.Sprint(out["m000"][topicID("x")]); got != "[0 1 2]" {
		t.Fatalf("first member got %s, want [0 1 2]", got)
	}
}

func BenchmarkUniform100x1000Join(b *testing.B) {
	topics := map[string]int32{"t": 1000}
	all := func(int) []string { return []string{"t"} }
	before := Uniform(specOf(99, topics, all))
	spec := specOf(100, topics, all)
	spec.Current = before
	for b.Loop() {
		Uniform(spec)
	}
}
