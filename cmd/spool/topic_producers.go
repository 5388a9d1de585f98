package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

type producerEntry struct {
	Partition     int32  `json:"partition"`
	ProducerID    int64  `json:"producer_id"`
	Epoch         int16  `json:"epoch"`
	LastSequence  int32  `json:"last_sequence"`
	LastTimestamp string `json:"last_timestamp"` // RFC3339, UTC
	Error         string `json:"error,omitempty"`
	topic         string
}

func (e producerEntry) subject() string {
	return fmt.Sprintf("topic %s partition %d", e.topic, e.Partition)
}
func (e producerEntry) failure() string { return e.Error }

func newTopicProducersCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "producers TOPIC",
		Short: "List the idempotent producers each partition of a topic remembers (DescribeProducers)",
		Example: `  spool topic producers orders
  spool topic producers orders --format json`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeTopics,
	}
	a.client(cmd, clientCmd{run: func(s *session, args []string) error {
		topic := args[0]
		details, err := describeTopics(s, topic)
		if err != nil {
			return err
		}
		described, err := s.adm.DescribeProducers(s.ctx, details.TopicsSet())
		if err != nil {
			return err
		}
		out := []producerEntry{}
		for _, p := range described[topic].Partitions.Sorted() {
			if p.Err != nil {
				out = append(out, producerEntry{topic: topic, Partition: p.Partition, ProducerID: -1, Epoch: -1, LastSequence: -1, Error: kafkaError(p.Err, p.ErrMessage).Error()})
				continue
			}
			for _, ap := range p.ActiveProducers.Sorted() {
				out = append(out, producerEntry{topic: topic, Partition: p.Partition, ProducerID: ap.ProducerID, Epoch: ap.ProducerEpoch, LastSequence: ap.LastSequence,
					LastTimestamp: time.UnixMilli(ap.LastTimestamp).UTC().Format(time.RFC3339Nano)})
			}
		}
		if s.out.json {
			return report(s, out, nil)
		}
		// Failures go to stderr through report; the table holds the rest.
		var rows [][]string
		var failed []producerEntry
		for _, e := range out {
			if e.Error != "" {
				failed = append(failed, e)
				continue
			}
			rows = append(rows, []string{fmt.Sprint(e.Partition), fmt.Sprint(e.ProducerID), fmt.Sprint(e.Epoch), fmt.Sprint(e.LastSequence), e.LastTimestamp})
		}
		s.out.table([]string{"PARTITION", "PRODUCER-ID", "EPOCH", "LAST-SEQUENCE", "LAST-TIMESTAMP"}, rows)
		return report(s, failed, nil)
	}})
	return cmd
}
