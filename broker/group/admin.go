package group

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Delete handles one group of a DeleteGroups: only an empty group may go;
// its offsets and metadata are tombstoned and it becomes Dead. The answer
// is a Reply with only Code.
func (g *Group) Delete(id ReqID, now time.Time) Out {
	var out Out
	switch {
	case g.state == Dead:
		out.Replies = append(out.Replies, Reply{To: id, Code: kerr.GroupIDNotFound.Code})
		return out
	case g.state != Empty:
		out.Replies = append(out.Replies, Reply{To: id, Code: kerr.NonEmptyGroup.Code})
		return out
	}
	// Partitions with only pending transactional offsets get a tombstone
	// too: replayed, it drops them, as Kafka's deletion does.
	recs := g.offsetTombstones(append(g.sortedOffsets(), g.pendingTxnOnly()...))
	recs = append(recs, Record{Key: GroupKey(g.ID)})
	g.setState(Dead, now)
	g.write(&out, recs, func(out *Out, err *kerr.Error, now time.Time) {
		code := int16(0)
		if err != nil {
			code = err.Code
			g.setState(Empty, now) // still on disk: the group lives on
		} else {
			g.offsets = map[TopicPartition]Offset{}
			g.txnOffsets = map[int64]map[TopicPartition]Offset{}
		}
		out.Replies = append(out.Replies, Reply{To: id, Code: code})
	})
	return out
}

// DeleteOffsets handles an OffsetDelete: offsets of topics the group is
// subscribed to stay (GROUP_SUBSCRIBED_TO_TOPIC); the others are
// tombstoned, which also drops pending transactional offsets of those
// partitions, as in Kafka.
func (g *Group) DeleteOffsets(id ReqID, r *kmsg.OffsetDeleteRequest, now time.Time) Out {
	var out Out
	resp := r.ResponseKind().(*kmsg.OffsetDeleteResponse)
	if g.state == Dead {
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		out.reply(id, resp)
		return out
	}
	if g.state != Empty && g.protocolType != "consumer" {
		resp.ErrorCode = kerr.NonEmptyGroup.Code
		out.reply(id, resp)
		return out
	}
	var gone []TopicPartition
	for _, t := range r.Topics {
		rt := kmsg.NewOffsetDeleteResponseTopic()
		rt.Topic = t.Topic
		subscribed := g.subscribedTo(t.Topic)
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetDeleteResponseTopicPartition()
			rp.Partition = p.Partition
			tp := TopicPartition{t.Topic, p.Partition}
			if subscribed {
				rp.ErrorCode = kerr.GroupSubscribedToTopic.Code
			} else if _, ok := g.offsets[tp]; (ok || g.HasPendingTxn(tp)) && !slices.Contains(gone, tp) {
				gone = append(gone, tp)
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if len(gone) == 0 {
		out.reply(id, resp)
		return out
	}
	w := g.write(&out, g.offsetTombstones(gone), nil)
	w.done = func(out *Out, err *kerr.Error, now time.Time) {
		if err != nil {
			resp.ErrorCode, resp.Topics = err.Code, nil
		} else {
			for i, tp := range gone {
				g.applyTombstone(tp, w.offsetOf(i))
			}
		}
		out.reply(id, resp)
	}
	return out
}

// subscribedTo reports whether a member's subscription names topic; when
// the subscriptions cannot be read, it says yes, to keep the offsets.
func (g *Group) subscribedTo(topic string) bool {
	if len(g.members) == 0 {
		return false
	}
	if g.protocolType != "consumer" || g.protocol == "" {
		return true
	}
	for _, m := range g.members {
		var md kmsg.ConsumerMemberMetadata
		if err := md.ReadFrom(m.metadataFor(g.protocol)); err != nil {
			return true
		}
		if slices.Contains(md.Topics, topic) {
			return true
		}
	}
	return false
}

func (g *Group) offsetTombstones(tps []TopicPartition) []Record {
	recs := make([]Record, 0, len(tps))
	for _, tp := range tps {
		recs = append(recs, Record{Key: OffsetKey(g.ID, tp.Topic, tp.Partition)})
	}
	return recs
}

func (g *Group) sortedOffsets() []TopicPartition {
	tps := make([]TopicPartition, 0, len(g.offsets))
	for tp := range g.offsets {
		tps = append(tps, tp)
	}
	slices.SortFunc(tps, compareTP)
	return tps
}

// compareTP orders partitions by topic, then partition.
func compareTP(a, b TopicPartition) int {
	if c := strings.Compare(a.Topic, b.Topic); c != 0 {
		return c
	}
	return cmp.Compare(a.Partition, b.Partition)
}

// Expire deletes offsets past offsets.retention.minutes (KIP-211): in an
// empty consumer group, counted from when it became empty or the commit,
// whichever is later; in a group without a protocol (offsets only), from
// the commit; in a live consumer group, only offsets of topics it no
// longer subscribes to. A partition with pending transactional offsets
// keeps its offset. An empty group left without offsets and without open
// transactions is deleted.
func (g *Group) Expire(now time.Time) Out {
	var out Out
	if g.state == Dead || len(g.writes) > 0 {
		return out
	}
	retention := g.cfg.OffsetsRetention
	var gone []TopicPartition
	expired := map[TopicPartition]Offset{}
	for _, tp := range g.sortedOffsets() {
		o := g.offsets[tp]
		base := time.UnixMilli(o.CommitMs)
		switch {
		case g.protocolType == "":
		case g.state == Empty:
			if g.stateSince.After(base) {
				base = g.stateSince
			}
		case g.state == Stable && g.protocolType == "consumer" && !g.subscribedTo(tp.Topic):
		default:
			continue
		}
		if now.Sub(base) >= retention && !g.HasPendingTxn(tp) {
			gone = append(gone, tp)
			expired[tp] = o
		}
	}
	recs := g.offsetTombstones(gone)
	dies := g.state == Empty && len(gone) == len(g.offsets) && len(g.pending) == 0 && len(g.txnOffsets) == 0
	if dies {
		recs = append(recs, Record{Key: GroupKey(g.ID)})
	}
	if len(recs) == 0 {
		return out
	}
	g.write(&out, recs, func(out *Out, err *kerr.Error, now time.Time) {
		if err != nil {
			return
		}
		for tp, o := range expired {
			// A commit that landed after the tombstone wins.
			if g.offsets[tp] == o {
				delete(g.offsets, tp)
			}
		}
		// Writes that went out after the tombstones (a commit, a
		// transactional commit) keep the group alive.
		if dies && g.state == Empty && len(g.offsets) == 0 && len(g.txnOffsets) == 0 && len(g.writes) == 0 {
			g.setState(Dead, now)
		}
	})
	return out
}
