package consumergroup

import (
	"bytes"
	"slices"
)

// Assignment is a set of partitions by topic id; each slice is sorted and
// holds no duplicates, and no topic maps to an empty slice.
type Assignment map[Uuid][]int32

// normalize sorts ps and drops duplicates.
func normalize(ps []int32) []int32 {
	slices.Sort(ps)
	return slices.Compact(ps)
}

func (a Assignment) topicIDs() []Uuid {
	ids := make([]Uuid, 0, len(a))
	for id := range a {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(x, y Uuid) int { return bytes.Compare(x[:], y[:]) })
	return ids
}

// Count is the number of partitions.
func (a Assignment) Count() int {
	n := 0
	for _, ps := range a {
		n += len(ps)
	}
	return n
}

// Has reports whether the assignment holds a partition.
func (a Assignment) Has(id Uuid, p int32) bool {
	_, ok := slices.BinarySearch(a[id], p)
	return ok
}

// Equal reports whether two assignments hold the same partitions.
func (a Assignment) Equal(b Assignment) bool {
	if len(a) != len(b) {
		return false
	}
	for id, ps := range a {
		if !slices.Equal(ps, b[id]) {
			return false
		}
	}
	return true
}

// Clone copies the assignment.
func (a Assignment) Clone() Assignment {
	out := make(Assignment, len(a))
	for id, ps := range a {
		out[id] = slices.Clone(ps)
	}
	return out
}

// add puts a partition in, keeping the slice sorted.
func (a Assignment) add(id Uuid, p int32) {
	ps := a[id]
	i, ok := slices.BinarySearch(ps, p)
	if !ok {
		a[id] = slices.Insert(ps, i, p)
	}
}

// intersect is the partitions of a also in b.
func intersect(a, b Assignment) Assignment {
	out := Assignment{}
	for id, ps := range a {
		for _, p := range ps {
			if b.Has(id, p) {
				out[id] = append(out[id], p)
			}
		}
	}
	return out
}

// minus is the partitions of a not in b.
func minus(a, b Assignment) Assignment {
	out := Assignment{}
	for id, ps := range a {
		for _, p := range ps {
			if !b.Has(id, p) {
				out[id] = append(out[id], p)
			}
		}
	}
	return out
}

// union is the partitions in a or b.
func union(a, b Assignment) Assignment {
	out := a.Clone()
	for id, ps := range b {
		for _, p := range ps {
			out.add(id, p)
		}
	}
	return out
}

// overlaps reports whether the owned partitions include any of a's.
func overlaps(owned []OwnedTopic, a Assignment) bool {
	for _, t := range owned {
		for _, p := range t.Partitions {
			if a.Has(t.TopicID, p) {
				return true
			}
		}
	}
	return false
}

// subsetOf reports whether every owned partition is in a.
func subsetOf(owned []OwnedTopic, a Assignment) bool {
	for _, t := range owned {
		for _, p := range t.Partitions {
			if !a.Has(t.TopicID, p) {
				return false
			}
		}
	}
	return true
}

// OwnedTopic is a topic's partitions a member reports it owns.
type OwnedTopic struct {
	TopicID    Uuid
	Partitions []int32
}
