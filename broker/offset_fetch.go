package broker

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/group"
	"spool/protocol"
)

// handleOffsetFetch answers committed offsets: one group before v8, many
// from v8. An unknown group or partition has offset -1 and no error, as in
// Kafka.
func (b *Broker) handleOffsetFetch(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.OffsetFetchRequest)
	resp := r.ResponseKind().(*kmsg.OffsetFetchResponse)
	if r.Version < 8 {
		var want map[string][]int32
		if r.Topics != nil {
			want = map[string][]int32{}
			for _, t := range r.Topics {
				want[t.Topic] = append(want[t.Topic], t.Partitions...)
			}
		}
		topics, err := b.fetchOffsets(r.Group, want, topicOrder(r.Topics))
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
	for _, rg := range r.Groups {
		var want map[string][]int32
		var order []string
		if rg.Topics != nil {
			want = map[string][]int32{}
			for _, t := range rg.Topics {
				if _, ok := want[t.Topic]; !ok {
					order = append(order, t.Topic)
				}
				want[t.Topic] = append(want[t.Topic], t.Partitions...)
			}
		}
		topics, err := b.fetchOffsets(rg.Group, want, order)
		g := kmsg.NewOffsetFetchResponseGroup()
		g.Group, g.Topics = rg.Group, topics
		if err != nil {
			g.ErrorCode = err.Code
		}
		resp.Groups = append(resp.Groups, g)
	}
	respond(protocol.Msg(resp))
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
func (b *Broker) fetchOffsets(groupID string, want map[string][]int32, order []string) ([]kmsg.OffsetFetchResponseGroupTopic, *kerr.Error) {
	var out []kmsg.OffsetFetchResponseGroupTopic
	part := func(p int32, o group.Offset, ok bool) kmsg.OffsetFetchResponseGroupTopicPartition {
		rp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
		rp.Partition, rp.Offset, rp.LeaderEpoch = p, -1, -1
		md := ""
		if ok {
			rp.Offset, rp.LeaderEpoch, md = o.Offset, o.LeaderEpoch, o.Metadata
		}
		rp.Metadata = &md
		return rp
	}
	fill := func(g *group.Group) {
		lookup := func(tp group.TopicPartition) (group.Offset, bool) {
			if g == nil {
				return group.Offset{}, false
			}
			return g.Lookup(tp)
		}
		if want == nil {
			out = allOffsets(g, part)
			return
		}
		for _, topic := range order {
			rt := kmsg.NewOffsetFetchResponseGroupTopic()
			rt.Topic = topic
			for _, p := range want[topic] {
				o, ok := lookup(group.TopicPartition{Topic: topic, Partition: p})
				rt.Partitions = append(rt.Partitions, part(p, o, ok))
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

// allOffsets lists every committed offset of g, by topic then partition.
func allOffsets(g *group.Group, part func(int32, group.Offset, bool) kmsg.OffsetFetchResponseGroupTopicPartition) []kmsg.OffsetFetchResponseGroupTopic {
	if g == nil {
		return nil
	}
	var tps []group.TopicPartition
	for tp := range g.Offsets() {
		tps = append(tps, tp)
	}
	slices.SortFunc(tps, func(a, b group.TopicPartition) int {
		if a.Topic != b.Topic {
			if a.Topic < b.Topic {
				return -1
			}
			return 1
		}
		return int(a.Partition - b.Partition)
	})
	var out []kmsg.OffsetFetchResponseGroupTopic
	for _, tp := range tps {
		if len(out) == 0 || out[len(out)-1].Topic != tp.Topic {
			rt := kmsg.NewOffsetFetchResponseGroupTopic()
			rt.Topic = tp.Topic
			out = append(out, rt)
		}
		o, _ := g.Lookup(tp)
		last := &out[len(out)-1]
		last.Partitions = append(last.Partitions, part(tp.Partition, o, true))
	}
	return out
}
