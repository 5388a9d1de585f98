package clients_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

var toolTopics = &check{
	name:    "kafka-topics",
	family:  "Kafka tools",
	what:    "--create with a config, --list, --describe, --alter --partitions, --describe --under-replicated-partitions, --delete; creating an existing topic fails",
	timeout: 3 * time.Minute,
	run:     runToolTopics,
}

func runToolTopics(ctx context.Context, k *checkCell) error {
	t, bs := k.prefix, k.bootstrap()
	rf := strconv.Itoa(k.d.rf)
	out, err := k.tool(ctx, "", "kafka-topics", "--bootstrap-server", bs, "--create", "--topic", t,
		"--partitions", "3", "--replication-factor", rf, "--config", "retention.ms=86400000")
	if err != nil {
		return err
	}
	if err := expect("--create", out, `Created topic `+t+`\.`); err != nil {
		return err
	}
	out, err = k.toolFails(ctx, "kafka-topics", "--bootstrap-server", bs, "--create", "--topic", t, "--partitions", "1")
	if err != nil {
		return err
	}
	if err := expect("--create of an existing topic", out, `TopicExistsException|already exists`); err != nil {
		return err
	}
	if err := eventually(ctx, 10*time.Second, func() error {
		out, err := k.tool(ctx, "", "kafka-topics", "--bootstrap-server", bs, "--list")
		if err != nil {
			return err
		}
		return expect("--list", out, `(?m)^`+t+`$`)
	}); err != nil {
		return err
	}
	out, err = k.tool(ctx, "", "kafka-topics", "--bootstrap-server", bs, "--describe", "--topic", t)
	if err != nil {
		return err
	}
	if err := expect("--describe", out, `Topic: `+t+`\s+TopicId: \S+\s+PartitionCount: 3\s+ReplicationFactor: `+rf+`\s+Configs: .*retention\.ms=86400000`,
		`(?m)Partition: 0\s+Leader: \d+\s+Replicas: [\d,]+\s+Isr: [\d,]+`, `Partition: 2\s+Leader: \d+`); err != nil {
		return err
	}
	if _, err := k.tool(ctx, "", "kafka-topics", "--bootstrap-server", bs, "--alter", "--topic", t, "--partitions", "5"); err != nil {
		return err
	}
	if err := eventually(ctx, 10*time.Second, func() error {
		_, parts, err := k.d.oracle.topic(ctx, t)
		if err == nil && parts != 5 {
			err = fmt.Errorf("after --alter --partitions 5 the topic has %d partitions", parts)
		}
		return err
	}); err != nil {
		return err
	}
	out, err = k.tool(ctx, "", "kafka-topics", "--bootstrap-server", bs, "--describe", "--under-replicated-partitions", "--topic", t)
	if err != nil {
		return err
	}
	if strings.TrimSpace(out) != "" {
		return fmt.Errorf("--describe --under-replicated-partitions lists partitions of a healthy topic:\n%s", out)
	}
	if _, err := k.tool(ctx, "", "kafka-topics", "--bootstrap-server", bs, "--delete", "--topic", t); err != nil {
		return err
	}
	return eventually(ctx, 15*time.Second, func() error {
		out, err := k.tool(ctx, "", "kafka-topics", "--bootstrap-server", bs, "--list")
		if err == nil && strings.Contains("\n"+out, "\n"+t+"\n") {
			err = fmt.Errorf("--list still shows %s after --delete", t)
		}
		return err
	})
}

var toolConfigs = &check{
	name:    "kafka-configs",
	family:  "Kafka tools",
	what:    "topic configs: --add-config, --describe, --delete-config, an invalid value refused; a per-broker dynamic config set, described and deleted",
	timeout: 3 * time.Minute,
	run:     runToolConfigs,
}

func runToolConfigs(ctx context.Context, k *checkCell) error {
	t, bs := k.prefix, k.bootstrap()
	if err := k.d.oracle.createTopic(ctx, t, 1, k.d.rf, nil); err != nil {
		return err
	}
	topic := []string{"--bootstrap-server", bs, "--entity-type", "topics", "--entity-name", t}
	out, err := k.tool(ctx, "", "kafka-configs", append(topic, "--alter", "--add-config", "retention.ms=3600000,max.message.bytes=2097152")...)
	if err != nil {
		return err
	}
	if err := expect("--alter --add-config", out, `Completed updating config for topic `+t); err != nil {
		return err
	}
	describe := func(retention bool) error {
		return eventually(ctx, 10*time.Second, func() error {
			out, err := k.tool(ctx, "", "kafka-configs", append(topic, "--describe")...)
			if err != nil {
				return err
			}
			if retention != strings.Contains(out, "retention.ms=3600000") {
				return fmt.Errorf("--describe shows retention.ms=3600000: %v, want %v:\n%s", !retention, retention, out)
			}
			return expect("--describe", out, `max\.message\.bytes=2097152 sensitive=false synonyms=\{DYNAMIC_TOPIC_CONFIG:max\.message\.bytes=2097152`)
		})
	}
	if err := describe(true); err != nil {
		return err
	}
	if _, err := k.tool(ctx, "", "kafka-configs", append(topic, "--alter", "--delete-config", "retention.ms")...); err != nil {
		return err
	}
	if err := describe(false); err != nil {
		return fmt.Errorf("after --delete-config retention.ms: %w", err)
	}
	out, err = k.toolFails(ctx, "kafka-configs", append(topic, "--alter", "--add-config", "min.insync.replicas=0")...)
	if err != nil {
		return err
	}
	if err := expect("--add-config min.insync.replicas=0", out, `InvalidConfigurationException|Invalid value`); err != nil {
		return err
	}
	// A per-broker dynamic config on the first broker.
	var id string
	for n := range k.d.dirs {
		if id == "" || strconv.Itoa(n) < id {
			id = strconv.Itoa(n)
		}
	}
	broker := []string{"--bootstrap-server", bs, "--entity-type", "brokers", "--entity-name", id}
	if _, err := k.tool(ctx, "", "kafka-configs", append(broker, "--alter", "--add-config", "log.cleaner.min.cleanable.ratio=0.6")...); err != nil {
		return err
	}
	if err := eventually(ctx, 10*time.Second, func() error {
		out, err := k.tool(ctx, "", "kafka-configs", append(broker, "--describe")...)
		if err != nil {
			return err
		}
		return expect("--describe of broker "+id, out, `log\.cleaner\.min\.cleanable\.ratio=0\.6 sensitive=false synonyms=\{DYNAMIC_BROKER_CONFIG:log\.cleaner\.min\.cleanable\.ratio=0\.6`)
	}); err != nil {
		return err
	}
	_, err = k.tool(ctx, "", "kafka-configs", append(broker, "--alter", "--delete-config", "log.cleaner.min.cleanable.ratio")...)
	return err
}
