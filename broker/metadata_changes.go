package broker

import (
	"fmt"
	"strings"

	"go.uber.org/zap"

	"spool/controller/metadata"
)

// maxNamed is how many names one summary line lists: a change to
// thousands of partitions is one line, not thousands.
const maxNamed = 5

// logChanges logs, at INFO and one line per kind, what a published image
// changed: topics created and deleted, partitions added, leaders moved,
// brokers fenced and unfenced. Names are node ids, as operators know them.
func (b *Broker) logChanges(prev, next *metadata.Image, ch metadata.TopicChanges) {
	if prev.Offset < 0 {
		return // the first image after start: the banner and replay cover it
	}
	var created, deleted, grown, moved []string
	for _, t := range ch.Created {
		created = append(created, fmt.Sprintf("%s (%d partitions)", t.Name, len(t.Partitions)))
	}
	for _, t := range ch.Deleted {
		deleted = append(deleted, t.Name)
	}
	for _, ct := range ch.Changed {
		old := prev.Topics.ByID(ct.Topic.ID)
		if old == nil {
			continue
		}
		if len(ct.Topic.Partitions) > len(old.Partitions) {
			grown = append(grown, fmt.Sprintf("%s %d->%d", ct.Topic.Name, len(old.Partitions), len(ct.Topic.Partitions)))
		}
		for _, id := range ct.Partitions {
			np, op := ct.Topic.Partition(id), old.Partition(id)
			if np != nil && op != nil && np.Leader != op.Leader {
				moved = append(moved, fmt.Sprintf("%s-%d %d->%d", ct.Topic.Name, id, op.Leader, np.Leader))
			}
		}
	}
	summary(b.log, "topics created", created)
	summary(b.log, "topics deleted", deleted)
	summary(b.log, "partitions added", grown)
	summary(b.log, "partition leaders moved", moved)
	var fenced, unfenced []string
	for id, nb := range next.Brokers {
		ob := prev.Brokers[id]
		switch {
		case nb.Fenced && ob != nil && !ob.Fenced:
			fenced = append(fenced, fmt.Sprint(id))
		case !nb.Fenced && (ob == nil || ob.Fenced):
			unfenced = append(unfenced, fmt.Sprint(id))
		}
	}
	summary(b.log, "brokers fenced", fenced)
	summary(b.log, "brokers unfenced", unfenced)
}

// summary logs one line for items: how many, and the first few.
func summary(log *zap.Logger, what string, items []string) {
	if len(items) == 0 {
		return
	}
	shown := items
	if len(shown) > maxNamed {
		shown = shown[:maxNamed]
	}
	fields := []zap.Field{zap.Int("count", len(items)), zap.String("items", strings.Join(shown, ", "))}
	if len(items) > maxNamed {
		fields = append(fields, zap.Int("more", len(items)-maxNamed))
	}
	log.Info(what, fields...)
}
