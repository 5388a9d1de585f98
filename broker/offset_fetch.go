package broker

import (
	"cmp"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/group"
	"spool/protocol"
)

// handleOffsetFetch answers committed offsets: one group before v8, many
// from v8. An unknown group or partition has offset -1 and no error, as in
// Kafka. With RequireStable (v7+, KIP-447) a partition whose offset an
// open transaction is changing answers UNSTABLE_OFFSET_COMMIT instead.
func (b *Broker) handleOffsetFetch(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.OffsetFetchRequest)
	resp := r.ResponseKind().(*kmsg.OffsetFetchResponse)
	stable := r.Version >= 7 && r.RequireStable
	if r.Version < 8 {
		var want map[string][]int32
		if r.Topics != nil {
			want = map[string][]int32{}
			for _, t := range r.Topics {
				want[t.Topic] = append(want[t.Topic], t.Partitions...)
			}
		}
		topics, err := b.fetchOffsets(r.Group, want, topicOrder(r.Topics), stable)
		for _, t := range topics {
			rt := kmsg.NewOffsetFetchResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewOffsetFetchResponseTopicPartition()
				rp.Partition, rp.Offset, rp.LeaderEpoch, rp.Metadata, rp.ErrorCode = p.Partition, p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		if err != nil {
			resp.ErrorCode = err.Code
		}
		respond(protocol.Msg(resp))
		return
	}
	byID := r.Version >= 10
	for _, rg := range r.Groups {
		if err := b.checkFetchMember(rg); err != nil {
			g := kmsg.NewOffsetFetchResponseGroup()
			g.Group, g.ErrorCode = rg.Group, err.Code
			resp.Groups = append(resp.Groups, g)
			continue
		}
		want, order, unknown := b.wantedOffsets(rg.Topics, byID)
		topics, err := b.fetchOffsets(rg.Group, want, order, stable)
		g := kmsg.NewOffsetFetchResponseGroup()
		g.Group, g.Topics = rg.Group, topics
		if err != nil {
			g.ErrorCode = err.Code
		}
		if byID {
			g.Topics = b.withTopicIDs(g.Topics, unknown, rg.Topics != nil)
		}
		resp.Groups = append(resp.Groups, g)
	}
	respond(protocol.Msg(resp))
}

// wantedOffsets is what one group of a v8+ request asks for, by topic
// name in request order (want nil: every committed offset). From v10
// topics come by id; an id the image does not know is returned in
// unknown, answered UNKNOWN_TOPIC_ID as Kafka does.
func (b *Broker) wantedOffsets(topics []kmsg.OffsetFetchRequestGroupTopic, byID bool) (map[string][]int32, []string, []kmsg.OffsetFetchRequestGroupTopic) {
	if topics == nil {
		return nil, nil, nil
	}
	img := b.Image()
	want := map[string][]int32{}
	var order []string
	var unknown []kmsg.OffsetFetchRequestGroupTopic
	for _, t := range topics {
		name := t.Topic
		if byID {
			tp := img.Topics.ByID(t.TopicID)
			if tp == nil {
				unknown = append(unknown, t)
				continue
			}
			name = tp.Name
		}
		if _, ok := want[name]; !ok {
			order = append(order, name)
		}
		want[name] = append(want[name], t.Partitions...)
	}
	return want, order, unknown
}

// withTopicIDs fills the ids of a v10 answer's topics and appends the
// unknown ids' partitions with UNKNOWN_TOPIC_ID. Listing every offset
// (asked is false), a topic deleted since its offsets were committed has
// no id to name it by, and is left out.
func (b *Broker) withTopicIDs(topics []kmsg.OffsetFetchResponseGroupTopic, unknown []kmsg.OffsetFetchRequestGroupTopic, asked bool) []kmsg.OffsetFetchResponseGroupTopic {
	img := b.Image()
	out := topics[:0]
	for _, t := range topics {
		if tp := img.Topics.ByName(t.Topic); tp != nil {
			t.TopicID = tp.ID
		} else if !asked {
			continue
		}
		out = append(out, t)
	}
	for _, t := range unknown {
		rt := kmsg.NewOffsetFetchResponseGroupTopic()
		rt.TopicID = t.TopicID
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
			rp.Partition, rp.Offset, rp.LeaderEpoch, rp.ErrorCode = p, -1, -1, kerr.UnknownTopicID.Code
			rp.Metadata = kmsg.StringPtr("")
			rt.Partitions = append(rt.Partitions, rp)
		}
		out = append(out, rt)
	}
	return out
}

func topicOrder(ts []kmsg.OffsetFetchRequestTopic) []string {
	var out []string
	for _, t := range ts {
		if !slices.Contains(out, t.Topic) {
			out = append(out, t.Topic)
		}
	}
	return out
}

// fetchOffsets looks up a group's offsets: want's partitions (in order),
// or all of them when want is nil. A coordinator error is also set on
// every requested partition, where v0/v1 clients look for it.
func (b *Broker) fetchOffsets(groupID string, want map[string][]int32, order []string, stable bool) ([]kmsg.OffsetFetchResponseGroupTopic, *kerr.Error) {
	var out []kmsg.OffsetFetchResponseGroupTopic
	fill := func(g *group.Group) {
		if want == nil {
			out = allOffsets(g, stable)
			return
		}
		for _, topic := range order {
			rt := kmsg.NewOffsetFetchResponseGroupTopic()
			rt.Topic = topic
			for _, p := range want[topic] {
				rt.Partitions = append(rt.Partitions, offsetPartition(g, group.TopicPartition{Topic: topic, Partition: p}, stable))
			}
			out = append(out, rt)
		}
	}
	found, err := b.groups.read(groupID, fill)
	if err != nil {
		out = nil
		if want != nil {
			fill(nil)
			for i := range out {
				for j := range out[i].Partitions {
					out[i].Partitions[j].ErrorCode = err.Code
				}
			}
		}
		return out, err
	}
	if !found {
		fill(nil)
	}
	return out, nil
}

// offsetPartition answers one partition from g (nil: no such group). With
// stable, a partition with pending transactional offsets answers
// UNSTABLE_OFFSET_COMMIT, so the consumer retries until the transaction
// ends rather than start from an offset about to change.
func offsetPartition(g *group.Group, tp group.TopicPartition, stable bool) kmsg.OffsetFetchResponseGroupTopicPartition {
	rp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
	rp.Partition, rp.Offset, rp.LeaderEpoch = tp.Partition, -1, -1
	md := ""
	rp.Metadata = &md
	if g == nil {
		return rp
	}
	if stable && g.HasPendingTxn(tp) {
		rp.ErrorCode = kerr.UnstableOffsetCommit.Code
		return rp
	}
	if o, ok := g.Lookup(tp); ok {
		rp.Offset, rp.LeaderEpoch, md = o.Offset, o.LeaderEpoch, o.Metadata
	}
	return rp
}

// allOffsets lists every committed offset of g, by topic then partition.
// Partitions with only pending transactional offsets are not listed, as in
// Kafka.
func allOffsets(g *group.Group, stable bool) []kmsg.OffsetFetchResponseGroupTopic {
	if g == nil {
		return nil
	}
	var tps []group.TopicPartition
	for tp := range g.Offsets() {
		tps = append(tps, tp)
	}
	slices.SortFunc(tps, func(a, b group.TopicPartition) int {
		if c := strings.Compare(a.Topic, b.Topic); c != 0 {
			return c
		}
		return cmp.Compare(a.Partition, b.Partition)
	})
	var out []kmsg.OffsetFetchResponseGroupTopic
	for _, tp := range tps {
		if len(out) == 0 || out[len(out)-1].Topic != tp.Topic {
			rt := kmsg.NewOffsetFetchResponseGroupTopic()
			rt.Topic = tp.Topic
			out = append(out, rt)
		}
		last := &out[len(out)-1]
		last.Partitions = append(last.Partitions, offsetPartition(g, tp, stable))
	}
	return out
}

// checkFetchMember is the v9+ check of a consumer group member reading
// its group's offsets with its member epoch (KIP-848): a stale epoch gets
// STALE_MEMBER_EPOCH. Classic groups are not checked, as in Kafka.
func (b *Broker) checkFetchMember(rg kmsg.OffsetFetchRequestGroup) *kerr.Error {
	if rg.MemberID == nil && rg.MemberEpoch < 0 {
		return nil
	}
	var err *kerr.Error
	_, _ = b.groups.readCell(rg.Group, func(cl *cell) {
		if cl.cg != nil {
			err = cl.cg.ValidateFetch(rg.MemberID, rg.MemberEpoch)
		}
	})
	return err
}
