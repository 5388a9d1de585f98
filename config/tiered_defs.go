package config

import "strings"

// tieredDefs are the tiered-storage broker configs: Kafka's names for the
// remote log manager (KIP-405), and the names of Aiven's open-source S3
// plugin (under Kafka's rsm.config. prefix) for the object store, so
// existing configs carry over.
var tieredDefs = []Def{
	def("remote.log.storage.system.enable", TypeBoolean, "false", "Turn tiered storage on: topics may then set remote.storage.enable. Controllers check it too."),
	def("remote.log.manager.task.interval.ms", TypeLong, "30000", "How often each partition's closed segments are uploaded and local and remote retention applied.").rule(atLeast(1)),
	def("remote.log.manager.thread.pool.size", TypeInt, "10", "Partitions whose upload and retention run at once.").rule(atLeast(1)),
	def("remote.log.reader.threads", TypeInt, "10", "Remote segment reads served at once; more fetches wait their turn.").rule(atLeast(1)),
	def("log.local.retention.ms", TypeLong, "-2", "Age after which uploaded segments leave the local disk; -2 follows retention.ms.").rule(atLeast(-2)).dynamic(),
	def("log.local.retention.bytes", TypeLong, "-2", "Local bytes kept per partition once segments are uploaded; -2 follows retention.bytes.").rule(atLeast(-2)).dynamic(),

	def("rsm.config.storage.s3.bucket.name", TypeString, "", "Bucket holding remote segments (required with tiered storage).").noDefault(),
	def("rsm.config.storage.s3.endpoint.url", TypeString, "", "S3 endpoint, for S3-compatible stores; empty uses AWS's for the region.").noDefault(),
	def("rsm.config.storage.s3.region", TypeString, "us-east-1", "Bucket region."),
	def("rsm.config.storage.s3.path.style.access.enabled", TypeBoolean, "false", "Address the bucket in the path rather than the host name (most S3-compatible stores need it)."),
	def("rsm.config.storage.aws.access.key.id", TypeString, "", "Access key; without it the SDK's default credential chain is used.").noDefault(),
	def("rsm.config.storage.aws.secret.access.key", TypePassword, "", "Secret key paired with the access key.").noDefault(),
	def("rsm.config.storage.s3.multipart.upload.part.size", TypeInt, "26214400", "Part size of multipart uploads; smaller files go in one PUT.").rule(atLeast(5 << 20)),
	def("rsm.config.storage.s3.api.call.timeout", TypeLong, "30000", "Longest one object-store call may take, retries included, before it fails.").rule(atLeast(1)),
	def("rsm.config.key.prefix", TypeString, "", "Prefix of every object key, e.g. cluster-a/.").noDefault(),
	def("rsm.config.fetch.chunk.size", TypeInt, "4194304", "Bytes read from a remote segment per ranged GET and cached together.").rule(atLeast(64 << 10)),
	def("rsm.config.fetch.chunk.cache.size", TypeLong, "67108864", "Memory for cached remote chunks; the least recently used go first.").rule(atLeast(0)),
}

// isTieredKey reports a key of the remote storage plugin's namespace: an
// unknown one is a typo that would otherwise be ignored.
func isTieredKey(k string) bool { return strings.HasPrefix(k, "rsm.config.") }
