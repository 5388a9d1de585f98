package console

import (
	"cmp"
	"context"
	"errors"
	"slices"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// consumerGroup describes a KIP-848 consumer group, which DescribeGroups
// answers GROUP_ID_NOT_FOUND for: ConsumerGroupDescribe gives its members
// and assignments, OffsetFetch and ListOffsets its lag, counted as kadm
// counts a classic group's (end minus commit; an assigned partition with
// no commit lags from its log start). ok is false for an unknown group.
func (c *Console) consumerGroup(ctx context.Context, adm *kadm.Client, name string) (v groupView, ok bool, err error) {
	ds, err := adm.DescribeConsumerGroups(ctx, name)
	if err != nil {
		return v, false, err
	}
	d, found := ds[name]
	if !found || errors.Is(d.Err, kerr.GroupIDNotFound) || d.State == "Dead" {
		return v, false, nil
	}
	if d.Err != nil {
		return v, false, d.Err
	}
	v = groupView{groupSummary: groupSummary{Group: name, State: d.State, ProtocolType: "consumer", Coordinator: d.Coordinator.NodeID, Members: len(d.Members)},
		Protocol: d.AssignorName, Members: []memberView{}, Offsets: []offsetView{}}
	owner := map[string]map[int32]string{}
	for _, m := range d.Members {
		mv := memberView{MemberID: m.MemberID, InstanceID: m.InstanceID, ClientID: m.ClientID, ClientHost: m.ClientHost, Assigned: []topicPartsOut{}}
		for _, tp := range m.Assignment.Sorted() {
			mv.Assigned = append(mv.Assigned, topicPartsOut{Topic: tp.Topic, Partitions: tp.Partitions})
			for _, p := range tp.Partitions {
				if owner[tp.Topic] == nil {
					owner[tp.Topic] = map[int32]string{}
				}
				owner[tp.Topic][p] = m.MemberID
			}
		}
		v.Members = append(v.Members, mv)
	}
	v.Offsets, v.TotalLag, err = c.consumerLag(ctx, adm, name, owner)
	if err != nil {
		v.TotalLag, v.Error = -1, err.Error()
	}
	return v, true, nil
}

// consumerLag lists every committed or assigned partition's offsets and
// lag, and their total.
func (c *Console) consumerLag(ctx context.Context, adm *kadm.Client, group string, owner map[string]map[int32]string) ([]offsetView, int64, error) {
	fetched, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return []offsetView{}, -1, err
	}
	parts := map[string]map[int32]bool{}
	add := func(t string, p int32) {
		if parts[t] == nil {
			parts[t] = map[int32]bool{}
		}
		parts[t][p] = true
	}
	fetched.Each(func(o kadm.OffsetResponse) { add(o.Topic, o.Partition) })
	for t, ps := range owner {
		for p := range ps {
			add(t, p)
		}
	}
	out := []offsetView{}
	if len(parts) == 0 {
		return out, 0, nil
	}
	topics := make([]string, 0, len(parts))
	for t := range parts {
		topics = append(topics, t)
	}
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return out, -1, err
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return out, -1, err
	}
	var total int64
	for t, ps := range parts {
		for p := range ps {
			o := offsetView{Topic: t, Partition: p, Committed: -1, MemberID: owner[t][p]}
			if f, ok := fetched.Lookup(t, p); ok && f.Err == nil {
				o.Committed, o.Metadata = f.At, f.Metadata
			}
			s, _ := starts.Lookup(t, p)
			e, _ := ends.Lookup(t, p)
			o.LogStart, o.End = s.Offset, e.Offset
			switch {
			case s.Err != nil || e.Err != nil:
				o.Lag, o.Error = -1, firstErr(s.Err, e.Err).Error()
			case o.Committed >= 0:
				o.Lag = max(e.Offset-o.Committed, 0)
			default:
				o.Lag = max(e.Offset-s.Offset, 0)
			}
			if o.Lag > 0 {
				total += o.Lag
			}
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b offsetView) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return out, total, nil
}
