package main

import (
	"encoding/base64"
	"fmt"
	"regexp"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"spool/config"
)

func newTopicCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "topic",
		Short: "Create, list, describe, grow, trim and delete topics, and list their producers",
		Example: `  spool topic create orders --partitions 3 --replication-factor 1 --config cleanup.policy=compact
  spool topic list
  spool topic describe orders
  spool topic describe --under-replicated
  spool topic add-partitions orders --total 6
  spool topic delete-records orders --partition 0 --before 1000
  spool topic producers orders
  spool topic delete orders`,
	}
	cmd.AddCommand(newTopicCreateCmd(a), newTopicListCmd(a), newTopicDescribeCmd(a), newTopicDeleteCmd(a),
		newTopicAddPartitionsCmd(a), newTopicDeleteRecordsCmd(a), newTopicProducersCmd(a), newTopicReassignCmd(a))
	return cmd
}

// topicResult is one topic's outcome of create, delete or add-partitions.
type topicResult struct {
	Topic             string `json:"topic"`
	ID                string `json:"id,omitempty"`
	Partitions        int32  `json:"partitions,omitempty"`
	ReplicationFactor int16  `json:"replication_factor,omitempty"`
	Existed           bool   `json:"existed,omitempty"`
	Error             string `json:"error,omitempty"`
}

func (r topicResult) subject() string { return "topic " + r.Topic }
func (r topicResult) failure() string { return r.Error }

func newTopicCreateCmd(a *app) *cobra.Command {
	var partitions int32
	var rf int16
	var configs []string
	var ifNotExists, dryRun bool
	cfgs := map[string]*string{}
	cmd := &cobra.Command{
		Use:   "create TOPIC...",
		Short: "Create topics",
		Long: `Create topics. Partitions and replication factor default to the cluster's
num.partitions and default.replication.factor. --config sets topic configs
(k=v, repeatable); see ` + "`spool config describe --topic T --all`" + ` for the keys.`,
		Example: `  spool topic create orders --partitions 3 --replication-factor 1
  spool topic create events --config cleanup.policy=compact --config retention.ms=86400000
  spool topic create a b c --dry-run`,
		Args: cobra.MinimumNArgs(1),
	}
	a.client(cmd, clientCmd{
		check: func([]string) error {
			for _, kv := range configs {
				k, v, err := config.ParseOverride(kv)
				if err != nil {
					return usageErrorf("--config %q: want key=value", kv)
				}
				cfgs[k] = &v
			}
			return nil
		},
		run: func(s *session, topics []string) error {
			create := s.adm.CreateTopics
			if dryRun {
				create = s.adm.ValidateCreateTopics
			}
			resps, err := create(s.ctx, partitions, rf, cfgs, topics...)
			if err != nil {
				return err
			}
			var out []topicResult
			for _, t := range topics {
				r := resps[t]
				res := topicResult{Topic: t, Partitions: r.NumPartitions, ReplicationFactor: r.ReplicationFactor}
				switch {
				case r.Err == nil && !dryRun:
					res.ID = topicID(r.ID)
				case r.Err == nil:
				case ifNotExists && r.Err == kerr.TopicAlreadyExists:
					res = topicResult{Topic: t, Existed: true}
				default:
					res = topicResult{Topic: t, Error: kafkaError(r.Err, r.ErrMessage).Error()}
				}
				out = append(out, res)
			}
			verb := "Created"
			if dryRun {
				verb = "Would create"
			}
			return report(s, out, func(r topicResult) string {
				if r.Existed {
					return fmt.Sprintf("Topic %s already exists.", r.Topic)
				}
				return fmt.Sprintf("%s topic %s with %s, replication factor %d.", verb, r.Topic, plural(int(r.Partitions), "partition", "partitions"), r.ReplicationFactor)
			})
		},
	})
	cmd.Flags().Int32VarP(&partitions, "partitions", "p", -1, "number of partitions (-1: the cluster's num.partitions)")
	cmd.Flags().Int16VarP(&rf, "replication-factor", "r", -1, "replicas per partition (-1: the cluster's default.replication.factor)")
	cmd.Flags().StringArrayVarP(&configs, "config", "c", nil, "topic config key=value (repeatable)")
	cmd.Flags().BoolVar(&ifNotExists, "if-not-exists", false, "succeed when the topic already exists")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate only; create nothing")
	return cmd
}

type topicListEntry struct {
	Topic             string `json:"topic"`
	ID                string `json:"id"`
	Partitions        int    `json:"partitions"`
	ReplicationFactor int    `json:"replication_factor"`
	Internal          bool   `json:"internal"`
}

func newTopicListCmd(a *app) *cobra.Command {
	var internal bool
	var re *regexp.Regexp
	cmd := &cobra.Command{
		Use:   "list [REGEX]",
		Short: "List topics, optionally those whose name matches REGEX",
		Example: `  spool topic list
  spool topic list '^orders'
  spool topic list --internal --format json`,
		Args: cobra.MaximumNArgs(1),
	}
	a.client(cmd, clientCmd{
		check: func(args []string) error {
			var err error
			if len(args) == 1 {
				if re, err = regexp.Compile(args[0]); err != nil {
					return usageErrorf("bad regular expression %q: %v", args[0], err)
				}
			}
			return nil
		},
		run: func(s *session, _ []string) error {
			list := s.adm.ListTopics
			if internal {
				list = s.adm.ListTopicsWithInternal
			}
			details, err := list(s.ctx)
			if err != nil {
				return err
			}
			out := []topicListEntry{}
			for _, t := range details.Sorted() {
				if re != nil && !re.MatchString(t.Topic) {
					continue
				}
				if t.Err != nil {
					return fmt.Errorf("topic %s: %w", t.Topic, kafkaError(t.Err, ""))
				}
				out = append(out, topicListEntry{Topic: t.Topic, ID: topicID(t.ID), Partitions: len(t.Partitions), ReplicationFactor: t.Partitions.NumReplicas(), Internal: t.IsInternal})
			}
			return show(s, out, func(p *printer) {
				rows := make([][]string, 0, len(out))
				for _, t := range out {
					rows = append(rows, []string{t.Topic, fmt.Sprint(t.Partitions), fmt.Sprint(t.ReplicationFactor)})
				}
				p.table([]string{"TOPIC", "PARTITIONS", "REPLICAS"}, rows)
			})
		},
	})
	cmd.Flags().BoolVar(&internal, "internal", false, "include internal topics (__consumer_offsets, ...)")
	return cmd
}

// describeTopics lists topics with their partitions, failing clearly on a
// topic that does not exist.
func describeTopics(s *session, topics ...string) (kadm.TopicDetails, error) {
	details, err := s.adm.ListTopicsWithInternal(s.ctx, topics...)
	if err != nil {
		return nil, err
	}
	for _, t := range topics {
		d, ok := details[t]
		if !ok || d.Err == kerr.UnknownTopicOrPartition {
			return nil, fmt.Errorf("topic %s does not exist (see `spool topic list`)", t)
		}
		if d.Err != nil {
			return nil, fmt.Errorf("topic %s: %w", t, kafkaError(d.Err, ""))
		}
	}
	return details, nil
}

// topicID prints a topic id as Kafka does: unpadded base64url.
func topicID(id kadm.TopicID) string { return base64.RawURLEncoding.EncodeToString(id[:]) }

func offsetText(o int64) string {
	if o < 0 {
		return "-"
	}
	return count(o)
}

func sizeText(n int64) string {
	if n < 0 {
		return "-"
	}
	return humanBytes(n)
}
