package main

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"spool/config"
)

func newTopicCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "topic",
		Short: "Create, list, describe, grow and delete topics, and list their producers",
		Example: `  spool topic create orders --partitions 3 --replication-factor 1 --config cleanup.policy=compact
  spool topic list
  spool topic describe orders
  spool topic add-partitions orders --total 6
  spool topic producers orders
  spool topic delete orders`,
	}
	cmd.AddCommand(newTopicCreateCmd(a), newTopicListCmd(a), newTopicDescribeCmd(a), newTopicDeleteCmd(a), newTopicAddPartitionsCmd(a), newTopicProducersCmd(a))
	return cmd
}

type topicResult struct {
	Topic             string `json:"topic"`
	ID                string `json:"id,omitempty"`
	Partitions        int32  `json:"partitions,omitempty"`
	ReplicationFactor int16  `json:"replication_factor,omitempty"`
	Existed           bool   `json:"existed,omitempty"`
	Error             string `json:"error,omitempty"`
}

func newTopicCreateCmd(a *app) *cobra.Command {
	var f clientFlags
	var partitions int32
	var rf int16
	var configs []string
	var ifNotExists, dryRun bool
	cmd := &cobra.Command{
		Use:   "create TOPIC...",
		Short: "Create topics",
		Long: `Create topics. Partitions and replication factor default to the cluster's
num.partitions and default.replication.factor. --config sets topic configs
(k=v, repeatable or comma-free list); see ` + "`spool config describe --topic T --all`" + ` for the keys.`,
		Example: `  spool topic create orders --partitions 3 --replication-factor 1
  spool topic create events --config cleanup.policy=compact --config retention.ms=86400000
  spool topic create a b c --dry-run`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, topics []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			cfgs := map[string]*string{}
			for _, kv := range configs {
				k, v, err := config.ParseOverride(kv)
				if err != nil {
					return usageErrorf("--config %q: want key=value", kv)
				}
				cfgs[k] = &v
			}
			s, err := a.connect(cmd, &f)
			if err != nil {
				return err
			}
			defer s.close()
			create := s.adm.CreateTopics
			if dryRun {
				create = s.adm.ValidateCreateTopics
			}
			resps, err := create(s.ctx, partitions, rf, cfgs, topics...)
			if err != nil {
				return err
			}
			var out []topicResult
			failed := 0
			for _, t := range topics {
				r := resps[t]
				res := topicResult{Topic: t, Partitions: r.NumPartitions, ReplicationFactor: r.ReplicationFactor}
				switch {
				case r.Err == nil && !dryRun:
					res.ID = topicID(r.ID)
				case r.Err == nil:
				case ifNotExists && r.Err == kerr.TopicAlreadyExists:
					res.Existed, res.Partitions, res.ReplicationFactor = true, 0, 0
				default:
					res.Error = kafkaError(r.Err, r.ErrMessage).Error()
					res.Partitions, res.ReplicationFactor = 0, 0
					failed++
				}
				out = append(out, res)
			}
			p := a.printer(cmd.OutOrStdout())
			if p.json {
				if err := p.emitJSON(out); err != nil {
					return err
				}
				return failures(failed)
			}
			verb := "Created"
			if dryRun {
				verb = "Would create"
			}
			for _, r := range out {
				switch {
				case r.Error != "":
					fmt.Fprintf(cmd.ErrOrStderr(), "spool: topic %s: %s\n", r.Topic, r.Error)
				case r.Existed:
					fmt.Fprintf(cmd.OutOrStdout(), "Topic %s already exists.\n", r.Topic)
				default:
					fmt.Fprintf(cmd.OutOrStdout(), "%s topic %s with %s, replication factor %d.\n", verb, r.Topic, plural(int(r.Partitions), "partition", "partitions"), r.ReplicationFactor)
				}
			}
			return failures(failed)
		},
	}
	f.register(cmd)
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
	var f clientFlags
	var internal bool
	cmd := &cobra.Command{
		Use:   "list [REGEX]",
		Short: "List topics, optionally those whose name matches REGEX",
		Example: `  spool topic list
  spool topic list '^orders'
  spool topic list --internal --format json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			var re *regexp.Regexp
			if len(args) == 1 {
				var err error
				if re, err = regexp.Compile(args[0]); err != nil {
					return usageErrorf("bad regular expression %q: %v", args[0], err)
				}
			}
			s, err := a.connect(cmd, &f)
			if err != nil {
				return err
			}
			defer s.close()
			list := s.adm.ListTopics
			if internal {
				list = s.adm.ListTopicsWithInternal
			}
			details, err := list(s.ctx)
			if err != nil {
				return err
			}
			var out []topicListEntry
			for _, t := range details.Sorted() {
				if re != nil && !re.MatchString(t.Topic) {
					continue
				}
				if t.Err != nil {
					return fmt.Errorf("topic %s: %w", t.Topic, kafkaError(t.Err, ""))
				}
				out = append(out, topicListEntry{Topic: t.Topic, ID: topicID(t.ID), Partitions: len(t.Partitions), ReplicationFactor: t.Partitions.NumReplicas(), Internal: t.IsInternal})
			}
			p := a.printer(cmd.OutOrStdout())
			if p.json {
				if out == nil {
					out = []topicListEntry{}
				}
				return p.emitJSON(out)
			}
			rows := make([][]string, 0, len(out))
			for _, t := range out {
				rows = append(rows, []string{t.Topic, fmt.Sprint(t.Partitions), fmt.Sprint(t.ReplicationFactor)})
			}
			p.table([]string{"TOPIC", "PARTITIONS", "REPLICAS"}, rows)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&internal, "internal", false, "include internal topics (__consumer_offsets, ...)")
	return cmd
}

type partitionDetail struct {
	Partition      int32   `json:"partition"`
	Leader         int32   `json:"leader"`
	LeaderEpoch    int32   `json:"leader_epoch"`
	Replicas       []int32 `json:"replicas"`
	ISR            []int32 `json:"isr"`
	LogStartOffset int64   `json:"log_start_offset"`
	HighWatermark  int64   `json:"high_watermark"`
	SizeBytes      int64   `json:"size_bytes"`
	Error          string  `json:"error,omitempty"`
}

type topicDetail struct {
	Topic             string            `json:"topic"`
	ID                string            `json:"id"`
	Internal          bool              `json:"internal"`
	ReplicationFactor int               `json:"replication_factor"`
	Configs           map[string]string `json:"configs"`
	Partitions        []partitionDetail `json:"partitions"`
	// Cleaner is set for compacted topics on brokers that report it.
	Cleaner []cleanerDetail `json:"cleaner,omitempty"`
}

func newTopicDescribeCmd(a *app) *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "describe TOPIC...",
		Short: "Show a topic's partitions, leaders, replicas, offsets and config overrides",
		Long: `Show a topic's partitions, leaders, replicas, offsets and config overrides.
For a compacted topic on Spool brokers, a CLEANER section adds each
partition's dirty ratio, first dirty offset and last clean time; other
Kafka brokers have no API for these, so the section is left out.`,
		Example: `  spool topic describe orders
  spool topic describe orders events --format json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, topics []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			s, err := a.connect(cmd, &f)
			if err != nil {
				return err
			}
			defer s.close()
			details, err := s.adm.ListTopicsWithInternal(s.ctx, topics...)
			if err != nil {
				return err
			}
			for _, t := range topics {
				if d, ok := details[t]; !ok || d.Err != nil {
					e := error(kerr.UnknownTopicOrPartition)
					if ok {
						e = d.Err
					}
					return fmt.Errorf("topic %s: %w", t, kafkaError(e, ""))
				}
			}
			starts, err := s.adm.ListStartOffsets(s.ctx, topics...)
			if err != nil {
				return err
			}
			ends, err := s.adm.ListEndOffsets(s.ctx, topics...)
			if err != nil {
				return err
			}
			rcs, err := s.adm.DescribeTopicConfigs(s.ctx, topics...)
			if err != nil {
				return err
			}
			// Sizes are a courtesy: a cluster refusing DescribeLogDirs
			// still gets its topics described.
			sizes := map[string]map[int32]int64{}
			if dirs, err := s.adm.DescribeAllLogDirs(s.ctx, details.TopicsSet()); err == nil {
				dirs.Each(func(d kadm.DescribedLogDir) {
					d.Topics.Each(func(p kadm.DescribedLogDirPartition) {
						if p.Topic != "" && sizes[p.Topic] == nil {
							sizes[p.Topic] = map[int32]int64{}
						}
						// The leader's copy is as large as any; take the largest.
						sizes[p.Topic][p.Partition] = max(sizes[p.Topic][p.Partition], p.Size)
					})
				})
			}
			var out []topicDetail
			var compacted []string
			leaders := map[int32]bool{}
			for _, t := range topics {
				d := details[t]
				td := topicDetail{Topic: t, ID: topicID(d.ID), Internal: d.IsInternal, ReplicationFactor: d.Partitions.NumReplicas(), Configs: map[string]string{}}
				if rc, err := rcs.On(t, nil); err == nil && rc.Err == nil {
					for _, c := range rc.Configs {
						if c.Source == 1 { // TOPIC_CONFIG
							td.Configs[c.Key] = c.MaybeValue()
						}
						if c.Key == "cleanup.policy" && slices.Contains(config.SplitList(c.MaybeValue()), "compact") {
							compacted = append(compacted, t)
							for _, p := range d.Partitions {
								leaders[p.Leader] = true
							}
						}
					}
				}
				for _, p := range d.Partitions.Sorted() {
					pd := partitionDetail{Partition: p.Partition, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch, Replicas: p.Replicas, ISR: p.ISR, LogStartOffset: -1, HighWatermark: -1, SizeBytes: -1}
					if sz, ok := sizes[t][p.Partition]; ok {
						pd.SizeBytes = sz
					}
					if p.Err != nil {
						pd.Error = kafkaError(p.Err, "").Error()
					}
					if o, ok := starts.Lookup(t, p.Partition); ok && o.Err == nil {
						pd.LogStartOffset = o.Offset
					}
					if o, ok := ends.Lookup(t, p.Partition); ok && o.Err == nil {
						pd.HighWatermark = o.Offset
					}
					td.Partitions = append(td.Partitions, pd)
				}
				out = append(out, td)
			}
			addCleaner(s, out, compacted, leaders)
			p := a.printer(cmd.OutOrStdout())
			if p.json {
				return p.emitJSON(out)
			}
			for i, td := range out {
				if i > 0 {
					fmt.Fprintln(p.w)
				}
				printTopicDetail(p, td)
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func printTopicDetail(p *printer, td topicDetail) {
	keys := make([]string, 0, len(td.Configs))
	for k := range td.Configs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var cfgs []string
	for _, k := range keys {
		cfgs = append(cfgs, k+"="+td.Configs[k])
	}
	p.pairs("Topic", td.Topic, "ID", td.ID, "Partitions", fmt.Sprint(len(td.Partitions)),
		"Replication factor", fmt.Sprint(td.ReplicationFactor), "Configs", orDash(strings.Join(cfgs, ", ")))
	fmt.Fprintln(p.w)
	rows := make([][]string, 0, len(td.Partitions))
	for _, pd := range td.Partitions {
		rows = append(rows, []string{fmt.Sprint(pd.Partition), fmt.Sprint(pd.Leader), fmt.Sprint(pd.LeaderEpoch), ints(pd.Replicas), ints(pd.ISR),
			offsetText(pd.LogStartOffset), offsetText(pd.HighWatermark), sizeText(pd.SizeBytes), orDash(pd.Error)})
	}
	p.table([]string{"PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR", "LOG-START", "HIGH-WATERMARK", "SIZE", "ERROR"}, rows)
	if len(td.Cleaner) > 0 {
		printCleaner(p, td.Cleaner)
	}
}

func sizeText(n int64) string {
	if n < 0 {
		return "-"
	}
	return humanBytes(n)
}

// topicID prints a topic id as Kafka does: unpadded base64url.
func topicID(id kadm.TopicID) string { return base64.RawURLEncoding.EncodeToString(id[:]) }

func offsetText(o int64) string {
	if o < 0 {
		return "-"
	}
	return count(o)
}

func newTopicDeleteCmd(a *app) *cobra.Command {
	var f clientFlags
	var ifExists bool
	cmd := &cobra.Command{
		Use:   "delete TOPIC...",
		Short: "Delete topics and their data",
		Example: `  spool topic delete orders
  spool topic delete old-1 old-2 --if-exists`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, topics []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			s, err := a.connect(cmd, &f)
			if err != nil {
				return err
			}
			defer s.close()
			resps, err := s.adm.DeleteTopics(s.ctx, topics...)
			if err != nil {
				return err
			}
			var out []topicResult
			failed := 0
			for _, t := range topics {
				r := resps[t]
				res := topicResult{Topic: t}
				switch {
				case r.Err == nil:
					res.ID = topicID(r.ID)
				case ifExists && r.Err == kerr.UnknownTopicOrPartition:
				default:
					res.Error = kafkaError(r.Err, r.ErrMessage).Error()
					failed++
				}
				out = append(out, res)
			}
			p := a.printer(cmd.OutOrStdout())
			if p.json {
				if err := p.emitJSON(out); err != nil {
					return err
				}
				return failures(failed)
			}
			for _, r := range out {
				switch {
				case r.Error != "":
					fmt.Fprintf(cmd.ErrOrStderr(), "spool: topic %s: %s\n", r.Topic, r.Error)
				case r.ID == "":
					fmt.Fprintf(p.w, "Topic %s does not exist.\n", r.Topic)
				default:
					fmt.Fprintf(p.w, "Deleted topic %s.\n", r.Topic)
				}
			}
			return failures(failed)
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&ifExists, "if-exists", false, "succeed when the topic does not exist")
	return cmd
}

func newTopicAddPartitionsCmd(a *app) *cobra.Command {
	var f clientFlags
	var total int
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "add-partitions TOPIC... --total N",
		Short: "Grow topics to N partitions (partitions can never be removed)",
		Long: `Grow topics to a total of N partitions. Keys hash to new partitions from then
on, so records with the same key may land in a different partition than before.`,
		Example: `  spool topic add-partitions orders --total 6
  spool topic add-partitions orders --total 12 --dry-run`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, topics []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			if total <= 0 {
				return usageErrorf("add-partitions needs --total N (the new partition count, N > 0)")
			}
			s, err := a.connect(cmd, &f)
			if err != nil {
				return err
			}
			defer s.close()
			update := s.adm.UpdatePartitions
			if dryRun {
				update = s.adm.ValidateUpdatePartitions
			}
			resps, err := update(s.ctx, total, topics...)
			if err != nil {
				return err
			}
			var out []topicResult
			failed := 0
			for _, t := range topics {
				r := resps[t]
				res := topicResult{Topic: t, Partitions: int32(total)}
				if r.Err != nil {
					res.Partitions = 0
					res.Error = kafkaError(r.Err, r.ErrMessage).Error()
					failed++
				}
				out = append(out, res)
			}
			p := a.printer(cmd.OutOrStdout())
			if p.json {
				if err := p.emitJSON(out); err != nil {
					return err
				}
				return failures(failed)
			}
			verb := "Topic %s now has %s.\n"
			if dryRun {
				verb = "Topic %s would have %s.\n"
			}
			for _, r := range out {
				if r.Error != "" {
					fmt.Fprintf(cmd.ErrOrStderr(), "spool: topic %s: %s\n", r.Topic, r.Error)
					continue
				}
				fmt.Fprintf(p.w, verb, r.Topic, plural(total, "partition", "partitions"))
			}
			return failures(failed)
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&total, "total", 0, "the partition count to grow to")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate only; change nothing")
	return cmd
}
