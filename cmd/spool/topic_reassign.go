package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// reassignPlan is kafka-reassign-partitions' JSON plan format.
type reassignPlan struct {
	Version    int                 `json:"version"`
	Partitions []reassignPartition `json:"partitions"`
}

type reassignPartition struct {
	Topic     string   `json:"topic"`
	Partition int32    `json:"partition"`
	Replicas  []int32  `json:"replicas"`
	LogDirs   []string `json:"log_dirs,omitempty"`
}

// reassignResult is one partition's outcome of execute, cancel or verify.
type reassignResult struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Replicas  []int32 `json:"replicas,omitempty"`
	Status    string  `json:"status"`
	Error     string  `json:"error,omitempty"`
}

func (r reassignResult) subject() string { return fmt.Sprintf("%s-%d", r.Topic, r.Partition) }
func (r reassignResult) failure() string { return r.Error }

func newTopicReassignCmd(a *app) *cobra.Command {
	var planFile string
	var verify, cancel, generate bool
	var topics []string
	var brokers []int32
	cmd := &cobra.Command{
		Use:   "reassign --plan FILE [--verify|--cancel] | --generate --topic T... --brokers ID,...",
		Short: "Move partition replicas between brokers with a kafka-reassign-partitions plan",
		Long: `Reassign partitions with a plan in kafka-reassign-partitions' JSON format
({"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[4,5]}]}).
--plan starts the reassignments (new replicas catch up, then the old ones
are removed); with --verify it reports which are complete, with --cancel it
cancels the ones in progress. --generate prints the current assignment of
the topics and a plan spreading them over --brokers with their current
replication factor. log_dirs is accepted and must be "any" or absent.`,
		Example: `  spool topic reassign --generate --topic orders --brokers 3,4 > plan.json
  spool topic reassign --plan plan.json
  spool topic reassign --plan plan.json --verify
  spool topic reassign --plan plan.json --cancel`,
		Args: cobra.NoArgs,
	}
	a.client(cmd, clientCmd{
		check: func([]string) error {
			switch {
			case generate && (len(topics) == 0 || len(brokers) == 0):
				return usageErrorf("--generate needs --topic and --brokers")
			case generate && planFile != "":
				return usageErrorf("--generate and --plan cannot be combined")
			case !generate && planFile == "":
				return usageErrorf("give --plan FILE, or --generate")
			case verify && cancel:
				return usageErrorf("--verify and --cancel cannot be combined")
			}
			return nil
		},
		run: func(s *session, _ []string) error {
			if generate {
				return generatePlan(s, topics, brokers)
			}
			plan, err := readPlan(planFile)
			if err != nil {
				return err
			}
			if verify {
				return verifyPlan(s, plan)
			}
			return executePlan(s, plan, cancel)
		},
	})
	cmd.Flags().StringVar(&planFile, "plan", "", "the reassignment plan (kafka-reassign-partitions JSON)")
	cmd.Flags().BoolVar(&verify, "verify", false, "report whether the plan's reassignments are complete")
	cmd.Flags().BoolVar(&cancel, "cancel", false, "cancel the plan's reassignments in progress")
	cmd.Flags().BoolVar(&generate, "generate", false, "print a plan moving --topic over --brokers")
	cmd.Flags().StringSliceVar(&topics, "topic", nil, "topics to move (with --generate)")
	cmd.Flags().Int32SliceVar(&brokers, "brokers", nil, "brokers to move them to (with --generate)")
	return cmd
}

func readPlan(path string) (*reassignPlan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErrorf("--plan: %v", causeOf(err))
	}
	var plan reassignPlan
	if err := json.Unmarshal(b, &plan); err != nil {
		return nil, usageErrorf("--plan %s: not a reassignment plan: %v", path, err)
	}
	if plan.Version != 1 || len(plan.Partitions) == 0 {
		return nil, usageErrorf("--plan %s: want {\"version\":1,\"partitions\":[...]} with at least one partition", path)
	}
	seen := map[string]bool{}
	for _, p := range plan.Partitions {
		key := fmt.Sprintf("%s-%d", p.Topic, p.Partition)
		switch {
		case p.Topic == "" || p.Partition < 0 || len(p.Replicas) == 0:
			return nil, usageErrorf("--plan %s: partition %q needs a topic, a partition and replicas", path, key)
		case seen[key]:
			return nil, usageErrorf("--plan %s: partition %s appears twice", path, key)
		case len(p.LogDirs) > 0 && slices.ContainsFunc(p.LogDirs, func(d string) bool { return d != "any" }):
			return nil, usageErrorf("--plan %s: %s: moving replicas between log directories is not supported; use \"any\"", path, key)
		}
		seen[key] = true
	}
	return &plan, nil
}

func executePlan(s *session, plan *reassignPlan, cancel bool) error {
	var req kadm.AlterPartitionAssignmentsReq
	for _, p := range plan.Partitions {
		if cancel {
			req.CancelAssign(p.Topic, p.Partition)
		} else {
			req.Assign(p.Topic, p.Partition, p.Replicas)
		}
	}
	resps, err := s.adm.AlterPartitionAssignments(s.ctx, req)
	if err != nil {
		return err
	}
	var out []reassignResult
	for _, p := range plan.Partitions {
		r := reassignResult{Topic: p.Topic, Partition: p.Partition, Replicas: p.Replicas, Status: "started"}
		if cancel {
			r.Status, r.Replicas = "cancelled", nil
		}
		if pr, ok := resps[p.Topic][p.Partition]; !ok {
			r.Error = "no answer for this partition"
		} else if pr.Err != nil {
			r.Error = kafkaError(pr.Err, pr.ErrMessage).Error()
		}
		out = append(out, r)
	}
	return report(s, out, func(r reassignResult) string {
		if cancel {
			return fmt.Sprintf("Cancelled the reassignment of %s.", r.subject())
		}
		return fmt.Sprintf("Started moving %s to %s.", r.subject(), ints(r.Replicas))
	})
}

func verifyPlan(s *session, plan *reassignPlan) error {
	set := kadm.TopicsSet{}
	for _, p := range plan.Partitions {
		set.Add(p.Topic, p.Partition)
	}
	inProgress, err := s.adm.ListPartitionReassignments(s.ctx, set)
	if err != nil {
		return err
	}
	details, err := describeTopics(s, set.Topics()...)
	if err != nil {
		return err
	}
	var out []reassignResult
	for _, p := range plan.Partitions {
		r := reassignResult{Topic: p.Topic, Partition: p.Partition, Replicas: p.Replicas}
		cur, ok := details[p.Topic].Partitions[p.Partition]
		switch {
		case !ok:
			r.Error = "no such partition"
		case inProgress[p.Topic][p.Partition].Replicas != nil:
			r.Status = "in progress"
		case slices.Equal(cur.Replicas, p.Replicas):
			r.Status = "complete"
		default:
			r.Status = "not started"
		}
		out = append(out, r)
	}
	return report(s, out, func(r reassignResult) string {
		return fmt.Sprintf("Reassignment of %s to %s: %s.", r.subject(), ints(r.Replicas), r.Status)
	})
}

// generatePlan prints the topics' current assignment and a plan placing
// each partition's replicas round-robin over brokers, keeping its
// replication factor.
func generatePlan(s *session, topics []string, brokers []int32) error {
	details, err := describeTopics(s, topics...)
	if err != nil {
		return err
	}
	current := reassignPlan{Version: 1}
	proposed := reassignPlan{Version: 1}
	next := 0
	for _, t := range topics {
		d, ok := details[t]
		if !ok || d.Err != nil {
			return fmt.Errorf("topic %s: %v", t, kafkaError(d.Err, ""))
		}
		for _, p := range d.Partitions.Sorted() {
			current.Partitions = append(current.Partitions, reassignPartition{Topic: t, Partition: p.Partition, Replicas: p.Replicas})
			if len(p.Replicas) > len(brokers) {
				return usageErrorf("%s-%d has %d replicas but --brokers names %d brokers", t, p.Partition, len(p.Replicas), len(brokers))
			}
			var replicas []int32
			for i := range p.Replicas {
				replicas = append(replicas, brokers[(next+i)%len(brokers)])
			}
			next++
			proposed.Partitions = append(proposed.Partitions, reassignPartition{Topic: t, Partition: p.Partition, Replicas: replicas})
		}
	}
	if s.out.json {
		return s.out.emitJSON(map[string]reassignPlan{"current": current, "proposed": proposed})
	}
	cur, _ := json.Marshal(current)
	prop, _ := json.Marshal(proposed)
	fmt.Fprintf(s.errw, "Current partition replica assignment (keep it to roll back):\n%s\n\nProposed partition reassignment:\n", cur)
	fmt.Fprintln(s.out.w, string(prop))
	return nil
}
