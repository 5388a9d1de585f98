package config

const maxLong = "9223372036854775807"
const maxInt = "2147483647"

// brokerDefs are the broker (server.properties) configs, with Kafka's names
// and defaults. Configs a topic can override appear in topicDefs with
// BrokerKey pointing here.
var brokerDefs = []Def{
	// Roles, identity and listeners.
	def("process.roles", TypeList, "", "The roles this process plays: broker, controller, or both.").noDefault().rule(listOf("broker", "controller")),
	def("node.id", TypeInt, "-1", "The node id of this process; must be unique in the cluster.").rule(atLeast(-1)),
	def("listeners", TypeList, "PLAINTEXT://:9092", "Comma-separated NAME://host:port listeners to bind."),
	def("advertised.listeners", TypeList, "", "Listeners published to clients, if different from listeners.").noDefault(),
	def("controller.listener.names", TypeList, "", "Names of the listeners used by the controller.").noDefault(),
	def("inter.broker.listener.name", TypeString, "", "Listener brokers use to talk to each other.").noDefault(),
	def("listener.security.protocol.map", TypeList, "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL", "Listener name to security protocol."),
	def("controller.quorum.voters", TypeList, "", "Controller voters as id@host:port, comma-separated (a static quorum)."),
	def("controller.quorum.bootstrap.servers", TypeList, "", "Controllers to find the quorum through, host:port comma-separated (a dynamic quorum, KIP-853); used when controller.quorum.voters is empty."),
	def("broker.rack", TypeString, "", "Rack of this broker, for rack-aware replica placement.").noDefault(),
	def("replica.selector.class", TypeClass, "", "Picks the replica a consumer reads from (KIP-392): empty or "+LeaderSelectorClass+" for the leader, "+RackAwareSelectorClass+" for an in-sync replica in the consumer's client.rack.").noDefault().rule(oneOf("", LeaderSelectorClass, RackAwareSelectorClass)),

	// Storage locations.
	def("log.dirs", TypeList, "", "Directories holding partition data.").noDefault(),
	def("log.dir", TypeString, "/tmp/kafka-logs", "Data directory, used when log.dirs is not set."),
	def("metadata.log.dir", TypeString, "", "Directory of the __cluster_metadata log; defaults to the first log dir.").noDefault(),

	// Network.
	def("socket.request.max.bytes", TypeInt, "104857600", "Largest request frame accepted; larger frames close the connection.").rule(atLeast(1)),
	def("max.request.partition.size.limit", TypeInt, "2000", "Most partitions one DescribeTopicPartitions answer holds (KIP-966).").rule(atLeast(1)),
	def("queued.max.request.bytes", TypeLong, "-1", "Bytes of requests read and not yet answered, over all connections; a connection whose next request does not fit waits. -1: an eighth of the memory available (GOMEMLIMIT, cgroup or physical), between two requests of socket.request.max.bytes and 1 GiB.").rule(atLeast(-1)),
	def("queued.max.inflated.bytes", TypeLong, "-1", "Bytes of compressed record batches being inflated at once to validate them, over all connections (Spool's own key); a request whose batch does not fit waits up to its timeout, then gets REQUEST_TIMED_OUT. -1: a thirty-second of the memory available, between 256 MiB and 512 MiB.").rule(atLeast(-1)),
	def("max.connections", TypeInt, maxInt, "Most connections the broker accepts at once over all listeners except the inter-broker one; more are closed at once. As listener.name.<l>.max.connections, the most on listener l (the inter-broker one too), in addition to the broker-wide limit.").rule(atLeast(0)).perListener(),
	def("max.connections.per.ip", TypeInt, maxInt, "Most connections from one IP address; more are closed at once.").rule(atLeast(0)),
	def("max.connections.per.ip.overrides", TypeString, "", "Per-IP or per-host limits that replace max.connections.per.ip, as host:count,ip:count.").rule(connectionOverrides),
	def("max.connection.creation.rate", TypeInt, maxInt, "New connections per second the broker accepts over all listeners but the inter-broker one; faster, accepting is delayed.").rule(atLeast(0)).dynamic(),
	def("connections.max.idle.ms", TypeLong, "600000", "Idle time after which a connection with nothing in flight is closed.").rule(atLeast(1)),
	def("socket.request.read.timeout.ms", TypeLong, "30000", "Longest a request frame may take to arrive once its first bytes did (Spool's own key: slow senders are closed).").rule(atLeast(1)),
	def("num.network.threads", TypeInt, "3", "Accepted for compatibility; connections each get their own goroutines.").rule(atLeast(1)),
	def("num.io.threads", TypeInt, "8", "Accepted for compatibility; requests are served on the connection's goroutines.").rule(atLeast(1)),

	// Replication throttles (the topics' *.replication.throttled.replicas
	// name the partitions they apply to).
	def("leader.replication.throttled.rate", TypeLong, maxLong, "Bytes per second a leader sends to out-of-sync followers of throttled partitions.").rule(atLeast(0)).dynamic(),
	def("follower.replication.throttled.rate", TypeLong, maxLong, "Bytes per second an out-of-sync follower fetches for throttled partitions.").rule(atLeast(0)).dynamic(),
	def("replication.quota.window.num", TypeInt, "11", "Samples kept to measure replication throttles.").rule(atLeast(1)),
	def("replication.quota.window.size.seconds", TypeInt, "1", "Length of one replication throttle sample.").rule(atLeast(1)),

	// Client quotas.
	def("quota.window.num", TypeInt, "11", "Samples kept to measure a client's rate against its quota.").rule(atLeast(1)),
	def("quota.window.size.seconds", TypeInt, "1", "Length of one quota sample.").rule(atLeast(1)),

	// Topics.
	def("num.partitions", TypeInt, "1", "Default partition count for auto-created topics.").rule(atLeast(1)).dynamic(),
	def("default.replication.factor", TypeInt, "1", "Default replication factor for auto-created topics.").rule(atLeast(1)),
	def("auto.create.topics.enable", TypeBoolean, "true", "Create a topic when a client asks for metadata of a missing one."),
	def("delete.topic.enable", TypeBoolean, "true", "Allow topics to be deleted."),
	def("message.max.bytes", TypeInt, "1048588", "Largest record batch accepted.").rule(atLeast(0)).dynamic(),
	def("compression.type", TypeString, "producer", "Final compression of a topic's data.").rule(oneOf("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")).dynamic(),
	def("min.insync.replicas", TypeInt, "1", "Replicas that must acknowledge an acks=all write.").rule(atLeast(1)).dynamic(),
	def("unclean.leader.election.enable", TypeBoolean, "false", "Allow an out-of-sync replica to become leader.").dynamic(),

	// Log segments, indexes, flushing.
	def("log.segment.bytes", TypeInt, "1073741824", "Size at which a segment rolls.").rule(atLeast(14)).dynamic(),
	def("log.roll.ms", TypeLong, "", "Age at which a segment rolls; overrides log.roll.hours.").noDefault().rule(atLeast(1)).dynamic(),
	def("log.roll.hours", TypeInt, "168", "Age in hours at which a segment rolls.").rule(atLeast(1)),
	def("log.roll.jitter.ms", TypeLong, "0", "Random jitter subtracted from the roll age.").rule(atLeast(0)).dynamic(),
	def("log.index.interval.bytes", TypeInt, "4096", "Bytes between offset index entries.").rule(atLeast(0)).dynamic(),
	def("log.index.size.max.bytes", TypeInt, "10485760", "Largest offset or time index file.").rule(atLeast(4)).dynamic(),
	def("log.flush.interval.messages", TypeLong, maxLong, "Records appended before a forced fsync.").rule(atLeast(1)).dynamic(),
	def("log.flush.interval.ms", TypeLong, "", "Time before a forced fsync of appended records.").noDefault().rule(atLeast(0)).dynamic(),
	def("log.preallocate", TypeBoolean, "false", "Accepted for compatibility; segments are never preallocated.").dynamic(),
	def("log.segment.delete.delay.ms", TypeLong, "60000", "Delay before a deleted segment's files are removed.").rule(atLeast(0)).dynamic(),

	// Retention.
	def("log.retention.ms", TypeLong, "", "Age after which closed segments are deleted; -1 keeps them forever.").noDefault().rule(atLeast(-1)).dynamic(),
	def("log.retention.minutes", TypeInt, "", "Retention in minutes, used when log.retention.ms is not set.").noDefault().rule(atLeast(-1)),
	def("log.retention.hours", TypeInt, "168", "Retention in hours, used when neither ms nor minutes is set.").rule(atLeast(-1)),
	def("log.retention.bytes", TypeLong, "-1", "Size per partition beyond which old segments are deleted.").dynamic(),
	def("log.retention.check.interval.ms", TypeLong, "300000", "How often retention runs.").rule(atLeast(1)),

	// Timestamps.
	def("log.message.timestamp.type", TypeString, "CreateTime", "CreateTime or LogAppendTime.").rule(oneOf("CreateTime", "LogAppendTime")).dynamic(),
	def("log.message.timestamp.before.max.ms", TypeLong, maxLong, "How far in the past a record timestamp may be.").rule(atLeast(0)).dynamic(),
	def("log.message.timestamp.after.max.ms", TypeLong, "3600000", "How far in the future a record timestamp may be.").rule(atLeast(0)).dynamic(),

	// Compaction.
	def("log.cleanup.policy", TypeList, "delete", "delete, compact, or both.").rule(listOf("delete", "compact")).dynamic(),
	def("log.cleaner.enable", TypeBoolean, "true", "Run the log cleaner for compacted topics."),
	def("log.cleaner.threads", TypeInt, "1", "Cleaner threads.").rule(atLeast(0)).dynamic(),
	def("log.cleaner.backoff.ms", TypeLong, "15000", "Sleep when no log needs cleaning.").rule(atLeast(0)),
	def("log.cleaner.dedupe.buffer.size", TypeLong, "134217728", "Memory for the cleaner's offset map.").rule(atLeast(0)).dynamic(),
	def("log.cleaner.min.cleanable.ratio", TypeDouble, "0.5", "Dirty ratio at which a log is cleaned.").rule(betweenFloat(0, 1)).dynamic(),
	def("log.cleaner.min.compaction.lag.ms", TypeLong, "0", "Minimum age of a record before it may be compacted.").rule(atLeast(0)).dynamic(),
	def("log.cleaner.max.compaction.lag.ms", TypeLong, maxLong, "Maximum age of an uncompacted record.").rule(atLeast(1)).dynamic(),
	def("log.cleaner.delete.retention.ms", TypeLong, "86400000", "How long tombstones are kept after cleaning.").rule(atLeast(0)).dynamic(),

	// KRaft.
	def("replica.high.watermark.checkpoint.interval.ms", TypeInt, "5000", "How often each log dir's replication-offset-checkpoint (the partitions' high watermarks) is written.").rule(atLeast(1)),
	def("broker.heartbeat.interval.ms", TypeInt, "2000", "Interval between broker heartbeats to the controller.").rule(atLeast(1)),
	def("broker.session.timeout.ms", TypeInt, "9000", "A broker missing heartbeats this long is fenced.").rule(atLeast(1)),
	def("controller.quorum.election.timeout.ms", TypeInt, "1000", "Raft election timeout.").rule(atLeast(1)),
	def("controller.quorum.fetch.timeout.ms", TypeInt, "2000", "Time without contact from the leader before a voter campaigns.").rule(atLeast(1)),
	def("controller.quorum.request.timeout.ms", TypeInt, "2000", "Timeout of controller quorum requests.").rule(atLeast(1)),
	def("metadata.log.max.record.bytes.between.snapshots", TypeLong, "20971520", "Metadata log bytes between snapshots.").rule(atLeast(1)),
	def("metadata.log.segment.bytes", TypeInt, "1073741824", "Segment size of the metadata log.").rule(atLeast(12)),
	def("metadata.max.retention.ms", TypeLong, "604800000", "Retention of metadata log segments behind the newest snapshot."),

	// Replication.
	def("replica.lag.time.max.ms", TypeLong, "30000", "A follower not caught up this long leaves the ISR.").rule(atLeast(1)),
	def("replica.fetch.max.bytes", TypeInt, "1048576", "Bytes a follower fetches per partition.").rule(atLeast(0)),
	def("replica.fetch.wait.max.ms", TypeInt, "500", "Longest wait of a follower fetch.").rule(atLeast(0)),
	def("auto.leader.rebalance.enable", TypeBoolean, "true", "Move leadership back to preferred replicas."),
	def("leader.imbalance.check.interval.seconds", TypeLong, "300", "How often leadership balance is checked.").rule(atLeast(1)),

	// Groups.
	def("offsets.topic.num.partitions", TypeInt, "50", "Partitions of __consumer_offsets.").rule(atLeast(1)),
	def("offsets.topic.replication.factor", TypeShort, "3", "Replication factor of __consumer_offsets (capped at the broker count).").rule(atLeast(1)),
	def("offsets.topic.segment.bytes", TypeInt, "104857600", "Segment size of __consumer_offsets.").rule(atLeast(1)),
	def("offsets.retention.minutes", TypeInt, "10080", "How long offsets of an empty group are kept.").rule(atLeast(1)),
	def("offsets.retention.check.interval.ms", TypeLong, "600000", "How often expired offsets are removed.").rule(atLeast(1)),
	def("offsets.commit.timeout.ms", TypeInt, "5000", "Timeout of an offset commit's write.").rule(atLeast(1)),
	def("group.min.session.timeout.ms", TypeInt, "6000", "Smallest session timeout a member may ask for."),
	def("group.max.session.timeout.ms", TypeInt, "1800000", "Largest session timeout a member may ask for."),
	def("group.initial.rebalance.delay.ms", TypeInt, "3000", "Wait for more members before the first rebalance of an empty group."),
	def("group.max.size", TypeInt, maxInt, "Most members a group may have.").rule(atLeast(1)),
	def("group.coordinator.rebalance.protocols", TypeList, "classic,consumer", "Group protocols the coordinator serves: classic (JoinGroup/SyncGroup), consumer (KIP-848's ConsumerGroupHeartbeat).").rule(listOf("classic", "consumer")),
	def("group.consumer.session.timeout.ms", TypeInt, "45000", "Time after which a consumer-protocol member that stopped heartbeating is removed.").rule(atLeast(1)),
	def("group.consumer.heartbeat.interval.ms", TypeInt, "5000", "Heartbeat interval given to consumer-protocol members.").rule(atLeast(1)),
	def("group.consumer.min.session.timeout.ms", TypeInt, "45000", "Smallest consumer.session.timeout.ms a group may set.").rule(atLeast(1)),
	def("group.consumer.max.session.timeout.ms", TypeInt, "60000", "Largest consumer.session.timeout.ms a group may set.").rule(atLeast(1)),
	def("group.consumer.min.heartbeat.interval.ms", TypeInt, "5000", "Smallest consumer.heartbeat.interval.ms a group may set.").rule(atLeast(1)),
	def("group.consumer.max.heartbeat.interval.ms", TypeInt, "15000", "Largest consumer.heartbeat.interval.ms a group may set.").rule(atLeast(1)),
	def("group.consumer.assignment.interval.ms", TypeInt, "1000", "Least time between two target assignments of a consumer-protocol group: member changes within it are assigned together.").rule(atLeast(0)),
	def("group.consumer.min.assignment.interval.ms", TypeInt, "0", "Smallest consumer.assignment.interval.ms a group may set.").rule(atLeast(0)),
	def("group.consumer.max.assignment.interval.ms", TypeInt, "15000", "Largest consumer.assignment.interval.ms a group may set.").rule(atLeast(0)),
	def("group.consumer.max.size", TypeInt, maxInt, "Most members a consumer-protocol group may have.").rule(atLeast(1)),
	def("group.consumer.assignors", TypeList, "uniform,range", "Server-side assignors of consumer-protocol groups, the first the default: uniform, range (or Kafka's class names for them).").rule(listOf("uniform", "range", "org.apache.kafka.coordinator.group.assignor.UniformAssignor", "org.apache.kafka.coordinator.group.assignor.RangeAssignor")),

	// Share groups (KIP-932).
	def("group.share.session.timeout.ms", TypeInt, "45000", "Time after which a share group member that stopped heartbeating is removed.").rule(atLeast(1)),
	def("group.share.heartbeat.interval.ms", TypeInt, "5000", "Heartbeat interval given to share group members.").rule(atLeast(1)),
	def("group.share.max.size", TypeInt, "200", "Most members a share group may have.").rule(between(1, 1000)),
	def("group.share.record.lock.duration.ms", TypeInt, "30000", "How long a share group member holds the records it acquired before they are released for redelivery.").rule(between(1000, 3600000)),
	def("group.share.min.record.lock.duration.ms", TypeInt, "15000", "Smallest group.share.record.lock.duration.ms allowed.").rule(between(1000, 30000)),
	def("group.share.max.record.lock.duration.ms", TypeInt, "60000", "Largest group.share.record.lock.duration.ms allowed.").rule(between(30000, 3600000)),
	def("group.share.delivery.count.limit", TypeInt, "5", "Deliveries of a record after which it is archived instead of redelivered.").rule(between(2, 10)),
	def("group.share.partition.max.record.locks", TypeInt, "2000", "Most records of one share-partition in flight at once.").rule(between(100, 10000)),

	// Transactions.
	def("transaction.state.log.num.partitions", TypeInt, "50", "Partitions of __transaction_state.").rule(atLeast(1)),
	def("transaction.state.log.replication.factor", TypeShort, "3", "Replication factor of __transaction_state (capped at the broker count).").rule(atLeast(1)),
	def("transaction.state.log.min.isr", TypeInt, "2", "min.insync.replicas of __transaction_state.").rule(atLeast(1)),
	def("transaction.max.timeout.ms", TypeInt, "900000", "Largest transaction timeout a producer may ask for.").rule(atLeast(1)),
	def("transaction.partition.verification.enable", TypeBoolean, "true", "Check with the transaction coordinator that a partition is part of the producer's open transaction before its first transactional batch there (KIP-890), so a late or stray write cannot leave a hanging transaction.").dynamic(),
	def("transactional.id.expiration.ms", TypeInt, "604800000", "Idle time after which a transactional id expires.").rule(atLeast(1)),
	def("transaction.state.log.segment.bytes", TypeInt, "104857600", "Segment size of __transaction_state.").rule(atLeast(1)),
	def("transaction.abort.timed.out.transaction.cleanup.interval.ms", TypeInt, "10000", "How often transactions past their timeout are aborted.").rule(atLeast(1)),
	def("transaction.remove.expired.transaction.cleanup.interval.ms", TypeInt, "3600000", "How often expired transactional ids are removed.").rule(atLeast(1)),
	def("producer.id.expiration.ms", TypeInt, "86400000", "Idle time after which an idempotent producer's state expires.").rule(atLeast(1)),
}
