package config

// The replica selectors of replica.selector.class (KIP-392), by Kafka's
// class names: only these two are built in, so any other name is refused
// at start-up rather than accepted and ignored.
const (
	LeaderSelectorClass    = "org.apache.kafka.common.replica.LeaderSelector"
	RackAwareSelectorClass = "org.apache.kafka.common.replica.RackAwareReplicaSelector"
)
