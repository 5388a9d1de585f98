package clients_test

import (
	"context"
	"fmt"
	"regexp"
	"time"
)

var toolQuotas = &check{
	name:    "kafka-configs-quotas",
	family:  "Kafka tools",
	what:    "client quotas: users, user+clients and ips entities --add-config, --describe, --delete-config, a fractional byte rate refused",
	timeout: 3 * time.Minute,
	run:     runToolQuotas,
}

func runToolQuotas(ctx context.Context, k *checkCell) error {
	bs := k.bootstrap()
	user := []string{"--bootstrap-server", bs, "--entity-type", "users", "--entity-name", k.prefix + "-u"}
	both := append(append([]string{}, user...), "--entity-type", "clients", "--entity-name", k.prefix+"-c")
	out, err := k.tool(ctx, "", "kafka-configs", append(user, "--alter", "--add-config", "producer_byte_rate=1048576,consumer_byte_rate=2097152")...)
	if err != nil {
		return err
	}
	if err := expect("users --alter --add-config", out, `Completed updating config for user `+k.prefix+`-u`); err != nil {
		return err
	}
	if _, err := k.tool(ctx, "", "kafka-configs", append(both, "--alter", "--add-config", "request_percentage=50")...); err != nil {
		return err
	}
	describe := func(what string, args []string, patterns ...string) error {
		return eventually(ctx, 10*time.Second, func() error {
			out, err := k.tool(ctx, "", "kafka-configs", append(args, "--describe")...)
			if err != nil {
				return err
			}
			return expect(what, out, patterns...)
		})
	}
	if err := describe("users --describe", user, `consumer_byte_rate=2097152(\.0)?`, `producer_byte_rate=1048576(\.0)?`); err != nil {
		return err
	}
	if err := describe("users+clients --describe", both, `request_percentage=50(\.0)?`); err != nil {
		return err
	}
	if _, err := k.tool(ctx, "", "kafka-configs", append(user, "--alter", "--delete-config", "producer_byte_rate")...); err != nil {
		return err
	}
	if err := eventually(ctx, 10*time.Second, func() error {
		out, err := k.tool(ctx, "", "kafka-configs", append(user, "--describe")...)
		if err != nil {
			return err
		}
		if err := expect("after --delete-config", out, `consumer_byte_rate=2097152`); err != nil {
			return err
		}
		return notExpect("after --delete-config", out, `producer_byte_rate`)
	}); err != nil {
		return err
	}
	out, err = k.toolFails(ctx, "kafka-configs", append(user, "--alter", "--add-config", "producer_byte_rate=1.5")...)
	if err != nil {
		return err
	}
	if err := expect("--add-config producer_byte_rate=1.5", out, `InvalidRequestException|must be a Long`); err != nil {
		return err
	}
	// An address no test connects from.
	ip := []string{"--bootstrap-server", bs, "--entity-type", "ips", "--entity-name", "192.0.2.7"}
	if _, err := k.tool(ctx, "", "kafka-configs", append(ip, "--alter", "--add-config", "connection_creation_rate=10")...); err != nil {
		return err
	}
	return describe("ips --describe", ip, `connection_creation_rate=10`)
}

// notExpect fails when out matches pattern.
func notExpect(what, out, pattern string) error {
	if regexp.MustCompile(pattern).MatchString(out) {
		return fmt.Errorf("%s: output matches %q:\n%s", what, pattern, tail(out, 600))
	}
	return nil
}
