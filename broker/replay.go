package broker

import (
	"fmt"

	"spool/controller/metadata"
	"spool/record"
	"spool/storage"
)

// replayLog feeds every batch of l, from its start to its end and in
// order, to fn: how the coordinators rebuild their state from an internal
// topic partition they come to lead.
func replayLog(l *storage.Log, fn func(batch []byte, h record.Header) error) error {
	var buf []byte
	end := l.LogEndOffset()
	for off := l.LogStartOffset(); off < end; {
		sl, err := l.Read(off, 1<<20, end, true)
		if err != nil {
			return fmt.Errorf("read at %d: %w", off, err)
		}
		if sl.Empty() {
			return nil
		}
		buf, err = sl.ReadAll(buf[:0])
		sl.Release()
		if err != nil {
			return err
		}
		next := off
		err = record.Split(buf, func(batch []byte, h record.Header) error {
			next = h.NextOffset()
			if h.NextOffset() <= off {
				return nil
			}
			return fn(batch, h)
		})
		if err != nil {
			return err
		}
		if next <= off {
			return fmt.Errorf("replay stuck at offset %d", off)
		}
		off = next
	}
	return nil
}

// followPartitions calls follow for every partition of topic the change
// touches: nil metadata for a deleted one.
func followPartitions(ch metadata.TopicChanges, topic string, follow func(id int32, mp *metadata.Partition)) {
	for _, t := range ch.Deleted {
		if t.Name == topic {
			for _, p := range t.Partitions {
				follow(p.ID, nil)
			}
		}
	}
	for _, t := range ch.Created {
		if t.Name == topic {
			for _, p := range t.Partitions {
				follow(p.ID, p)
			}
		}
	}
	for _, ct := range ch.Changed {
		if ct.Topic.Name == topic {
			for _, id := range ct.Partitions {
				follow(id, ct.Topic.Partition(id))
			}
		}
	}
}
