package main

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func newClusterDecommissionCmd(a *app) *cobra.Command {
	var status bool
	cmd := &cobra.Command{
		Use:   "decommission BROKER_ID [--status]",
		Short: "Move every replica off a broker, then unregister it",
		Long: `Decommission a broker: every partition replica it holds is reassigned to
the live broker holding the fewest replicas (not already a replica of that
partition), and the command waits, showing progress, until the new
replicas are in sync and the broker holds none. A broker still running is
not unregistered (it would register again): stop it and run the command
again, which then only unregisters it. --status shows how many replicas
the broker still holds and how many of them are moving. Ctrl-C stops
waiting; the moves go on (cancel them with spool topic reassign --cancel).`,
		Example: `  spool cluster decommission 4
  spool cluster decommission 4 --status`,
		Args: cobra.ExactArgs(1),
	}
	a.client(cmd, clientCmd{
		check: func(args []string) error {
			if _, err := strconv.ParseInt(args[0], 10, 32); err != nil {
				return usageErrorf("BROKER_ID must be a number, not %q", args[0])
			}
			return nil
		},
		run: func(s *session, args []string) error {
			id64, _ := strconv.ParseInt(args[0], 10, 32)
			return decommission(s, int32(id64), status)
		},
	})
	cmd.Flags().BoolVar(&status, "status", false, "show what the broker still holds and stop")
	return cmd
}

func decommission(s *session, id int32, status bool) error {
	meta, err := s.adm.Metadata(s.ctx)
	if err != nil {
		return err
	}
	held, moves, err := planDecommission(meta, id)
	if err != nil && !status {
		return err
	}
	if status {
		moving, err := s.adm.ListPartitionReassignments(s.ctx, held)
		if err != nil {
			return err
		}
		n := 0
		moving.Each(func(kadm.ListPartitionReassignmentsResponse) { n++ })
		fmt.Fprintf(s.out.w, "Broker %d holds %d replicas; %d of them are moving.\n", id, countSet(held), n)
		return nil
	}
	if len(moves) > 0 {
		resps, err := s.adm.AlterPartitionAssignments(s.ctx, moves)
		if err != nil {
			return err
		}
		if err := resps.Error(); err != nil {
			return fmt.Errorf("moving replicas off broker %d: %w", id, err)
		}
		fmt.Fprintf(s.errw, "Moving %d replicas off broker %d.\n", countSet(held), id)
		if err := waitMoved(s, id, held); err != nil {
			return err
		}
	}
	return unregister(s, id)
}

// planDecommission finds the partitions holding a replica on id and a
// replacement for each: the live broker with the fewest replicas that is
// not already a replica of the partition.
func planDecommission(meta kadm.Metadata, id int32) (kadm.TopicsSet, kadm.AlterPartitionAssignmentsReq, error) {
	load := map[int32]int{}
	for _, b := range meta.Brokers {
		if b.NodeID != id {
			load[b.NodeID] = 0
		}
	}
	for _, t := range meta.Topics {
		for _, p := range t.Partitions {
			for _, r := range p.Replicas {
				if _, ok := load[r]; ok {
					load[r]++
				}
			}
		}
	}
	held := kadm.TopicsSet{}
	var moves kadm.AlterPartitionAssignmentsReq
	for _, t := range meta.Topics.Sorted() {
		for _, p := range t.Partitions.Sorted() {
			i := slices.Index(p.Replicas, id)
			if i < 0 {
				continue
			}
			held.Add(t.Topic, p.Partition)
			best := int32(-1)
			for b, n := range load {
				if !slices.Contains(p.Replicas, b) && (best < 0 || n < load[best] || (n == load[best] && b < best)) {
					best = b
				}
			}
			if best < 0 {
				return held, nil, fmt.Errorf("%s-%d: no other broker can take its replica (replication factor %d, %d other live brokers)", t.Topic, p.Partition, len(p.Replicas), len(load))
			}
			load[best]++
			target := slices.Clone(p.Replicas)
			target[i] = best
			moves.Assign(t.Topic, p.Partition, target)
		}
	}
	return held, moves, nil
}

// waitMoved polls until none of held is being reassigned, printing
// progress when it changes.
func waitMoved(s *session, id int32, held kadm.TopicsSet) error {
	total, last := countSet(held), -1
	for {
		moving, err := s.adm.ListPartitionReassignments(s.ctx, held)
		if err != nil {
			return err
		}
		n := 0
		moving.Each(func(kadm.ListPartitionReassignmentsResponse) { n++ })
		if n != last {
			fmt.Fprintf(s.errw, "%d of %d replicas moved off broker %d.\n", total-n, total, id)
			last = n
		}
		if n == 0 {
			return nil
		}
		select {
		case <-s.ctx.Done():
			return fmt.Errorf("stopped waiting with %d replicas still moving off broker %d (they keep moving; see --status)", n, id)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func unregister(s *session, id int32) error {
	req := kmsg.NewPtrUnregisterBrokerRequest()
	req.BrokerID = id
	resp, err := req.RequestWith(s.ctx, s.cl)
	if err != nil {
		return err
	}
	if e := kerr.ErrorForCode(resp.ErrorCode); e != nil {
		if e == kerr.InvalidRequest {
			fmt.Fprintf(s.out.w, "Broker %d holds no replicas. It is still running: stop it, then run this command again to unregister it.\n", id)
			return nil
		}
		msg := ""
		if resp.ErrorMessage != nil {
			msg = *resp.ErrorMessage
		}
		return kafkaError(e, msg)
	}
	fmt.Fprintf(s.out.w, "Broker %d holds no replicas and is unregistered.\n", id)
	return nil
}

func countSet(s kadm.TopicsSet) int {
	n := 0
	for _, ps := range s {
		n += len(ps)
	}
	return n
}
