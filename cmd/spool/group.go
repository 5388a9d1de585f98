package main

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

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
	var f clientFlags
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List consumer groups with their state",
		Example: `  spool group list --format json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			s, err := a.connect(cmd, &f)
			if err != nil {
				return err
			}
			defer s.close()
			groups, err := s.adm.ListGroups(s.ctx)
			if err != nil {
				return err
			}
			out := []groupListEntry{}
			for _, g := range groups.Sorted() {
				out = append(out, groupListEntry{Group: g.Group, ProtocolType: g.ProtocolType, State: g.State, Coordinator: g.Coordinator})
			}
			p := a.printer(cmd.OutOrStdout())
			if p.json {
				return p.emitJSON(out)
			}
			var rows [][]string
			for _, g := range out {
				rows = append(rows, []string{g.Group, orDash(g.ProtocolType), orDash(g.State)})
			}
			p.table([]string{"GROUP", "TYPE", "STATE"}, rows)
			return nil
		},
	}
	f.register(cmd)
	return cmd
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
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "describe GROUP...",
		Short: "Show a group's members, their assignments, committed offsets and lag per partition",
		Example: `  spool group describe billing
  spool group describe billing shipping --format json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, groups []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			s, err := a.connect(cmd, &f)
			if err != nil {
				return err
			}
			defer s.close()
			lags, err := s.adm.Lag(s.ctx, groups...)
			if err != nil {
				return err
			}
			var out []groupDetail
			for _, g := range groups {
				l, ok := lags[g]
				if !ok {
					return fmt.Errorf("group %s: no answer from its coordinator", g)
				}
				// Brokers answer DescribeGroups v6+ for an unknown group with
				// GROUP_ID_NOT_FOUND, older ones with the Dead state.
				if err := l.Error(); errors.Is(err, kerr.GroupIDNotFound) {
					return fmt.Errorf("group %s does not exist", g)
				} else if err != nil {
					return fmt.Errorf("group %s: %w", g, kafkaError(err, ""))
				}
				d := groupFromLag(l)
				if d.State == "Dead" && len(d.Members) == 0 && len(d.Offsets) == 0 {
					return fmt.Errorf("group %s does not exist", g)
				}
				out = append(out, d)
			}
			p := a.printer(cmd.OutOrStdout())
			if p.json {
				return p.emitJSON(out)
			}
			for i, d := range out {
				if i > 0 {
					fmt.Fprintln(p.w)
				}
				printGroup(p, d)
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
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

// seekTo is how group seek chooses each partition's new offset.
type seekTo struct {
	earliest, latest bool
	offset           int64
	datetime         string
	shift            int64
	set              map[string]bool // which flags were given
}

type seekRow struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Current   int64  `json:"current"`
	New       int64  `json:"new"`
}

type seekResult struct {
	Group    string    `json:"group"`
	Executed bool      `json:"executed"`
	Offsets  []seekRow `json:"offsets"`
}

func newGroupSeekCmd(a *app) *cobra.Command {
	var f clientFlags
	var to seekTo
	var topics []string
	var allTopics, execute bool
	cmd := &cobra.Command{
		Use:   "seek GROUP (--topic T... | --all-topics) (--to-earliest | --to-latest | --to-offset N | --to-datetime T | --shift-by N) [--execute]",
		Short: "Reset a group's committed offsets (a dry run unless --execute)",
		Long: `Compute new committed offsets for a group and show them; with --execute,
commit them. The group must have no active members to be reset. New offsets are
kept within each partition's log start and end.`,
		Example: `  spool group seek billing --topic orders --to-earliest
  spool group seek billing --topic orders --to-offset 100 --execute
  spool group seek billing --all-topics --shift-by -10 --execute
  spool group seek billing --topic orders --to-datetime 2025-01-31T12:00:00Z`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			group := args[0]
			for _, name := range []string{"to-earliest", "to-latest", "to-offset", "to-datetime", "shift-by"} {
				if cmd.Flags().Changed(name) {
					to.set[name] = true
				}
			}
			if len(to.set) != 1 {
				return usageErrorf("seek needs exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by")
			}
			if (len(topics) > 0) == allTopics {
				return usageErrorf("seek needs --topic T (repeatable) or --all-topics")
			}
			var atMs int64
			if to.set["to-datetime"] {
				t, err := parseDatetime(to.datetime)
				if err != nil {
					return err
				}
				atMs = t.UnixMilli()
			}
			s, err := a.connect(cmd, &f)
			if err != nil {
				return err
			}
			defer s.close()
			if execute {
				if err := checkInactive(s, group); err != nil {
					return err
				}
			}
			committed, err := s.adm.FetchOffsets(s.ctx, group)
			if err != nil {
				return fmt.Errorf("group %s: %w", group, kafkaError(err, ""))
			}
			parts, err := seekPartitions(s, committed, topics)
			if err != nil {
				return err
			}
			names := make([]string, 0, len(parts))
			for t := range parts {
				names = append(names, t)
			}
			starts, err := s.adm.ListStartOffsets(s.ctx, names...)
			if err != nil {
				return err
			}
			ends, err := s.adm.ListEndOffsets(s.ctx, names...)
			if err != nil {
				return err
			}
			var at kadm.ListedOffsets
			if to.set["to-datetime"] {
				if at, err = s.adm.ListOffsetsAfterMilli(s.ctx, atMs, names...); err != nil {
					return err
				}
			}
			res := seekResult{Group: group, Offsets: []seekRow{}}
			commit := kadm.Offsets{}
			for _, t := range slices.Sorted(maps.Keys(parts)) {
				for _, p := range slices.Sorted(slices.Values(parts[t])) {
					start, ok1 := starts.Lookup(t, p)
					end, ok2 := ends.Lookup(t, p)
					if !ok1 || !ok2 || start.Err != nil || end.Err != nil {
						return fmt.Errorf("cannot list offsets of %s-%d", t, p)
					}
					cur := int64(-1)
					if c, ok := committed.Lookup(t, p); ok && c.Err == nil {
						cur = c.At
					}
					var want int64
					switch {
					case to.set["to-earliest"]:
						want = start.Offset
					case to.set["to-latest"]:
						want = end.Offset
					case to.set["to-offset"]:
						want = to.offset
					case to.set["to-datetime"]:
						want = end.Offset
						if o, ok := at.Lookup(t, p); ok && o.Err == nil && o.Offset >= 0 {
							want = o.Offset
						}
					case to.set["shift-by"]:
						want = cur + to.shift
						if cur < 0 {
							want = start.Offset + to.shift
						}
					}
					want = min(max(want, start.Offset), end.Offset)
					res.Offsets = append(res.Offsets, seekRow{Topic: t, Partition: p, Current: cur, New: want})
					commit.Add(kadm.Offset{Topic: t, Partition: p, At: want, LeaderEpoch: -1})
				}
			}
			if execute {
				resps, err := s.adm.CommitOffsets(s.ctx, group, commit)
				if err != nil {
					return fmt.Errorf("group %s: %w", group, kafkaError(err, ""))
				}
				if err := resps.Error(); err != nil {
					return fmt.Errorf("group %s: commit: %w", group, kafkaError(err, ""))
				}
				res.Executed = true
			}
			p := a.printer(cmd.OutOrStdout())
			if p.json {
				return p.emitJSON(res)
			}
			var rows [][]string
			for _, r := range res.Offsets {
				rows = append(rows, []string{r.Topic, fmt.Sprint(r.Partition), offsetText(r.Current), count(r.New)})
			}
			p.table([]string{"TOPIC", "PARTITION", "CURRENT", "NEW"}, rows)
			if execute {
				fmt.Fprintf(p.w, "\nCommitted the new offsets of group %s.\n", group)
			} else {
				fmt.Fprintf(p.w, "\nDry run: nothing changed. Add --execute to commit these offsets.\n")
			}
			return nil
		},
	}
	to.set = map[string]bool{}
	f.register(cmd)
	cmd.Flags().StringArrayVar(&topics, "topic", nil, "topic to reset, every partition (repeatable)")
	cmd.Flags().BoolVar(&allTopics, "all-topics", false, "every topic the group has committed offsets for")
	cmd.Flags().BoolVar(&to.earliest, "to-earliest", false, "the log start offset")
	cmd.Flags().BoolVar(&to.latest, "to-latest", false, "the log end offset")
	cmd.Flags().Int64Var(&to.offset, "to-offset", 0, "this offset")
	cmd.Flags().StringVar(&to.datetime, "to-datetime", "", "the first offset at or after this time (RFC 3339, or YYYY-MM-DD[THH:MM:SS] in UTC)")
	cmd.Flags().Int64Var(&to.shift, "shift-by", 0, "move the committed offset by N (negative moves back)")
	cmd.Flags().BoolVar(&execute, "execute", false, "commit the new offsets (without it, only show them)")
	return cmd
}

func parseDatetime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageErrorf("--to-datetime %q: want RFC 3339 (2025-01-31T12:00:00Z) or YYYY-MM-DD[THH:MM:SS] (UTC)", s)
}

// checkInactive refuses to reset a group whose consumers are running:
// they would overwrite the new offsets with their next commit.
func checkInactive(s *session, group string) error {
	ds, err := s.adm.DescribeGroups(s.ctx, group)
	if err != nil {
		return err
	}
	d, ok := ds[group]
	if !ok {
		return nil
	}
	if d.Err != nil {
		return fmt.Errorf("group %s: %w", group, kafkaError(d.Err, ""))
	}
	if d.State != "Empty" && d.State != "Dead" && d.State != "" {
		return fmt.Errorf("group %s is %s with %s; offsets can be reset only when it is inactive (stop its consumers first)", group, d.State, plural(len(d.Members), "member", "members"))
	}
	return nil
}

// seekPartitions are the partitions to reset: every partition of the named
// topics, or every partition with a commit for --all-topics.
func seekPartitions(s *session, committed kadm.OffsetResponses, topics []string) (map[string][]int32, error) {
	out := map[string][]int32{}
	if len(topics) == 0 {
		committed.Each(func(o kadm.OffsetResponse) {
			if o.Err == nil {
				out[o.Topic] = append(out[o.Topic], o.Partition)
			}
		})
		if len(out) == 0 {
			return nil, fmt.Errorf("the group has no committed offsets; name topics with --topic")
		}
		return out, nil
	}
	details, err := s.adm.ListTopics(s.ctx, topics...)
	if err != nil {
		return nil, err
	}
	for _, t := range topics {
		d, ok := details[t]
		if !ok || d.Err != nil {
			return nil, fmt.Errorf("topic %s does not exist", t)
		}
		for _, p := range d.Partitions.Sorted() {
			out[t] = append(out[t], p.Partition)
		}
	}
	return out, nil
}

type groupDeleteResult struct {
	Group string `json:"group"`
	Error string `json:"error,omitempty"`
}

func newGroupDeleteCmd(a *app) *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:     "delete GROUP...",
		Short:   "Delete inactive groups and their committed offsets",
		Example: `  spool group delete billing old-billing`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, groups []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			s, err := a.connect(cmd, &f)
			if err != nil {
				return err
			}
			defer s.close()
			resps, err := s.adm.DeleteGroups(s.ctx, groups...)
			if err != nil {
				return err
			}
			var out []groupDeleteResult
			failed := 0
			for _, g := range groups {
				r := groupDeleteResult{Group: g}
				if rr, ok := resps[g]; ok && rr.Err != nil {
					msg := rr.ErrMessage
					r.Error = kafkaError(rr.Err, msg).Error()
					failed++
				}
				out = append(out, r)
			}
			slices.SortStableFunc(out, func(x, y groupDeleteResult) int { return cmp.Compare(x.Group, y.Group) })
			p := a.printer(cmd.OutOrStdout())
			if p.json {
				if err := p.emitJSON(out); err != nil {
					return err
				}
				return failures(failed)
			}
			for _, r := range out {
				if r.Error != "" {
					fmt.Fprintf(cmd.ErrOrStderr(), "spool: group %s: %s\n", r.Group, r.Error)
					continue
				}
				fmt.Fprintf(p.w, "Deleted group %s.\n", r.Group)
			}
			return failures(failed)
		},
	}
	f.register(cmd)
	return cmd
}
