package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"spool/config"
)

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

func (p partitionDetail) underReplicated() bool { return len(p.ISR) < len(p.Replicas) }
func (p partitionDetail) leaderless() bool      { return p.Leader < 0 }

type topicDetail struct {
	Topic             string            `json:"topic"`
	ID                string            `json:"id"`
	Internal          bool              `json:"internal"`
	ReplicationFactor int               `json:"replication_factor"`
	Configs           map[string]string `json:"configs"`
	Partitions        []partitionDetail `json:"partitions"`
	// Cleaner is set for compacted topics on brokers that report it.
	Cleaner []cleanerDetail `json:"cleaner,omitempty"`
	// Tiered is set for topics with remote.storage.enable.
	Tiered []tieredDetail `json:"tiered,omitempty"`
}

// describeFilter keeps only the partitions that need attention.
type describeFilter struct {
	underReplicated, unavailable bool
}

func (f describeFilter) on() bool { return f.underReplicated || f.unavailable }

func (f describeFilter) keep(p partitionDetail) bool {
	return !f.on() || (f.underReplicated && p.underReplicated()) || (f.unavailable && p.leaderless())
}

func newTopicDescribeCmd(a *app) *cobra.Command {
	var filter describeFilter
	cmd := &cobra.Command{
		Use:   "describe [TOPIC...]",
		Short: "Show a topic's partitions, leaders, replicas, offsets and config overrides",
		Long: `Show a topic's partitions, leaders, replicas, offsets and config overrides.
For a compacted topic on Spool brokers, a CLEANER section adds each
partition's dirty ratio, first dirty offset and last clean time; other
Kafka brokers have no API for these, so the section is left out.

--under-replicated shows only partitions whose in-sync replicas are fewer
than their replicas, --unavailable only those without a leader; with either,
no TOPIC means every topic.`,
		Example: `  spool topic describe orders
  spool topic describe orders events --format json
  spool topic describe --under-replicated`,
		ValidArgsFunction: a.completeTopics,
	}
	a.client(cmd, clientCmd{
		check: func(topics []string) error {
			if len(topics) == 0 && !filter.on() {
				return usageErrorf("topic describe needs a TOPIC (or --under-replicated / --unavailable for every topic)")
			}
			return nil
		},
		run: func(s *session, topics []string) error {
			out, err := describe(s, topics, filter)
			if err != nil {
				return err
			}
			if filter.on() {
				return showFiltered(s, out)
			}
			return show(s, out, func(p *printer) {
				for i, td := range out {
					if i > 0 {
						fmt.Fprintln(p.w)
					}
					printTopicDetail(p, td)
				}
			})
		},
	})
	cmd.Flags().BoolVar(&filter.underReplicated, "under-replicated", false, "only partitions with fewer in-sync replicas than replicas")
	cmd.Flags().BoolVar(&filter.unavailable, "unavailable", false, "only partitions without a leader")
	return cmd
}

// describe gathers what `topic describe` shows: metadata, offsets, config
// overrides, sizes and (for compacted topics) the cleaner's state.
func describe(s *session, topics []string, filter describeFilter) ([]topicDetail, error) {
	details, err := describeTopics(s, topics...)
	if err != nil {
		return nil, err
	}
	if len(topics) == 0 {
		topics = details.Names()
		slices.Sort(topics)
	}
	if filter.on() {
		// Offsets and configs of healthy topics would only be thrown away.
		return filterDetails(details, topics, filter), nil
	}
	starts, err := s.adm.ListStartOffsets(s.ctx, topics...)
	if err != nil {
		return nil, err
	}
	ends, err := s.adm.ListEndOffsets(s.ctx, topics...)
	if err != nil {
		return nil, err
	}
	rcs, err := s.adm.DescribeTopicConfigs(s.ctx, topics...)
	if err != nil {
		return nil, err
	}
	sizes := logSizes(s, details)
	var out []topicDetail
	var compacted []string
	leaders, tiered := map[int32]bool{}, map[string]bool{}
	for _, t := range topics {
		d := details[t]
		td := topicDetail{Topic: t, ID: topicID(d.ID), Internal: d.IsInternal, ReplicationFactor: d.Partitions.NumReplicas(), Configs: map[string]string{}}
		if rc, err := rcs.On(t, nil); err == nil && rc.Err == nil {
			for _, c := range rc.Configs {
				if c.Source == 1 { // TOPIC_CONFIG
					td.Configs[c.Key] = c.MaybeValue()
				}
				if isTiered(c.Key, c.MaybeValue()) {
					tiered[t] = true
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
			pd := toPartitionDetail(p)
			if sz, ok := sizes[t][p.Partition]; ok {
				pd.SizeBytes = sz
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
	addTiered(s, out, tiered)
	return out, nil
}

func toPartitionDetail(p kadm.PartitionDetail) partitionDetail {
	pd := partitionDetail{Partition: p.Partition, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch, Replicas: p.Replicas, ISR: p.ISR, LogStartOffset: -1, HighWatermark: -1, SizeBytes: -1}
	if pd.Replicas == nil {
		pd.Replicas = []int32{}
	}
	if pd.ISR == nil {
		pd.ISR = []int32{}
	}
	if p.Err != nil {
		pd.Error = kafkaError(p.Err, "").Error()
	}
	return pd
}

// filterDetails keeps the topics and partitions the filter selects.
func filterDetails(details kadm.TopicDetails, topics []string, filter describeFilter) []topicDetail {
	out := []topicDetail{}
	for _, t := range topics {
		d := details[t]
		td := topicDetail{Topic: t, ID: topicID(d.ID), Internal: d.IsInternal, ReplicationFactor: d.Partitions.NumReplicas(), Configs: map[string]string{}}
		for _, p := range d.Partitions.Sorted() {
			if pd := toPartitionDetail(p); filter.keep(pd) {
				td.Partitions = append(td.Partitions, pd)
			}
		}
		if len(td.Partitions) > 0 {
			out = append(out, td)
		}
	}
	return out
}

// showFiltered prints the partitions that need attention, one table for
// every topic, as kafka-topics --under-replicated-partitions does.
func showFiltered(s *session, out []topicDetail) error {
	return show(s, out, func(p *printer) {
		if len(out) == 0 {
			fmt.Fprintln(p.w, "No partition matches.")
			return
		}
		var rows [][]string
		for _, td := range out {
			for _, pd := range td.Partitions {
				rows = append(rows, []string{td.Topic, fmt.Sprint(pd.Partition), leaderText(pd.Leader), ints(pd.Replicas), ints(pd.ISR), missing(pd.Replicas, pd.ISR)})
			}
		}
		p.table([]string{"TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR", "OUT-OF-SYNC"}, rows)
	})
}

// logSizes reads partition sizes from DescribeLogDirs. Sizes are a
// courtesy: a cluster refusing the request still gets its topics described.
func logSizes(s *session, details kadm.TopicDetails) map[string]map[int32]int64 {
	sizes := map[string]map[int32]int64{}
	dirs, err := s.adm.DescribeAllLogDirs(s.ctx, details.TopicsSet())
	if err != nil {
		return sizes
	}
	dirs.Each(func(d kadm.DescribedLogDir) {
		d.Topics.Each(func(p kadm.DescribedLogDirPartition) {
			if p.Topic != "" && sizes[p.Topic] == nil {
				sizes[p.Topic] = map[int32]int64{}
			}
			// The leader's copy is as large as any; take the largest.
			sizes[p.Topic][p.Partition] = max(sizes[p.Topic][p.Partition], p.Size)
		})
	})
	return sizes
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
	// The ERROR column appears only when a partition has one: without it
	// the table fits 80 columns.
	withErr := slices.ContainsFunc(td.Partitions, func(pd partitionDetail) bool { return pd.Error != "" })
	rows := make([][]string, 0, len(td.Partitions))
	for _, pd := range td.Partitions {
		row := []string{fmt.Sprint(pd.Partition), leaderText(pd.Leader), fmt.Sprint(pd.LeaderEpoch), ints(pd.Replicas), ints(pd.ISR),
			offsetText(pd.LogStartOffset), offsetText(pd.HighWatermark), sizeText(pd.SizeBytes)}
		if withErr {
			row = append(row, orDash(pd.Error))
		}
		rows = append(rows, row)
	}
	header := []string{"PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR", "LOG-START", "HIGH-WATERMARK", "SIZE"}
	if withErr {
		header = append(header, "ERROR")
	}
	p.table(header, rows)
	if len(td.Cleaner) > 0 {
		printCleaner(p, td.Cleaner)
	}
	if len(td.Tiered) > 0 {
		printTiered(p, td.Tiered)
	}
}

func leaderText(id int32) string {
	if id < 0 {
		return "none"
	}
	return fmt.Sprint(id)
}

// missing lists the replicas not in the ISR.
func missing(replicas, isr []int32) string {
	var out []int32
	for _, r := range replicas {
		if !slices.Contains(isr, r) {
			out = append(out, r)
		}
	}
	return orDash(ints(out))
}
