package config

import "fmt"

// groupDefs are the per-group configs Spool honours: Kafka's names, each
// defaulting to the broker config BrokerKey names. Kafka 4.4 also has
// other share.* configs and streams.* and errors.deadletterqueue.* group
// configs; they are refused until Spool honours them, rather than stored
// and ignored.
var groupDefs = []Def{
	def("consumer.session.timeout.ms", TypeInt, "45000", "The timeout to detect client failures when using the consumer group protocol.").
		broker("group.consumer.session.timeout.ms").rule(atLeast(1)),
	def("consumer.heartbeat.interval.ms", TypeInt, "5000", "The heartbeat interval given to the members of a consumer group.").
		broker("group.consumer.heartbeat.interval.ms").rule(atLeast(1)),
	def("consumer.assignment.interval.ms", TypeInt, "1000", "The interval between assignment updates for a consumer group.").
		broker("group.consumer.assignment.interval.ms").rule(atLeast(0)),
	def("share.auto.offset.reset", TypeString, "latest", "Where a share group starts a partition it fetches for the first time: latest, earliest, or by_duration:<ISO-8601 duration> before now.").rule(shareReset),
	def("share.record.lock.duration.ms", TypeInt, "30000", "How long a share group member holds the records it acquired.").
		broker("group.share.record.lock.duration.ms").rule(atLeast(1000)),
	def("share.delivery.count.limit", TypeInt, "5", "Deliveries of a record after which the share group archives it.").
		broker("group.share.delivery.count.limit").rule(between(2, 10)),
}

var groupByName = index(groupDefs, ScopeGroup)

// LookupGroup returns the group config name, or nil if Spool does not know it.
func LookupGroup(name string) *Def { return groupByName[name] }

// GroupDefs returns every group config definition, sorted by name.
func GroupDefs() []*Def { return sorted(groupByName) }

// groupBounds are the broker configs bounding each group config, as Kafka
// bounds them: a group may choose within the cluster's range only.
var groupBounds = map[string][2]string{
	"consumer.session.timeout.ms":     {"group.consumer.min.session.timeout.ms", "group.consumer.max.session.timeout.ms"},
	"consumer.heartbeat.interval.ms":  {"group.consumer.min.heartbeat.interval.ms", "group.consumer.max.heartbeat.interval.ms"},
	"consumer.assignment.interval.ms": {"group.consumer.min.assignment.interval.ms", "group.consumer.max.assignment.interval.ms"},
	"share.record.lock.duration.ms":   {"group.share.min.record.lock.duration.ms", "group.share.max.record.lock.duration.ms"},
}

// CheckGroupBounds checks a group config's value (already valid for its
// type) against the broker's bounds for it, with Kafka's message.
func (c *Config) CheckGroupBounds(name, value string) error {
	b, ok := groupBounds[name]
	if !ok {
		return nil
	}
	var v int64
	if _, err := fmt.Sscan(value, &v); err != nil {
		return err
	}
	lo, hi := c.Int(b[0]), c.Int(b[1])
	if v < lo || v > hi {
		return fmt.Errorf("%s must be in the range %d to %d inclusive", name, lo, hi)
	}
	return nil
}
