package metadata

import (
	"maps"
	"slices"
)

// TopicChanges is what a delta did to topics, each list in topic id order, so
// a broker can create and delete local logs and follow leadership changes.
type TopicChanges struct {
	// Created holds topics new in this delta, as in the new image. A topic
	// removed and re-created in one delta is in both Deleted and Created.
	Created []*Topic
	// Changed holds base topics that stay, with the partitions that changed.
	Changed []ChangedTopic
	// Deleted holds removed topics as they were in the base image.
	Deleted []*Topic
}

// ChangedTopic is a topic that existed before the delta and still does.
type ChangedTopic struct {
	Topic      *Topic  // as in the new image
	Partitions []int32 // changed or added, ascending
}

// ChangedTopics reports the delta's topic changes so far. It may be called
// before or after Apply; the topics it returns are those Apply publishes.
func (d *Delta) ChangedTopics() TopicChanges {
	td := &d.topics
	var c TopicChanges
	for _, id := range sortedIDs(td.changed) {
		t := td.changed[id]
		if !td.inBase(id) {
			c.Created = append(c.Created, t)
			continue
		}
		if parts := td.parts[id]; len(parts) > 0 {
			c.Changed = append(c.Changed, ChangedTopic{Topic: t, Partitions: slices.Sorted(maps.Keys(parts))})
		}
	}
	for _, id := range sortedIDs(td.removed) {
		c.Deleted = append(c.Deleted, td.removed[id])
	}
	return c
}

func sortedIDs(m map[[16]byte]*Topic) [][16]byte {
	return slices.SortedFunc(maps.Keys(m), compareIDs)
}
