package conformance

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

const groupResource = kmsg.ConfigResourceTypeGroupConfig

// groupConfigScripts cover group configs (resource type GROUP, KIP-848):
// any group id has them, bounded by the broker's group.consumer.min/max.*.
func groupConfigScripts() []script {
	const g = "gc-a"
	return []script{
		{name: "group-configs", steps: []step{
			{name: "describe-unset", req: describeConfigs(groupResource, g, true), compare: describedCompare},
			{name: "describe-some-keys", req: describeConfigs(groupResource, g, false, "consumer.session.timeout.ms", "no.such.key"), compare: describedCompare},
			{name: "describe-empty-name", req: describeConfigs(groupResource, "", false), compare: describedCompare},
			{name: "set", req: incrementalAlter(groupResource, g, false, set("consumer.session.timeout.ms", "50000"), set("consumer.heartbeat.interval.ms", "6000"))},
			{name: "after-set", settle: true, req: describeConfigs(groupResource, g, true), compare: describedCompare},
			{name: "assignment-interval-zero", req: incrementalAlter(groupResource, g, false, set("consumer.assignment.interval.ms", "0"))},
			{name: "session-below-min", req: incrementalAlter(groupResource, g, false, set("consumer.session.timeout.ms", "5000"))},
			{name: "heartbeat-above-max", req: incrementalAlter(groupResource, g, false, set("consumer.heartbeat.interval.ms", "60000"))},
			{name: "assignment-interval-negative", req: incrementalAlter(groupResource, g, false, set("consumer.assignment.interval.ms", "-1"))},
			{name: "bad-value", req: incrementalAlter(groupResource, g, false, set("consumer.session.timeout.ms", "soon"))},
			{name: "unknown-key", req: incrementalAlter(groupResource, g, false, set("no.such.key", "1"))},
			{name: "broker-key", req: incrementalAlter(groupResource, g, false, set("group.consumer.session.timeout.ms", "50000"))},
			{name: "empty-name", req: incrementalAlter(groupResource, "", false, set("consumer.session.timeout.ms", "50000"))},
			{name: "duplicate-key", req: incrementalAlter(groupResource, g, false, set("consumer.session.timeout.ms", "50000"), set("consumer.session.timeout.ms", "55000"))},
			{name: "validate-only", req: incrementalAlter(groupResource, g, true, set("consumer.session.timeout.ms", "55000"))},
			{name: "after-validate-only", settle: true, req: describeConfigs(groupResource, g, false, "consumer.session.timeout.ms"), compare: describedCompare},
			{name: "delete", req: incrementalAlter(groupResource, g, false, unset("consumer.heartbeat.interval.ms"), unset("consumer.assignment.interval.ms"))},
			{name: "after-delete", settle: true, req: describeConfigs(groupResource, g, true), compare: describedCompare},
			{name: "delete-group-with-configs-only", req: deleteGroups(g), compare: []string{"**ErrorCode"}},
			{name: "after-delete-group", req: describeConfigs(groupResource, g, false, "consumer.session.timeout.ms"), compare: describedCompare},
			{name: "alter-configs-legacy", req: alterConfigs(groupResource, "gc-b", false, "consumer.session.timeout.ms", "60000")},
			{name: "after-alter-configs-legacy", settle: true, req: describeConfigs(groupResource, "gc-b", false), compare: describedCompare},
			{name: "alter-configs-legacy-out-of-range", req: alterConfigs(groupResource, "gc-b", false, "consumer.session.timeout.ms", "70000")},
		}},
	}
}
