package metadata

import (
	"fmt"
	"slices"
)

// topicsDelta changes topics copy-on-write, one topic at a time.
type topicsDelta struct {
	base *Topics
	// changed holds the new version of every topic created or changed; it is
	// private to the delta until Apply publishes it.
	changed map[[16]byte]*Topic
	// removed holds the base version of every base topic removed.
	removed map[[16]byte]*Topic
	// names indexes the topics created in this delta.
	names map[string][16]byte
	// parts lists the partitions changed or added in base topics.
	parts map[[16]byte]map[int32]struct{}
}

func newTopicsDelta(base *Topics) topicsDelta {
	return topicsDelta{
		base:    base,
		changed: make(map[[16]byte]*Topic),
		removed: make(map[[16]byte]*Topic),
		names:   make(map[string][16]byte),
		parts:   make(map[[16]byte]map[int32]struct{}),
	}
}

// get returns the topic's current version in the delta, or nil.
func (td *topicsDelta) get(id [16]byte) *Topic {
	if t, ok := td.changed[id]; ok {
		return t
	}
	if _, ok := td.removed[id]; ok {
		return nil
	}
	return td.base.ByID(id)
}

func (td *topicsDelta) nameTaken(name string) bool {
	if _, ok := td.names[name]; ok {
		return true
	}
	t := td.base.ByName(name)
	return t != nil && td.removed[t.ID] == nil
}

func (td *topicsDelta) inBase(id [16]byte) bool {
	return td.base.ByID(id) != nil && td.removed[id] == nil
}

func (td *topicsDelta) create(name string, id [16]byte) error {
	if td.get(id) != nil {
		return fmt.Errorf("topic %s: id %x already exists", name, id)
	}
	if td.nameTaken(name) {
		return fmt.Errorf("topic %s already exists", name)
	}
	td.changed[id] = &Topic{Name: name, ID: id}
	td.names[name] = id
	return nil
}

// writable returns the delta's own copy of topic id, making one on the first
// change: a new Topic whose partition slice is copied but whose partitions are
// shared until they change.
func (td *topicsDelta) writable(id [16]byte) (*Topic, error) {
	if t, ok := td.changed[id]; ok {
		return t, nil
	}
	t := td.get(id)
	if t == nil {
		return nil, fmt.Errorf("unknown topic id %x", id)
	}
	nt := &Topic{Name: t.Name, ID: t.ID, Partitions: slices.Clone(t.Partitions)}
	td.changed[id] = nt
	return nt, nil
}

func (td *topicsDelta) markPartition(id [16]byte, p int32) {
	if !td.inBase(id) {
		return // a created topic is reported whole
	}
	m := td.parts[id]
	if m == nil {
		m = make(map[int32]struct{})
		td.parts[id] = m
	}
	m[p] = struct{}{}
}

// setPartition creates or replaces a partition. Partitions are created in id
// order (topic creation and CreatePartitions both write them so), which keeps
// Topic.Partitions indexable by id with no holes.
func (td *topicsDelta) setPartition(r *PartitionRecord) error {
	t := td.get(r.TopicID)
	if t == nil {
		return fmt.Errorf("partition %d of unknown topic id %x", r.PartitionID, r.TopicID)
	}
	if r.PartitionID < 0 || int(r.PartitionID) > len(t.Partitions) {
		return fmt.Errorf("topic %s has %d partitions, cannot add partition %d", t.Name, len(t.Partitions), r.PartitionID)
	}
	t, _ = td.writable(r.TopicID)
	p := &Partition{
		ID:                  r.PartitionID,
		Replicas:            nilIfEmpty(r.Replicas),
		ISR:                 nilIfEmpty(r.ISR),
		Leader:              r.Leader,
		LeaderEpoch:         r.LeaderEpoch,
		PartitionEpoch:      r.PartitionEpoch,
		LeaderRecoveryState: r.LeaderRecoveryState,
		RemovingReplicas:    nilIfEmpty(r.RemovingReplicas),
		AddingReplicas:      nilIfEmpty(r.AddingReplicas),
	}
	if int(r.PartitionID) == len(t.Partitions) {
		t.Partitions = append(t.Partitions, p)
	} else {
		t.Partitions[r.PartitionID] = p
	}
	td.markPartition(r.TopicID, r.PartitionID)
	return nil
}

// changePartition merges a PartitionChangeRecord the way Kafka does: only the
// fields set change, the partition epoch always goes up, and the leader epoch
// goes up whenever Leader is set, even to the same leader, because the
// controller sets it precisely to fence the old leader epoch.
func (td *topicsDelta) changePartition(r *PartitionChangeRecord) error {
	t := td.get(r.TopicID)
	if t == nil {
		return fmt.Errorf("partition %d of unknown topic id %x", r.PartitionID, r.TopicID)
	}
	old := t.Partition(r.PartitionID)
	if old == nil {
		return fmt.Errorf("topic %s has no partition %d", t.Name, r.PartitionID)
	}
	p := *old
	if r.Replicas != nil {
		p.Replicas = nilIfEmpty(r.Replicas)
	}
	if r.ISR != nil {
		p.ISR = nilIfEmpty(r.ISR)
	}
	if r.RemovingReplicas != nil {
		p.RemovingReplicas = nilIfEmpty(r.RemovingReplicas)
	}
	if r.AddingReplicas != nil {
		p.AddingReplicas = nilIfEmpty(r.AddingReplicas)
	}
	if r.Leader != NoLeaderChange {
		p.Leader = r.Leader
		p.LeaderEpoch++
	}
	if r.LeaderRecoveryState != NoLeaderRecoveryChange {
		p.LeaderRecoveryState = r.LeaderRecoveryState
	}
	p.PartitionEpoch++
	t, _ = td.writable(r.TopicID)
	t.Partitions[r.PartitionID] = &p
	td.markPartition(r.TopicID, r.PartitionID)
	return nil
}

// remove deletes a topic and returns its name.
func (td *topicsDelta) remove(id [16]byte) (string, error) {
	t := td.get(id)
	if t == nil {
		return "", fmt.Errorf("unknown topic id %x", id)
	}
	delete(td.changed, id)
	delete(td.parts, id)
	if td.names[t.Name] == id {
		delete(td.names, t.Name)
	}
	if base := td.base.ByID(id); base != nil && td.removed[id] == nil {
		td.removed[id] = base
	}
	return t.Name, nil
}

// nilIfEmpty makes "no replicas" one value in the image, whether the record
// said null or empty.
func nilIfEmpty(s []int32) []int32 {
	if len(s) == 0 {
		return nil
	}
	return s
}
