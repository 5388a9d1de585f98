package clients_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

var toolReassign = &check{
	name:    "kafka-reassign-partitions",
	family:  "Kafka tools",
	what:    "--generate a plan over every broker, --execute one that reorders (three brokers) or keeps the replicas, --verify until it completes",
	timeout: 3 * time.Minute,
	run:     runToolReassign,
}

func runToolReassign(ctx context.Context, k *checkCell) error {
	t := k.prefix
	if err := k.d.oracle.createTopic(ctx, t, 2, k.d.rf, nil); err != nil {
		return err
	}
	brokers, plans := "1", [][]int{{1}, {1}}
	if k.d.rf == 3 {
		brokers, plans = "1,2,3", [][]int{{3, 2, 1}, {2, 3, 1}}
	}
	topics := filepath.Join(k.dir, "topics.json")
	if err := os.WriteFile(topics, fmt.Appendf(nil, `{"version":1,"topics":[{"topic":%q}]}`, t), 0o644); err != nil {
		return err
	}
	out, err := k.tool(ctx, "", "kafka-reassign-partitions", "--bootstrap-server", k.bootstrap(), "--topics-to-move-json-file", topics, "--broker-list", brokers, "--generate")
	if err != nil {
		return err
	}
	if err := expect("--generate", out, `Current partition replica assignment`, `Proposed partition reassignment configuration\s*\{"version":1,"partitions":\[\{"topic":"`+t+`"`); err != nil {
		return err
	}
	var parts []string
	for p, replicas := range plans {
		parts = append(parts, fmt.Sprintf(`{"topic":%q,"partition":%d,"replicas":%s}`, t, p, strings.ReplaceAll(fmt.Sprint(replicas), " ", ",")))
	}
	plan := filepath.Join(k.dir, "plan.json")
	if err := os.WriteFile(plan, []byte(`{"version":1,"partitions":[`+strings.Join(parts, ",")+`]}`), 0o644); err != nil {
		return err
	}
	out, err = k.tool(ctx, "", "kafka-reassign-partitions", "--bootstrap-server", k.bootstrap(), "--reassignment-json-file", plan, "--execute")
	if err != nil {
		return err
	}
	if err := expect("--execute", out, `Successfully started partition reassignments? for `+t+`-0`); err != nil {
		return err
	}
	deadline := time.Now().Add(time.Minute)
	for {
		out, err = k.tool(ctx, "", "kafka-reassign-partitions", "--bootstrap-server", k.bootstrap(), "--reassignment-json-file", plan, "--verify")
		if err != nil {
			return err
		}
		if expect("--verify", out, `Reassignment of partition `+t+`-0 is completed`, `Reassignment of partition `+t+`-1 is completed`) == nil {
			break
		}
		if time.Now().After(deadline) {
			return expect("--verify", out, `Reassignment of partition `+t+`-0 is completed`, `Reassignment of partition `+t+`-1 is completed`)
		}
		time.Sleep(time.Second)
	}
	out, err = k.tool(ctx, "", "kafka-topics", "--bootstrap-server", k.bootstrap(), "--describe", "--topic", t)
	if err != nil {
		return err
	}
	for p, replicas := range plans {
		want := strings.Trim(strings.ReplaceAll(fmt.Sprint(replicas), " ", ","), "[]")
		if err := expect("kafka-topics --describe", out, fmt.Sprintf(`Partition: %d\s+Leader: \d+\s+Replicas: %s\s`, p, want)); err != nil {
			return err
		}
	}
	return nil
}
