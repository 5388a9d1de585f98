package metadata

import (
	"fmt"
	"maps"
)

// Topic is one topic in an image. Like everything reachable from an Image it
// is never modified once published; a delta that changes the topic makes a
// new Topic and shares the untouched Partitions with the old one.
type Topic struct {
	Name       string
	ID         [16]byte
	Partitions []*Partition // index = partition id
}

// Partition returns partition p, or nil if the topic has no such partition.
func (t *Topic) Partition(p int32) *Partition {
	if p < 0 || int(p) >= len(t.Partitions) {
		return nil
	}
	return t.Partitions[p]
}

// Partition is one partition's replica assignment and leadership.
type Partition struct {
	ID                  int32
	Replicas            []int32
	ISR                 []int32
	Leader              int32 // NoLeader if none
	LeaderEpoch         int32
	PartitionEpoch      int32
	LeaderRecoveryState int8
	RemovingReplicas    []int32
	AddingReplicas      []int32
}

// The topic maps are split into shards so that a delta copies only the shards
// it touches, and the shards hang off a two-level table so that it copies
// only the table paths to them: with 1,000,000 topics a shard holds about
// 1,000, and publishing a change to one topic copies two 32-pointer top
// tables, two 32-pointer leaves and two shards, never the whole index.
const (
	leafSize    = 32
	leafCount   = 32
	topicShards = leafSize * leafCount
)

type shards[K comparable] [leafCount]*[leafSize]map[K]*Topic

func (s *shards[K]) get(i int, k K) *Topic {
	if leaf := s[i/leafSize]; leaf != nil {
		return leaf[i%leafSize][k]
	}
	return nil
}

// Topics indexes an image's topics by name and by id. It is immutable.
type Topics struct {
	byID   shards[[16]byte]
	byName shards[string]
	n      int
}

// ByName returns the topic named name, or nil.
func (ts *Topics) ByName(name string) *Topic { return ts.byName.get(nameShard(name), name) }

// ByID returns the topic with id id, or nil.
func (ts *Topics) ByID(id [16]byte) *Topic { return ts.byID.get(idShard(id), id) }

// Len returns the number of topics.
func (ts *Topics) Len() int { return ts.n }

// Range calls fn for every topic, in no particular order, until fn returns
// false.
func (ts *Topics) Range(fn func(*Topic) bool) {
	for _, leaf := range ts.byID {
		if leaf == nil {
			continue
		}
		for _, shard := range leaf {
			for _, t := range shard {
				if !fn(t) {
					return
				}
			}
		}
	}
}

// FNV-1a: deterministic, so shard layout needs no seed kept anywhere, and
// cheap enough to run on every lookup.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func nameShard(name string) int {
	h := uint64(fnvOffset)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint64(name[i])) * fnvPrime
	}
	return int(h % topicShards)
}

func idShard(id [16]byte) int {
	h := uint64(fnvOffset)
	for _, c := range id {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return int(h % topicShards)
}

// withChanges returns a copy of ts with removed deleted and changed inserted
// or replaced, copying only the paths to the shards they fall in.
func (ts *Topics) withChanges(changed, removed map[[16]byte]*Topic) *Topics {
	if len(changed) == 0 && len(removed) == 0 {
		return ts
	}
	nt := *ts
	ids := shardWriter[[16]byte]{t: &nt.byID}
	names := shardWriter[string]{t: &nt.byName}
	for id, t := range removed {
		delete(ids.shard(idShard(id)), id)
		delete(names.shard(nameShard(t.Name)), t.Name)
		nt.n--
	}
	for id, t := range changed {
		m := ids.shard(idShard(id))
		if _, ok := m[id]; !ok {
			nt.n++
		}
		m[id] = t
		names.shard(nameShard(t.Name))[t.Name] = t
	}
	return &nt
}

// shardWriter copies leaves and shards of a new table on their first write;
// until then they are shared with the table it was copied from.
type shardWriter[K comparable] struct {
	t        *shards[K]
	ownLeaf  [leafCount]bool
	ownShard [topicShards / 64]uint64
}

func (w *shardWriter[K]) shard(i int) map[K]*Topic {
	li, si := i/leafSize, i%leafSize
	if !w.ownLeaf[li] {
		leaf := new([leafSize]map[K]*Topic)
		if old := w.t[li]; old != nil {
			*leaf = *old
		}
		w.t[li] = leaf
		w.ownLeaf[li] = true
	}
	leaf := w.t[li]
	if bit := uint64(1) << (i % 64); w.ownShard[i/64]&bit == 0 {
		leaf[si] = cloneMap(leaf[si])
		w.ownShard[i/64] |= bit
	}
	return leaf[si]
}

// cloneMap copies m (maps.Clone copies the table without rehashing keys,
// several times faster than inserting them one by one); nil becomes an empty
// map ready for writes.
func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return make(map[K]V)
	}
	return maps.Clone(m)
}

// MaxTopicNameLen is Kafka's limit: 255 minus room for the partition
// suffix and the .deleted / -delete suffixes of a partition directory.
const MaxTopicNameLen = 249

// TopicNameProblem says what is wrong with a topic name under Kafka's
// rules, or "" when it is legal. The controller refuses to create such a
// topic; the broker answers INVALID_TOPIC_EXCEPTION when a client asks
// about one.
func TopicNameProblem(name string) string {
	switch {
	case name == "":
		return "Topic name is illegal, it can't be empty"
	case name == "." || name == "..":
		return "Topic name cannot be \".\" or \"..\""
	case len(name) > MaxTopicNameLen:
		return fmt.Sprintf("Topic name is illegal, it can't be longer than %d characters, topic name: %s", MaxTopicNameLen, name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Sprintf("Topic name %q is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'", name)
		}
	}
	return ""
}
