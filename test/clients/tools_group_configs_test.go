package clients_test

import (
	"context"
	"time"
)

var toolGroupConfigs = &check{
	name:    "kafka-configs-groups",
	family:  "Kafka tools",
	what:    "group configs (KIP-848): --entity-type groups --add-config, --describe, --delete-config, a value outside the broker's bounds and an unknown key refused",
	timeout: 3 * time.Minute,
	run:     runToolGroupConfigs,
}

func runToolGroupConfigs(ctx context.Context, k *checkCell) error {
	grp := []string{"--bootstrap-server", k.bootstrap(), "--entity-type", "groups", "--entity-name", k.prefix + "-g"}
	out, err := k.tool(ctx, "", "kafka-configs", append(grp, "--alter", "--add-config", "consumer.session.timeout.ms=50000,consumer.heartbeat.interval.ms=6000")...)
	if err != nil {
		return err
	}
	if err := expect("groups --alter --add-config", out, `Completed updating config for group `+k.prefix+`-g`); err != nil {
		return err
	}
	describe := func(what string, patterns ...string) error {
		return eventually(ctx, 10*time.Second, func() error {
			out, err := k.tool(ctx, "", "kafka-configs", append(grp, "--describe")...)
			if err != nil {
				return err
			}
			return expect(what, out, patterns...)
		})
	}
	if err := describe("groups --describe", `consumer\.session\.timeout\.ms=50000`, `consumer\.heartbeat\.interval\.ms=6000`); err != nil {
		return err
	}
	if _, err := k.tool(ctx, "", "kafka-configs", append(grp, "--alter", "--delete-config", "consumer.heartbeat.interval.ms")...); err != nil {
		return err
	}
	if err := eventually(ctx, 10*time.Second, func() error {
		out, err := k.tool(ctx, "", "kafka-configs", append(grp, "--describe")...)
		if err != nil {
			return err
		}
		if err := expect("after --delete-config", out, `consumer\.session\.timeout\.ms=50000`); err != nil {
			return err
		}
		return notExpect("after --delete-config", out, `consumer\.heartbeat\.interval\.ms=6000`)
	}); err != nil {
		return err
	}
	// Kafka's default bounds: session timeouts from 45 to 60 seconds.
	out, err = k.toolFails(ctx, "kafka-configs", append(grp, "--alter", "--add-config", "consumer.session.timeout.ms=1000")...)
	if err != nil {
		return err
	}
	if err := expect("--add-config consumer.session.timeout.ms=1000", out, `InvalidConfigurationException|must be in the range 45000 to 60000`); err != nil {
		return err
	}
	out, err = k.toolFails(ctx, "kafka-configs", append(grp, "--alter", "--add-config", "consumer.no.such.key=1")...)
	if err != nil {
		return err
	}
	return expect("--add-config consumer.no.such.key=1", out, `InvalidConfigurationException|Unknown group config name`)
}
