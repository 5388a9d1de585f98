package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
)

type producerEntry struct {
	Partition     int32  `json:"partition"`
	ProducerID    int64  `json:"producer_id"`
	Epoch         int16  `json:"epoch"`
	LastSequence  int32  `json:"last_sequence"`
	LastTimestamp string `json:"last_timestamp"` // RFC3339, UTC
	Error         string `json:"error,omitempty"`
}

func newTopicProducersCmd(a *app) *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "producers TOPIC",
		Short: "List the idempotent producers each partition of a topic remembers (DescribeProducers)",
		Example: `  spool topic producers orders
  spool topic producers orders --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			s, err := a.connect(cmd, &f)
			if err != nil {
				return err
			}
			defer s.close()
			topic := args[0]
			details, err := s.adm.ListTopicsWithInternal(s.ctx, topic)
			if err != nil {
				return err
			}
			if d, ok := details[topic]; !ok || d.Err != nil {
				e := error(kerr.UnknownTopicOrPartition)
				if ok {
					e = d.Err
				}
				return fmt.Errorf("topic %s: %w", topic, kafkaError(e, ""))
			}
			described, err := s.adm.DescribeProducers(s.ctx, details.TopicsSet())
			if err != nil {
				return err
			}
			out := []producerEntry{}
			failed := 0
			for _, p := range described[topic].Partitions.Sorted() {
				if p.Err != nil {
					out = append(out, producerEntry{Partition: p.Partition, ProducerID: -1, Epoch: -1, LastSequence: -1, Error: kafkaError(p.Err, p.ErrMessage).Error()})
					failed++
					continue
				}
				for _, ap := range p.ActiveProducers.Sorted() {
					out = append(out, producerEntry{Partition: p.Partition, ProducerID: ap.ProducerID, Epoch: ap.ProducerEpoch, LastSequence: ap.LastSequence,
						LastTimestamp: time.UnixMilli(ap.LastTimestamp).UTC().Format(time.RFC3339Nano)})
				}
			}
			p := a.printer(cmd.OutOrStdout())
			if p.json {
				if err := p.emitJSON(out); err != nil {
					return err
				}
				return failures(failed)
			}
			rows := make([][]string, 0, len(out))
			for _, e := range out {
				if e.Error != "" {
					fmt.Fprintf(cmd.ErrOrStderr(), "spool: topic %s partition %d: %s\n", topic, e.Partition, e.Error)
					continue
				}
				rows = append(rows, []string{fmt.Sprint(e.Partition), fmt.Sprint(e.ProducerID), fmt.Sprint(e.Epoch), fmt.Sprint(e.LastSequence), e.LastTimestamp})
			}
			p.table([]string{"PARTITION", "PRODUCER-ID", "EPOCH", "LAST-SEQUENCE", "LAST-TIMESTAMP"}, rows)
			return failures(failed)
		},
	}
	f.register(cmd)
	return cmd
}
