package main

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

func newGroupCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "List, describe, reset and delete consumer groups",
		Example: `  spool group list
  spool group describe billing
  spool group seek billing --topic orders --to-earliest            # dry run
  spool group seek billing --all-topics --to-datetime 2025-01-31T12:00:00Z --execute
  spool group delete billing`,
	}
	cmd.AddCommand(newGroupListCmd(a), newGroupDescribeCmd(a), newGroupSeekCmd(a), newGroupDeleteCmd(a))
	return cmd
}

type groupListEntry struct {
	Group        string `json:"group"`
	ProtocolType string `json:"protocol_type"`
	State        string `json:"state"`
	Coordinator  int32  `json:"coordinator"`
}

func newGroupListCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List consumer groups with their state",
		Example: `  spool group list --format json`,
		Args:    cobra.NoArgs,
	}
	return a.client(cmd, clientCmd{run: func(s *session, _ []string) error {
		groups, err := s.adm.ListGroups(s.ctx)
		if err != nil {
			return err
		}
		out := []groupListEntry{}
		for _, g := range groups.Sorted() {
			out = append(out, groupListEntry{Group: g.Group, ProtocolType: g.ProtocolType, State: g.State, Coordinator: g.Coordinator})
		}
		return show(s, out, func(p *printer) {
			var rows [][]string
			for _, g := range out {
				rows = append(rows, []string{g.Group, orDash(g.ProtocolType), orDash(g.State)})
			}
			p.table([]string{"GROUP", "TYPE", "STATE"}, rows)
		})
	}})
}

type groupMember struct {
	MemberID   string             `json:"member_id"`
	InstanceID string             `json:"instance_id,omitempty"`
	ClientID   string             `json:"client_id"`
	Host       string             `json:"host"`
	Assignment map[string][]int32 `json:"assignment"`
}

type groupOffset struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Committed int64  `json:"committed"`
	End       int64  `json:"end"`
	Lag       int64  `json:"lag"`
	MemberID  string `json:"member_id,omitempty"`
	Error     string `json:"error,omitempty"`
}

type groupDetail struct {
	Group        string        `json:"group"`
	State        string        `json:"state"`
	ProtocolType string        `json:"protocol_type"`
	Protocol     string        `json:"protocol"`
	Coordinator  int32         `json:"coordinator"`
	Members      []groupMember `json:"members"`
	Offsets      []groupOffset `json:"offsets"`
	TotalLag     int64         `json:"total_lag"`
}

func newGroupDescribeCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "describe GROUP...",
		Short: "Show a group's members, their assignments, committed offsets and lag per partition",
		Long: `Show a group's members, their assignments, committed offsets and lag per
partition. Long member ids are shortened in the middle to fit the screen;
--format json prints them whole. For a share group (KIP-932) COMMITTED is
the share-partition start offset and LAG the records below the log end
not yet acknowledged or archived.`,
		Example: `  spool group describe billing
  spool group describe billing shipping --format json`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: a.completeGroups,
	}
	return a.client(cmd, clientCmd{run: func(s *session, groups []string) error {
		shares, err := shareGroupDetails(s, groups)
		if err != nil {
			return err
		}
		var lags kadm.DescribedGroupLags
		if rest := slices.DeleteFunc(slices.Clone(groups), func(g string) bool { _, ok := shares[g]; return ok }); len(rest) > 0 {
			// With no groups, Lag would describe every group.
			if lags, err = s.adm.Lag(s.ctx, rest...); err != nil {
				return err
			}
		}
		var out []groupDetail
		for _, g := range groups {
			if d, ok := shares[g]; ok {
				out = append(out, d)
				continue
			}
			l, ok := lags[g]
			if !ok {
				return fmt.Errorf("group %s: no answer from its coordinator", g)
			}
			// Brokers answer DescribeGroups v6+ for an unknown group with
			// GROUP_ID_NOT_FOUND, older ones with the Dead state.
			if err := l.Error(); errors.Is(err, kerr.GroupIDNotFound) {
				return fmt.Errorf("group %s does not exist (see `spool group list`)", g)
			} else if err != nil {
				return fmt.Errorf("group %s: %w", g, kafkaError(err, ""))
			}
			d := groupFromLag(l)
			if d.State == "Dead" && len(d.Members) == 0 && len(d.Offsets) == 0 {
				return fmt.Errorf("group %s does not exist (see `spool group list`)", g)
			}
			out = append(out, d)
		}
		return show(s, out, func(p *printer) {
			for i, d := range out {
				if i > 0 {
					fmt.Fprintln(p.w)
				}
				printGroup(p, d)
			}
		})
	}})
}

func groupFromLag(l kadm.DescribedGroupLag) groupDetail {
	d := groupDetail{Group: l.Group, State: l.State, ProtocolType: l.ProtocolType, Protocol: l.Protocol, Coordinator: l.Coordinator.NodeID,
		Members: []groupMember{}, Offsets: []groupOffset{}, TotalLag: l.Lag.Total()}
	for _, m := range l.Members {
		gm := groupMember{MemberID: m.MemberID, ClientID: m.ClientID, Host: m.ClientHost, Assignment: map[string][]int32{}}
		if m.InstanceID != nil {
			gm.InstanceID = *m.InstanceID
		}
		if c, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range c.Topics {
				gm.Assignment[t.Topic] = slices.Sorted(slices.Values(t.Partitions))
			}
		}
		d.Members = append(d.Members, gm)
	}
	for _, ml := range l.Lag.Sorted() {
		o := groupOffset{Topic: ml.Topic, Partition: ml.Partition, Committed: ml.Commit.At, End: ml.End.Offset, Lag: ml.Lag}
		if ml.Member != nil {
			o.MemberID = ml.Member.MemberID
		}
		if ml.Err != nil {
			o.Error = kafkaError(ml.Err, "").Error()
		}
		d.Offsets = append(d.Offsets, o)
	}
	return d
}

func printGroup(p *printer, d groupDetail) {
	proto := d.ProtocolType
	if d.Protocol != "" {
		proto += "/" + d.Protocol
	}
	p.pairs("Group", d.Group, "State", d.State, "Protocol", orDash(proto), "Coordinator", fmt.Sprint(d.Coordinator),
		"Members", fmt.Sprint(len(d.Members)), "Total lag", count(d.TotalLag))
	if len(d.Members) > 0 {
		fmt.Fprintln(p.w)
		var rows [][]string
		for _, m := range d.Members {
			rows = append(rows, []string{m.MemberID, orDash(m.ClientID), orDash(m.Host), assignmentText(m.Assignment)})
		}
		p.table([]string{"MEMBER-ID", "CLIENT-ID", "HOST", "ASSIGNMENT"}, rows)
	}
	if len(d.Offsets) > 0 {
		fmt.Fprintln(p.w)
		var rows [][]string
		for _, o := range d.Offsets {
			lag := count(o.Lag)
			if o.Lag < 0 {
				lag = "-"
			}
			rows = append(rows, []string{o.Topic, fmt.Sprint(o.Partition), offsetText(o.Committed), offsetText(o.End), lag, orDash(o.MemberID)})
		}
		p.table([]string{"TOPIC", "PARTITION", "COMMITTED", "LOG-END", "LAG", "MEMBER-ID"}, rows)
	}
}

func assignmentText(a map[string][]int32) string {
	topics := make([]string, 0, len(a))
	for t := range a {
		topics = append(topics, t)
	}
	slices.Sort(topics)
	s := ""
	for i, t := range topics {
		if i > 0 {
			s += " "
		}
		s += t + ":" + ints(a[t])
	}
	return orDash(s)
}

type groupDeleteResult struct {
	Group string `json:"group"`
	Error string `json:"error,omitempty"`
}

func (r groupDeleteResult) subject() string { return "group " + r.Group }
func (r groupDeleteResult) failure() string { return r.Error }

func newGroupDeleteCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:               "delete GROUP...",
		Short:             "Delete inactive groups and their committed offsets",
		Example:           `  spool group delete billing old-billing`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: a.completeGroups,
	}
	return a.client(cmd, clientCmd{run: func(s *session, groups []string) error {
		resps, err := s.adm.DeleteGroups(s.ctx, groups...)
		if err != nil {
			return err
		}
		var out []groupDeleteResult
		for _, g := range groups {
			r := groupDeleteResult{Group: g}
			if rr, ok := resps[g]; ok && rr.Err != nil {
				r.Error = kafkaError(rr.Err, rr.ErrMessage).Error()
			}
			out = append(out, r)
		}
		slices.SortStableFunc(out, func(x, y groupDeleteResult) int { return cmp.Compare(x.Group, y.Group) })
		return report(s, out, func(r groupDeleteResult) string { return fmt.Sprintf("Deleted group %s.", r.Group) })
	}})
}
