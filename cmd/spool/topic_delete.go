package main

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

func newTopicDeleteCmd(a *app) *cobra.Command {
	var ifExists bool
	cmd := &cobra.Command{
		Use:   "delete TOPIC...",
		Short: "Delete topics and their data",
		Example: `  spool topic delete orders
  spool topic delete old-1 old-2 --if-exists`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: a.completeTopics,
	}
	a.client(cmd, clientCmd{run: func(s *session, topics []string) error {
		resps, err := s.adm.DeleteTopics(s.ctx, topics...)
		if err != nil {
			return err
		}
		var out []topicResult
		for _, t := range topics {
			r := resps[t]
			res := topicResult{Topic: t}
			switch {
			case r.Err == nil:
				res.ID = topicID(r.ID)
			case ifExists && r.Err == kerr.UnknownTopicOrPartition:
			default:
				res.Error = kafkaError(r.Err, r.ErrMessage).Error()
			}
			out = append(out, res)
		}
		return report(s, out, func(r topicResult) string {
			if r.ID == "" {
				return fmt.Sprintf("Topic %s does not exist.", r.Topic)
			}
			return fmt.Sprintf("Deleted topic %s.", r.Topic)
		})
	}})
	cmd.Flags().BoolVar(&ifExists, "if-exists", false, "succeed when the topic does not exist")
	return cmd
}

// trimResult is one partition's outcome of delete-records.
type trimResult struct {
	Topic          string `json:"topic"`
	Partition      int32  `json:"partition"`
	LogStartOffset int64  `json:"log_start_offset"`
	Error          string `json:"error,omitempty"`
}

func (r trimResult) subject() string { return fmt.Sprintf("%s-%d", r.Topic, r.Partition) }
func (r trimResult) failure() string { return r.Error }

func newTopicDeleteRecordsCmd(a *app) *cobra.Command {
	var partitions []int32
	var before string
	var at int64
	cmd := &cobra.Command{
		Use:   "delete-records TOPIC --before OFFSET|end [--partition P...]",
		Short: "Delete a topic's oldest records by raising its partitions' log start offset",
		Long: `Delete every record below an offset, as kafka-delete-records does: the
partitions' log start offset moves up to --before (or to the high watermark
with --before end) and the records below it are gone for every consumer.
Without --partition, every partition of the topic is trimmed. Topics whose
cleanup.policy is only compact refuse (POLICY_VIOLATION), as in Kafka.`,
		Example: `  spool topic delete-records orders --partition 0 --before 1000
  spool topic delete-records orders --before end`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeTopics,
	}
	a.client(cmd, clientCmd{
		check: func([]string) error {
			if before == "end" {
				at = -1 // Kafka's "up to the high watermark"
				return nil
			}
			n, err := strconv.ParseInt(before, 10, 64)
			if err != nil || n < 0 {
				return usageErrorf("delete-records needs --before OFFSET (a non-negative offset) or --before end")
			}
			at = n
			return nil
		},
		run: func(s *session, args []string) error {
			topic := args[0]
			parts, err := partitionsOf(s, topic, partitions)
			if err != nil {
				return err
			}
			offsets := kadm.Offsets{}
			for _, p := range parts {
				offsets.Add(kadm.Offset{Topic: topic, Partition: p, At: at, LeaderEpoch: -1})
			}
			resps, err := s.adm.DeleteRecords(s.ctx, offsets)
			if err != nil {
				return err
			}
			var out []trimResult
			for _, p := range parts {
				r := trimResult{Topic: topic, Partition: p, LogStartOffset: -1}
				if rr, ok := resps.Lookup(topic, p); !ok {
					r.Error = "no answer for this partition"
				} else if rr.Err != nil {
					r.Error = kafkaError(rr.Err, "").Error()
				} else {
					r.LogStartOffset = rr.LowWatermark
				}
				out = append(out, r)
			}
			return report(s, out, func(r trimResult) string {
				return fmt.Sprintf("Partition %s now starts at offset %s.", r.subject(), count(r.LogStartOffset))
			})
		},
	})
	cmd.Flags().Int32SliceVar(&partitions, "partition", nil, "partitions to trim (repeatable or comma-separated; default: all)")
	cmd.Flags().StringVar(&before, "before", "", "delete records below this offset, or `end` for all of them")
	return cmd
}

// partitionsOf checks that topic exists and has the wanted partitions (all
// of them when want is empty), naming what does exist when it does not.
func partitionsOf(s *session, topic string, want []int32) ([]int32, error) {
	details, err := describeTopics(s, topic)
	if err != nil {
		return nil, err
	}
	have := make([]int32, 0, len(details[topic].Partitions))
	for p := range details[topic].Partitions {
		have = append(have, p)
	}
	slices.Sort(have)
	if len(want) == 0 {
		return have, nil
	}
	for _, p := range want {
		if !slices.Contains(have, p) {
			return nil, fmt.Errorf("topic %s has no partition %d: it has %s (0-%d)", topic, p, plural(len(have), "partition", "partitions"), len(have)-1)
		}
	}
	return want, nil
}
