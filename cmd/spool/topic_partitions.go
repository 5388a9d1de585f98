package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newTopicAddPartitionsCmd(a *app) *cobra.Command {
	var total int
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "add-partitions TOPIC... --total N",
		Short: "Grow topics to N partitions (partitions can never be removed)",
		Long: `Grow topics to a total of N partitions. Keys hash to new partitions from then
on, so records with the same key may land in a different partition than before.`,
		Example: `  spool topic add-partitions orders --total 6
  spool topic add-partitions orders --total 12 --dry-run`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: a.completeTopics,
	}
	a.client(cmd, clientCmd{
		check: func([]string) error {
			if total <= 0 {
				return usageErrorf("add-partitions needs --total N (the new partition count, N > 0)")
			}
			return nil
		},
		run: func(s *session, topics []string) error {
			update := s.adm.UpdatePartitions
			if dryRun {
				update = s.adm.ValidateUpdatePartitions
			}
			resps, err := update(s.ctx, total, topics...)
			if err != nil {
				return err
			}
			var out []topicResult
			for _, t := range topics {
				res := topicResult{Topic: t, Partitions: int32(total)}
				if r := resps[t]; r.Err != nil {
					res = topicResult{Topic: t, Error: kafkaError(r.Err, r.ErrMessage).Error()}
				}
				out = append(out, res)
			}
			verb := "Topic %s now has %s."
			if dryRun {
				verb = "Topic %s would have %s."
			}
			return report(s, out, func(r topicResult) string {
				return fmt.Sprintf(verb, r.Topic, plural(total, "partition", "partitions"))
			})
		},
	})
	cmd.Flags().IntVar(&total, "total", 0, "the partition count to grow to")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate only; change nothing")
	return cmd
}
