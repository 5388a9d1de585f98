package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// electResult is one partition's outcome of elect-leaders.
type electResult struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Elected   bool   `json:"elected"`
	Error     string `json:"error,omitempty"`
}

func (r electResult) subject() string { return fmt.Sprintf("%s-%d", r.Topic, r.Partition) }
func (r electResult) failure() string { return r.Error }

func newClusterElectCmd(a *app) *cobra.Command {
	var topic, how string
	var partitions []int32
	var all bool
	var kind kadm.ElectLeadersHow
	cmd := &cobra.Command{
		Use:   "elect-leaders (--topic T [--partition P...] | --all-topics) [--type preferred|unclean]",
		Short: "Move leadership back to preferred replicas, or elect an out-of-sync replica (unclean)",
		Long: `Run leader elections, as kafka-leader-election does. A preferred election
makes each partition's first replica its leader again when it is in sync (after
a broker came back, leadership stays where it moved until then). An unclean
election gives a leaderless partition a leader from outside the ISR, which can
lose acknowledged records: use it only when the in-sync replicas are gone.
Partitions already led by their preferred replica are reported, not failed.`,
		Example: `  spool cluster elect-leaders --all-topics
  spool cluster elect-leaders --topic orders --partition 0 --partition 2
  spool cluster elect-leaders --topic orders --partition 1 --type unclean`,
		Args: cobra.NoArgs,
	}
	a.client(cmd, clientCmd{
		check: func([]string) error {
			switch strings.ToLower(how) {
			case "preferred":
				kind = kadm.ElectPreferredReplica
			case "unclean":
				kind = kadm.ElectLiveReplica
			default:
				return usageErrorf("--type %q: want preferred or unclean", how)
			}
			if (topic != "") == all {
				return usageErrorf("elect-leaders needs --topic T or --all-topics")
			}
			if all && len(partitions) > 0 {
				return usageErrorf("--partition goes with --topic, not --all-topics")
			}
			return nil
		},
		run: func(s *session, _ []string) error {
			set := kadm.TopicsSet{}
			if topic != "" {
				parts, err := partitionsOf(s, topic, partitions)
				if err != nil {
					return err
				}
				set.Add(topic, parts...)
			}
			res, err := s.adm.ElectLeaders(s.ctx, kind, set)
			if err != nil {
				return err
			}
			out := electResults(res)
			return report(s, out, func(r electResult) string {
				if !r.Elected {
					return fmt.Sprintf("Partition %s: already led by its preferred replica.", r.subject())
				}
				return fmt.Sprintf("Partition %s: leader elected.", r.subject())
			})
		},
	})
	cmd.Flags().StringVar(&topic, "topic", "", "the topic whose partitions to elect leaders for")
	cmd.Flags().Int32SliceVar(&partitions, "partition", nil, "partitions of --topic (repeatable or comma-separated; default: all)")
	cmd.Flags().BoolVar(&all, "all-topics", false, "every partition of every topic")
	cmd.Flags().StringVar(&how, "type", "preferred", "election type: preferred or unclean")
	_ = cmd.RegisterFlagCompletionFunc("topic", a.completeTopicFlag)
	return cmd
}

func electResults(res kadm.ElectLeadersResults) []electResult {
	var out []electResult
	for t, ps := range res {
		for p, r := range ps {
			e := electResult{Topic: t, Partition: p, Elected: r.Err == nil}
			if r.Err != nil && r.Err != kerr.ElectionNotNeeded {
				e.Error = kafkaError(r.Err, r.ErrMessage).Error()
			}
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(x, y electResult) int {
		if c := strings.Compare(x.Topic, y.Topic); c != 0 {
			return c
		}
		return int(x.Partition - y.Partition)
	})
	return out
}
