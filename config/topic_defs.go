package config

// topicDefs are the configs a topic may set. A topic key with a BrokerKey
// takes its default from that broker config.
var topicDefs = []Def{
	def("cleanup.policy", TypeList, "delete", "delete, compact, or both.").rule(listOf("delete", "compact")).broker("log.cleanup.policy"),
	def("compression.type", TypeString, "producer", "Final compression of the topic's data.").rule(oneOf("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")).broker("compression.type"),
	def("delete.retention.ms", TypeLong, "86400000", "How long tombstones are kept after cleaning.").rule(atLeast(0)).broker("log.cleaner.delete.retention.ms"),
	def("file.delete.delay.ms", TypeLong, "60000", "Delay before a deleted segment's files are removed.").rule(atLeast(0)).broker("log.segment.delete.delay.ms"),
	def("flush.messages", TypeLong, maxLong, "Records appended before a forced fsync.").rule(atLeast(1)).broker("log.flush.interval.messages"),
	def("flush.ms", TypeLong, maxLong, "Time before a forced fsync.").rule(atLeast(0)).broker("log.flush.interval.ms"),
	def("index.interval.bytes", TypeInt, "4096", "Bytes between offset index entries.").rule(atLeast(0)).broker("log.index.interval.bytes"),
	def("max.compaction.lag.ms", TypeLong, maxLong, "Maximum age of an uncompacted record.").rule(atLeast(1)).broker("log.cleaner.max.compaction.lag.ms"),
	def("max.message.bytes", TypeInt, "1048588", "Largest record batch accepted.").rule(atLeast(0)).broker("message.max.bytes"),
	def("message.timestamp.type", TypeString, "CreateTime", "CreateTime or LogAppendTime.").rule(oneOf("CreateTime", "LogAppendTime")).broker("log.message.timestamp.type"),
	def("message.timestamp.before.max.ms", TypeLong, maxLong, "How far in the past a record timestamp may be.").rule(atLeast(0)).broker("log.message.timestamp.before.max.ms"),
	def("message.timestamp.after.max.ms", TypeLong, "3600000", "How far in the future a record timestamp may be.").rule(atLeast(0)).broker("log.message.timestamp.after.max.ms"),
	def("min.cleanable.dirty.ratio", TypeDouble, "0.5", "Dirty ratio at which the log is cleaned.").rule(betweenFloat(0, 1)).broker("log.cleaner.min.cleanable.ratio"),
	def("min.compaction.lag.ms", TypeLong, "0", "Minimum age of a record before it may be compacted.").rule(atLeast(0)).broker("log.cleaner.min.compaction.lag.ms"),
	def("min.insync.replicas", TypeInt, "1", "Replicas that must acknowledge an acks=all write.").rule(atLeast(1)).broker("min.insync.replicas"),
	def("preallocate", TypeBoolean, "false", "Accepted for compatibility; segments are never preallocated.").broker("log.preallocate"),
	def("retention.bytes", TypeLong, "-1", "Size beyond which old segments are deleted.").broker("log.retention.bytes"),
	def("retention.ms", TypeLong, "604800000", "Age after which closed segments are deleted; -1 keeps them forever.").rule(atLeast(-1)).broker("log.retention.ms"),
	// Kafka 4 raised the minimum to 1 MiB (KIP-1030); tests that need
	// small segments set internal.segment.bytes, as Kafka's own do.
	def("segment.bytes", TypeInt, "1073741824", "Size at which a segment rolls.").rule(atLeast(1 << 20)).broker("log.segment.bytes"),
	def("internal.segment.bytes", TypeInt, "", "Replaces segment.bytes, without its 1 MiB minimum; for tests.").noDefault().rule(atLeast(14)).internal(),
	def("segment.index.bytes", TypeInt, "10485760", "Largest offset or time index file.").rule(atLeast(4)).broker("log.index.size.max.bytes"),
	def("segment.jitter.ms", TypeLong, "0", "Random jitter subtracted from the roll age.").rule(atLeast(0)).broker("log.roll.jitter.ms"),
	def("segment.ms", TypeLong, "604800000", "Age at which a segment rolls.").rule(atLeast(1)).broker("log.roll.ms"),
	def("unclean.leader.election.enable", TypeBoolean, "false", "Allow an out-of-sync replica to become leader.").broker("unclean.leader.election.enable"),
	// Tiered storage; the rules across keys are CheckTiering's.
	def("remote.storage.enable", TypeBoolean, "false", "Upload closed segments to the object store (needs remote.log.storage.system.enable)."),
	def("local.retention.ms", TypeLong, "-2", "Age after which uploaded segments leave the local disk; -2 follows retention.ms.").rule(atLeast(-2)).broker("log.local.retention.ms"),
	def("local.retention.bytes", TypeLong, "-2", "Local bytes kept once segments are uploaded; -2 follows retention.bytes.").rule(atLeast(-2)).broker("log.local.retention.bytes"),
	def("leader.replication.throttled.replicas", TypeList, "", "Replicas whose replication this topic's leaders throttle to leader.replication.throttled.rate: * or partition:broker pairs.").rule(throttledReplicas),
	def("follower.replication.throttled.replicas", TypeList, "", "Replicas whose fetching followers throttle to follower.replication.throttled.rate: * or partition:broker pairs.").rule(throttledReplicas),
}
