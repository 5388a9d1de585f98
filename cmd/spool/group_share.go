package main

import (
	"cmp"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// shareGroupDetails describes those of groups that are share groups
// (KIP-932): members and their assignments from ShareGroupDescribe, and
// per partition the share-partition start offset (shown as COMMITTED),
// the log end and the share group's lag from DescribeShareGroupOffsets.
// Other groups are left for the classic describe.
func shareGroupDetails(s *session, groups []string) (map[string]groupDetail, error) {
	out := map[string]groupDetail{}
	described, err := s.adm.DescribeShareGroups(s.ctx, groups...)
	if err != nil {
		// A broker without share groups (or an older one): describe them
		// as classic groups, whose describe reports any real trouble.
		return out, nil
	}
	var share []string
	for _, g := range groups {
		dg, ok := described[g]
		if !ok || errors.Is(dg.Err, kerr.GroupIDNotFound) || errors.Is(dg.Err, kerr.UnsupportedVersion) {
			continue
		}
		if dg.Err != nil {
			return nil, kafkaError(dg.Err, "")
		}
		d := groupDetail{Group: g, State: dg.GroupState, ProtocolType: "share", Protocol: dg.Assignor,
			Coordinator: dg.Coordinator.NodeID, Members: []groupMember{}, Offsets: []groupOffset{}}
		for _, m := range dg.Members {
			gm := groupMember{MemberID: m.MemberID, ClientID: m.ClientID, Host: m.ClientHost, Assignment: map[string][]int32{}}
			for t, ps := range m.Assignment {
				gm.Assignment[t] = slices.Sorted(maps.Keys(ps))
			}
			d.Members = append(d.Members, gm)
		}
		out[g], share = d, append(share, g)
	}
	if len(share) == 0 {
		return out, nil
	}
	offsets, err := s.adm.DescribeShareGroupOffsets(s.ctx, share...)
	if err != nil {
		return nil, err
	}
	var topics []string
	for _, o := range offsets {
		for t := range o.Offsets {
			topics = append(topics, t)
		}
	}
	ends, err := s.adm.ListEndOffsets(s.ctx, topics...)
	if err != nil {
		return nil, err
	}
	for _, g := range share {
		d, og := out[g], offsets[g]
		if og.Err != nil {
			return nil, kafkaError(og.Err, "")
		}
		og.Offsets.Each(func(o kadm.ShareOffset) {
			row := groupOffset{Topic: o.Topic, Partition: o.Partition, Committed: o.StartOffset, End: -1, Lag: o.Lag}
			if e, ok := ends.Lookup(o.Topic, o.Partition); ok && e.Err == nil {
				row.End = e.Offset
			}
			if o.Err != nil {
				row.Error = kafkaError(o.Err, "").Error()
			}
			d.TotalLag += max(o.Lag, 0)
			d.Offsets = append(d.Offsets, row)
		})
		slices.SortFunc(d.Offsets, func(a, b groupOffset) int {
			return cmp.Or(strings.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
		})
		out[g] = d
	}
	return out, nil
}
