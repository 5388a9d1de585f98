package conformance

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// describedCompare are DescribeConfigs' deterministic fields: names,
// values (defaults), sources, read-only and sensitive flags, synonyms.
var describedCompare = []string{"**ErrorCode", "Resources[*].Configs.len", "Resources[*].Configs[*].Value",
	"Resources[*].Configs[*].Source", "Resources[*].Configs[*].ReadOnly", "Resources[*].Configs[*].IsSensitive",
	"Resources[*].Configs[*].Synonyms**", "Resources[*].Configs[*].ConfigType"}

const (
	topicResource  = kmsg.ConfigResourceTypeTopic
	brokerResource = kmsg.ConfigResourceTypeBroker
)

func describeConfigs(rt kmsg.ConfigResourceType, name string, synonyms bool, keys ...string) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrDescribeConfigsRequest()
		req.IncludeSynonyms = synonyms
		r := kmsg.NewDescribeConfigsRequestResource()
		r.ResourceType, r.ResourceName = rt, name
		if keys != nil {
			r.ConfigNames = keys
		}
		req.Resources = append(req.Resources, r)
		return req
	}
}

type op struct {
	key   string
	value *string
	op    kmsg.IncrementalAlterConfigOp
}

func set(k, val string) op { return op{key: k, value: &val, op: kmsg.IncrementalAlterConfigOpSet} }
func unset(k string) op    { return op{key: k, op: kmsg.IncrementalAlterConfigOpDelete} }
func appendOp(k, val string) op {
	return op{key: k, value: &val, op: kmsg.IncrementalAlterConfigOpAppend}
}
func subtract(k, val string) op {
	return op{key: k, value: &val, op: kmsg.IncrementalAlterConfigOpSubtract}
}

func incrementalAlter(rt kmsg.ConfigResourceType, name string, validateOnly bool, ops ...op) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrIncrementalAlterConfigsRequest()
		req.ValidateOnly = validateOnly
		r := kmsg.NewIncrementalAlterConfigsRequestResource()
		r.ResourceType, r.ResourceName = rt, name
		for _, o := range ops {
			c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
			c.Name, c.Value, c.Op = o.key, o.value, o.op
			r.Configs = append(r.Configs, c)
		}
		req.Resources = append(req.Resources, r)
		return req
	}
}

func alterConfigs(rt kmsg.ConfigResourceType, name string, validateOnly bool, kv ...string) func(*side) kmsg.Request {
	return func(*side) kmsg.Request {
		req := kmsg.NewPtrAlterConfigsRequest()
		req.ValidateOnly = validateOnly
		r := kmsg.NewAlterConfigsRequestResource()
		r.ResourceType, r.ResourceName = rt, name
		for i := 0; i+1 < len(kv); i += 2 {
			c := kmsg.NewAlterConfigsRequestResourceConfig()
			c.Name, c.Value = kv[i], kmsg.StringPtr(kv[i+1])
			r.Configs = append(r.Configs, c)
		}
		req.Resources = append(req.Resources, r)
		return req
	}
}

// brokerKeys are broker configs both servers have, whose values do not
// depend on where the server runs (not log.dirs, listeners, node.id).
var brokerKeys = []string{"auto.create.topics.enable", "num.partitions", "default.replication.factor",
	"log.retention.hours", "log.retention.ms", "log.retention.bytes", "log.segment.bytes", "log.roll.hours",
	"log.cleanup.policy", "log.cleaner.enable", "log.cleaner.threads", "message.max.bytes", "min.insync.replicas",
	"compression.type", "offsets.retention.minutes", "group.min.session.timeout.ms", "group.max.session.timeout.ms",
	"transaction.max.timeout.ms", "delete.topic.enable", "unclean.leader.election.enable", "log.flush.interval.messages",
	"replica.lag.time.max.ms", "socket.request.max.bytes", "log.message.timestamp.type", "offsets.topic.num.partitions",
	"transaction.state.log.num.partitions", "group.initial.rebalance.delay.ms", "process.roles", "log.index.interval.bytes"}

func configScripts() []script {
	return []script{
		{name: "describe-topic-configs", steps: append(newTopic(topicSpec{name: "dc-a", configs: map[string]string{"retention.ms": "3600000"}}),
			step{name: "all", req: describeConfigs(topicResource, "dc-a", false), compare: describedCompare, ignore: []string{"**Synonyms**"}},
			step{name: "all-with-synonyms", req: describeConfigs(topicResource, "dc-a", true), compare: describedCompare},
			step{name: "some-keys", req: describeConfigs(topicResource, "dc-a", true, "retention.ms", "cleanup.policy", "segment.bytes"), compare: describedCompare},
			step{name: "unknown-key", req: describeConfigs(topicResource, "dc-a", true, "no.such.key"), compare: describedCompare},
			step{name: "unknown-topic", req: describeConfigs(topicResource, "dc-never", false), compare: describedCompare},
			step{name: "invalid-topic-name", req: describeConfigs(topicResource, "dc/bad", false), compare: describedCompare},
		)},
		{name: "describe-broker-configs", steps: []step{
			{name: "chosen-keys", req: describeConfigs(brokerResource, "1", true, brokerKeys...), compare: describedCompare},
			{name: "cluster-default", req: describeConfigs(brokerResource, "", true), compare: describedCompare},
			{name: "other-broker", req: describeConfigs(brokerResource, "2", false, "num.partitions"), compare: describedCompare},
			{name: "not-a-broker-id", req: describeConfigs(brokerResource, "abc", false, "num.partitions"), compare: describedCompare},
			{name: "unknown-resource-type", req: describeConfigs(kmsg.ConfigResourceType(42), "x", false), compare: describedCompare},
		}},
		{name: "incremental-alter-configs", steps: append(newTopic(topicSpec{name: "ia-a"}),
			step{name: "set", req: incrementalAlter(topicResource, "ia-a", false, set("retention.ms", "7200000"), set("cleanup.policy", "compact"))},
			step{settle: true, name: "after-set", req: describeConfigs(topicResource, "ia-a", true, "retention.ms", "cleanup.policy"), compare: describedCompare, wait: true},
			step{name: "append", req: incrementalAlter(topicResource, "ia-a", false, appendOp("cleanup.policy", "delete"))},
			step{settle: true, name: "after-append", req: describeConfigs(topicResource, "ia-a", false, "cleanup.policy"), compare: describedCompare},
			step{name: "subtract", req: incrementalAlter(topicResource, "ia-a", false, subtract("cleanup.policy", "compact"))},
			step{settle: true, name: "after-subtract", req: describeConfigs(topicResource, "ia-a", false, "cleanup.policy"), compare: describedCompare},
			step{name: "delete", req: incrementalAlter(topicResource, "ia-a", false, unset("retention.ms"))},
			step{settle: true, name: "after-delete", req: describeConfigs(topicResource, "ia-a", true, "retention.ms"), compare: describedCompare},
			step{name: "unknown-key", req: incrementalAlter(topicResource, "ia-a", false, set("no.such.key", "1"))},
			step{name: "bad-value", req: incrementalAlter(topicResource, "ia-a", false, set("retention.ms", "soon"))},
			step{name: "segment-bytes-below-min", req: incrementalAlter(topicResource, "ia-a", false, set("segment.bytes", "1000"))},
			step{name: "append-to-scalar", req: incrementalAlter(topicResource, "ia-a", false, appendOp("retention.ms", "5"))},
			step{name: "unknown-topic", req: incrementalAlter(topicResource, "ia-never", false, set("retention.ms", "1000"))},
			step{name: "validate-only", req: incrementalAlter(topicResource, "ia-a", true, set("retention.ms", "1000"))},
			step{settle: true, name: "after-validate-only", req: describeConfigs(topicResource, "ia-a", false, "retention.ms"), compare: describedCompare},
			step{name: "duplicate-key", req: incrementalAlter(topicResource, "ia-a", false, set("retention.ms", "1000"), set("retention.ms", "2000"))},
			step{name: "broker-dynamic", req: incrementalAlter(brokerResource, "", false, set("log.retention.ms", "86400000"))},
			step{name: "after-broker-dynamic", settle: true, req: describeConfigs(brokerResource, "", true, "log.retention.ms"), compare: describedCompare, wait: true},
			step{name: "topic-sees-broker-default", settle: true, req: describeConfigs(topicResource, "ia-a", true, "retention.ms"), compare: describedCompare},
			step{name: "broker-dynamic-remove", req: incrementalAlter(brokerResource, "", false, unset("log.retention.ms"))},
			step{name: "broker-read-only", req: incrementalAlter(brokerResource, "1", false, set("log.dirs", "/tmp/x"))},
			step{name: "broker-unknown-key", req: incrementalAlter(brokerResource, "1", false, set("no.such.broker.key", "1"))},
		)},
		{name: "alter-configs", steps: append(newTopic(topicSpec{name: "ac-a"}),
			step{name: "set", req: alterConfigs(topicResource, "ac-a", false, "retention.ms", "60000", "max.message.bytes", "2048")},
			step{name: "after-set", settle: true, req: describeConfigs(topicResource, "ac-a", false, "retention.ms", "max.message.bytes", "cleanup.policy"), compare: describedCompare, wait: true},
			step{name: "replace", req: alterConfigs(topicResource, "ac-a", false, "cleanup.policy", "compact")},
			step{name: "after-replace", settle: true, req: describeConfigs(topicResource, "ac-a", false, "retention.ms", "cleanup.policy"), compare: describedCompare},
			step{name: "unknown-key", req: alterConfigs(topicResource, "ac-a", false, "no.such.key", "1")},
			step{name: "bad-value", req: alterConfigs(topicResource, "ac-a", false, "min.insync.replicas", "0")},
			step{name: "unknown-topic", req: alterConfigs(topicResource, "ac-never", false, "retention.ms", "1")},
			step{name: "validate-only", req: alterConfigs(topicResource, "ac-a", true, "retention.ms", "5")},
		)},
	}
}
