package main

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// seekModes are the mutually exclusive ways to choose new offsets.
var seekModes = []string{"to-earliest", "to-latest", "to-offset", "to-datetime", "shift-by"}

// seekSpec is what group seek was asked to do.
type seekSpec struct {
	mode      string // one of seekModes
	offset    int64
	datetime  string
	atMs      int64
	shift     int64
	topics    []string
	allTopics bool
	execute   bool
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
	var sp seekSpec
	var earliest, latest bool
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
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeGroups,
	}
	a.client(cmd, clientCmd{
		check: func([]string) error { return sp.check(cmd) },
		run: func(s *session, args []string) error {
			res, err := sp.run(s, args[0])
			if err != nil {
				return err
			}
			return show(s, res, func(p *printer) { printSeek(p, res) })
		},
	})
	f := cmd.Flags()
	f.StringArrayVar(&sp.topics, "topic", nil, "topic to reset, every partition (repeatable)")
	f.BoolVar(&sp.allTopics, "all-topics", false, "every topic the group has committed offsets for")
	f.BoolVar(&earliest, "to-earliest", false, "the log start offset")
	f.BoolVar(&latest, "to-latest", false, "the log end offset")
	f.Int64Var(&sp.offset, "to-offset", 0, "this offset")
	f.StringVar(&sp.datetime, "to-datetime", "", "the first offset at or after this time (RFC 3339, or YYYY-MM-DD[THH:MM:SS] in UTC)")
	f.Int64Var(&sp.shift, "shift-by", 0, "move the committed offset by N (negative moves back)")
	f.BoolVar(&sp.execute, "execute", false, "commit the new offsets (without it, only show them)")
	_ = cmd.RegisterFlagCompletionFunc("topic", a.completeTopicFlag)
	return cmd
}

// check validates the flags before anything is asked of the cluster.
func (sp *seekSpec) check(cmd *cobra.Command) error {
	var set []string
	for _, name := range seekModes {
		if cmd.Flags().Changed(name) {
			set = append(set, name)
		}
	}
	if len(set) != 1 {
		return usageErrorf("seek needs exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by")
	}
	sp.mode = set[0]
	if (len(sp.topics) > 0) == sp.allTopics {
		return usageErrorf("seek needs --topic T (repeatable) or --all-topics")
	}
	if sp.mode == "to-datetime" {
		t, err := parseDatetime(sp.datetime)
		if err != nil {
			return err
		}
		sp.atMs = t.UnixMilli()
	}
	return nil
}

// run computes the new offsets and, with --execute, commits them. On a
// terminal a progress bar follows the steps.
func (sp *seekSpec) run(s *session, group string) (seekResult, error) {
	bar := newProgress(5, "seek: checking the group")
	defer bar.done()
	if sp.execute {
		if err := checkInactive(s, group); err != nil {
			return seekResult{}, err
		}
	}
	bar.step("seek: reading committed offsets")
	committed, err := fetchCommitted(s, group)
	if err != nil {
		return seekResult{}, err
	}
	parts, err := seekPartitions(s, committed, sp.topics)
	if err != nil {
		return seekResult{}, err
	}
	bar.step("seek: listing offsets")
	b, err := sp.bounds(s, slices.Sorted(maps.Keys(parts)))
	if err != nil {
		return seekResult{}, err
	}
	res := seekResult{Group: group, Offsets: []seekRow{}}
	commit := kadm.Offsets{}
	for _, t := range slices.Sorted(maps.Keys(parts)) {
		for _, p := range slices.Sorted(slices.Values(parts[t])) {
			cur := int64(-1)
			if c, ok := committed.Lookup(t, p); ok && c.Err == nil {
				cur = c.At
			}
			want, err := sp.newOffset(b, t, p, cur)
			if err != nil {
				return seekResult{}, err
			}
			res.Offsets = append(res.Offsets, seekRow{Topic: t, Partition: p, Current: cur, New: want})
			commit.Add(kadm.Offset{Topic: t, Partition: p, At: want, LeaderEpoch: -1})
		}
	}
	bar.step("seek: committing")
	if sp.execute {
		resps, err := s.adm.CommitOffsets(s.ctx, group, commit)
		if err != nil {
			return seekResult{}, fmt.Errorf("group %s: %w", group, kafkaError(err, ""))
		}
		if err := resps.Error(); err != nil {
			return seekResult{}, fmt.Errorf("group %s: commit: %w", group, kafkaError(err, ""))
		}
		res.Executed = true
	}
	bar.step("seek: done")
	return res, nil
}

// seekBounds are the offsets a new position is chosen from and kept in.
type seekBounds struct {
	starts, ends, at kadm.ListedOffsets
}

func (sp *seekSpec) bounds(s *session, topics []string) (seekBounds, error) {
	var b seekBounds
	var err error
	if b.starts, err = s.adm.ListStartOffsets(s.ctx, topics...); err != nil {
		return b, err
	}
	if b.ends, err = s.adm.ListEndOffsets(s.ctx, topics...); err != nil {
		return b, err
	}
	if sp.mode == "to-datetime" {
		b.at, err = s.adm.ListOffsetsAfterMilli(s.ctx, sp.atMs, topics...)
	}
	return b, err
}

// newOffset is one partition's new position, within its log start and end.
func (sp *seekSpec) newOffset(b seekBounds, t string, p int32, cur int64) (int64, error) {
	start, ok1 := b.starts.Lookup(t, p)
	end, ok2 := b.ends.Lookup(t, p)
	if !ok1 || !ok2 || start.Err != nil || end.Err != nil {
		return 0, fmt.Errorf("cannot list offsets of %s-%d", t, p)
	}
	var want int64
	switch sp.mode {
	case "to-earliest":
		want = start.Offset
	case "to-latest":
		want = end.Offset
	case "to-offset":
		want = sp.offset
	case "to-datetime":
		want = end.Offset
		if o, ok := b.at.Lookup(t, p); ok && o.Err == nil && o.Offset >= 0 {
			want = o.Offset
		}
	case "shift-by":
		want = cur + sp.shift
		if cur < 0 {
			want = start.Offset + sp.shift
		}
	}
	return min(max(want, start.Offset), end.Offset), nil
}

func printSeek(p *printer, res seekResult) {
	var rows [][]string
	for _, r := range res.Offsets {
		rows = append(rows, []string{r.Topic, fmt.Sprint(r.Partition), offsetText(r.Current), count(r.New)})
	}
	p.table([]string{"TOPIC", "PARTITION", "CURRENT", "NEW"}, rows)
	if res.Executed {
		fmt.Fprintf(p.w, "\nCommitted the new offsets of group %s.\n", res.Group)
	} else {
		fmt.Fprintf(p.w, "\nDry run: nothing changed. Add --execute to commit these offsets.\n")
	}
}

func parseDatetime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageErrorf("--to-datetime %q: want RFC 3339 (2025-01-31T12:00:00Z) or YYYY-MM-DD[THH:MM:SS] (UTC)", s)
}

// fetchCommitted reads a group's committed offsets, waiting out the
// coordinator's retriable errors (on a new cluster the offsets topic is
// created by the first group request and has no leader for a moment).
func fetchCommitted(s *session, group string) (kadm.OffsetResponses, error) {
	for {
		committed, err := s.adm.FetchOffsets(s.ctx, group)
		if err == nil || !kerr.IsRetriable(err) || s.ctx.Err() != nil {
			if err != nil {
				return nil, fmt.Errorf("group %s: %w", group, kafkaError(err, ""))
			}
			return committed, nil
		}
		select {
		case <-s.ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
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
	details, err := describeTopics(s, topics...)
	if err != nil {
		return nil, err
	}
	for _, t := range topics {
		for _, p := range details[t].Partitions.Sorted() {
			out[t] = append(out[t], p.Partition)
		}
	}
	return out, nil
}
