package console

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxListedLags bounds the groups whose lag the list computes.
const maxListedLags = 200

type groupSummary struct {
	Group        string `json:"group"`
	State        string `json:"state"`
	ProtocolType string `json:"protocol_type"`
	Coordinator  int32  `json:"coordinator"`
	Members      int    `json:"members"`
	TotalLag     int64  `json:"total_lag"` // -1 when unknown
	Error        string `json:"error,omitempty"`
}

// groups answers GET /v1/groups: every group with its state and total lag
// (ListGroups, DescribeGroups, OffsetFetch and ListOffsets, as kadm's Lag
// computes it).
func (c *Console) groups(ctx context.Context, r *http.Request) (any, error) {
	adm, err := c.admin()
	if err != nil {
		return nil, err
	}
	listed, err := adm.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	out := []groupSummary{}
	var names []string
	for _, name := range listed.Groups() {
		// ListGroups lists only the groups the user may describe.
		if c.may(ctx, r, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeGroup, name) {
			names = append(names, name)
		}
	}
	// Lag costs an OffsetFetch per group and ListOffsets over their
	// topics; the list polls, so it computes the first maxListedLags and
	// leaves the rest to their own pages.
	slices.Sort(names)
	var lags kadm.DescribedGroupLags
	if len(names) > 0 {
		if lags, err = adm.Lag(ctx, names[:min(len(names), maxListedLags)]...); err != nil {
			return nil, err
		}
	}
	for _, name := range names {
		l := listed[name]
		g := groupSummary{Group: name, State: l.State, ProtocolType: l.ProtocolType, Coordinator: l.Coordinator, Members: -1, TotalLag: -1}
		if d, ok := lags[name]; ok && errors.Is(d.DescribeErr, kerr.GroupIDNotFound) {
			// A KIP-848 consumer group: DescribeGroups does not know it.
			if cv, found, err := c.consumerGroup(ctx, adm, name); err != nil {
				g.Error = err.Error()
			} else if found {
				g = cv.groupSummary
			}
		} else if ok {
			g.Members = len(d.Members)
			if d.State != "" {
				g.State = d.State
			}
			if err := d.Error(); err != nil {
				g.Error = err.Error()
			} else {
				g.TotalLag = d.Lag.Total()
			}
		}
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b groupSummary) int { return strings.Compare(a.Group, b.Group) })
	return map[string]any{"groups": out, "lag_omitted": max(len(names)-maxListedLags, 0)}, nil
}

type memberView struct {
	MemberID   string          `json:"member_id"`
	InstanceID *string         `json:"instance_id"`
	ClientID   string          `json:"client_id"`
	ClientHost string          `json:"client_host"`
	Assigned   []topicPartsOut `json:"assigned"`
}

type topicPartsOut struct {
	Topic      string  `json:"topic"`
	Partitions []int32 `json:"partitions"`
}

type offsetView struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Committed int64  `json:"committed"`
	Metadata  string `json:"metadata"`
	LogStart  int64  `json:"log_start_offset"`
	End       int64  `json:"end_offset"`
	Lag       int64  `json:"lag"` // -1 when unknown
	MemberID  string `json:"member_id"`
	Error     string `json:"error,omitempty"`
}

type groupView struct {
	groupSummary
	Protocol string       `json:"protocol"`
	Members  []memberView `json:"member_list"`
	Offsets  []offsetView `json:"offsets"`
	// LagHistory is [unix ms, total lag] at each read of this group's
	// page, oldest first.
	LagHistory [][2]int64 `json:"lag_history"`
}

// group answers GET /v1/groups/{group}: members and their assignments,
// and each committed partition's offset, end offset and lag.
func (c *Console) group(ctx context.Context, r *http.Request) (any, error) {
	v, err := c.describeGroup(ctx, r)
	if err != nil {
		return nil, err
	}
	v.LagHistory = c.lags.record(v.Group, c.now(), v.TotalLag)
	return v, nil
}

func (c *Console) describeGroup(ctx context.Context, r *http.Request) (groupView, error) {
	adm, err := c.admin()
	if err != nil {
		return groupView{}, err
	}
	name := r.PathValue("group")
	if err := c.mustMay(ctx, r, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeGroup, name); err != nil {
		return groupView{}, err
	}
	lags, err := adm.Lag(ctx, name)
	if err != nil {
		return groupView{}, err
	}
	d, ok := lags[name]
	if !ok {
		return groupView{}, notFound("unknown group " + name)
	}
	if errors.Is(d.DescribeErr, kerr.GroupIDNotFound) {
		cv, found, err := c.consumerGroup(ctx, adm, name)
		switch {
		case err != nil:
			return groupView{}, err
		case !found:
			return groupView{}, notFound("unknown group " + name)
		}
		return cv, nil
	}
	if d.DescribeErr != nil {
		return groupView{}, d.DescribeErr
	}
	if d.State == "Dead" {
		return groupView{}, notFound("unknown group " + name)
	}
	v := groupView{groupSummary: groupSummary{Group: name, State: d.State, ProtocolType: d.ProtocolType, Coordinator: d.Coordinator.NodeID, Members: len(d.Members), TotalLag: -1},
		Protocol: d.Protocol, Members: []memberView{}, Offsets: []offsetView{}}
	if d.FetchErr != nil {
		v.Error = d.FetchErr.Error()
	} else {
		v.TotalLag = d.Lag.Total()
	}
	for _, m := range d.Members {
		v.Members = append(v.Members, memberOf(m))
	}
	for _, l := range d.Lag.Sorted() {
		o := offsetView{Topic: l.Topic, Partition: l.Partition, Committed: l.Commit.At, Metadata: l.Commit.Metadata, LogStart: l.Start.Offset, End: l.End.Offset, Lag: l.Lag}
		if l.Member != nil {
			o.MemberID = l.Member.MemberID
		}
		if l.Err != nil {
			o.Error = l.Err.Error()
		}
		v.Offsets = append(v.Offsets, o)
	}
	return v, nil
}

func memberOf(m kadm.DescribedGroupMember) memberView {
	mv := memberView{MemberID: m.MemberID, InstanceID: m.InstanceID, ClientID: m.ClientID, ClientHost: m.ClientHost, Assigned: []topicPartsOut{}}
	if a, ok := m.Assigned.AsConsumer(); ok {
		for _, t := range a.Topics {
			ps := slices.Clone(t.Partitions)
			slices.Sort(ps)
			mv.Assigned = append(mv.Assigned, topicPartsOut{Topic: t.Topic, Partitions: ps})
		}
	}
	slices.SortFunc(mv.Assigned, func(a, b topicPartsOut) int { return strings.Compare(a.Topic, b.Topic) })
	return mv
}
