package conformance

// deviations are the known differences from Apache Kafka the catalogue
// finds, by script/step, each with its reason: deliberate choices (where
// Kafka is clumsy, Spool does better and the README says so) and Kafka
// features that an open issue adds. A difference that is a Spool bug is
// fixed in Spool, not listed here.
var deviations = map[string]string{
	"txn-produce-before-add/produce-before-add":    "#23: Kafka 4.4 runs transaction.version 2 (KIP-890 part 2), where Produce v12 adds the partition to the transaction itself; Spool serves the protocol before it and refuses a transactional batch for a partition AddPartitionsToTxn did not add (INVALID_TXN_STATE)",
	"produce-min-isr/acks-all":                     "deliberate: Kafka 4.4 acknowledges acks=all on a topic whose replication factor (1) is below its min.insync.replicas (2), as if the minimum were capped at the replication factor; Spool refuses with NOT_ENOUGH_REPLICAS, as Kafka 3 did: a topic that asks for two copies never gets an acknowledgement for one",
	"produce-min-isr/acks-1":                       "follows from produce-min-isr/acks-all: Kafka appended the acks=all batch, so its next offset is 1",
	"incremental-alter-configs/broker-unknown-key": "deliberate: Kafka 4.4 stores any broker config name dynamically, so a misspelt key is accepted and does nothing; Spool refuses an unknown name with INVALID_CONFIG",
	"share-group/fetch-no-group":                   "deliberate: Kafka 4.4 answers a ShareFetch without a group id with UNKNOWN_SERVER_ERROR on each partition (an exception inside the broker); Spool answers INVALID_REQUEST for the request",
	"list-config-resources/broker-loggers":         "deliberate: Spool's log levels are set on its HTTP listener (/v1/loggers), not as BROKER_LOGGER configs, so ListConfigResources lists no broker-logger resource",
	"describe-broker-configs/chosen-keys":          "deliberate: Spool applies num.partitions (the partition count of auto-created topics) dynamically, so it is not read-only as in Kafka, where it needs a restart",
}

// missingConfigs are topic configs Kafka 4.4 has and Spool does not yet;
// the catalogue leaves them out of every config list it compares (and
// out of the lists' lengths), so each one is named here once with the open
// issue that adds it.
var missingConfigs = map[string]string{
	"remote.copy.lag.bytes":               "#24 tiered storage",
	"remote.copy.lag.ms":                  "#24 tiered storage",
	"remote.log.copy.disable":             "#24 tiered storage",
	"remote.log.delete.on.disable":        "#24 tiered storage",
	"errors.deadletterqueue.group.enable": "#23 protocol parity: Kafka 4.4's dead-letter queue for Streams groups (KIP-1034)",
	"max.decompressed.message.bytes":      "#23 protocol parity: Kafka 4.4's bound on a decompressed batch",
	"compression.gzip.level":              "#23 protocol parity: codec levels (KIP-390) apply when a broker recompresses to the topic's compression.type, which Spool does not yet do",
	"compression.lz4.level":               "#23 protocol parity: as compression.gzip.level",
	"compression.zstd.level":              "#23 protocol parity: as compression.gzip.level",
	// Group configs of share groups and of Kafka Streams groups (KIP-1071),
	// refused until those groups are served.
	"share.session.timeout.ms":                  "#26 share groups",
	"share.heartbeat.interval.ms":               "#26 share groups",
	"share.isolation.level":                     "#26 share groups",
	"share.partition.max.record.locks":          "#26 share groups",
	"share.assignment.interval.ms":              "#26 share groups",
	"share.renew.acknowledge.enable":            "#26 share groups",
	"errors.deadletterqueue.topic.name":         "#26 share groups: the dead-letter queue of share groups (KIP-1191)",
	"errors.deadletterqueue.copy.record.enable": "#26 share groups: as errors.deadletterqueue.topic.name",
	"streams.session.timeout.ms":                "#23 protocol parity: Kafka Streams groups (KIP-1071)",
	"streams.heartbeat.interval.ms":             "#23 protocol parity: Kafka Streams groups (KIP-1071)",
	"streams.num.standby.replicas":              "#23 protocol parity: Kafka Streams groups (KIP-1071)",
	"streams.initial.rebalance.delay.ms":        "#23 protocol parity: Kafka Streams groups (KIP-1071)",
	"streams.assignment.interval.ms":            "#23 protocol parity: Kafka Streams groups (KIP-1071)",
	"streams.assignor.name":                     "#23 protocol parity: Kafka Streams groups (KIP-1071)",
	"streams.rack.aware.assignment.tags":        "#23 protocol parity: Kafka Streams groups (KIP-1071)",
}
