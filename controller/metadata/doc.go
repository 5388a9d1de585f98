// Package metadata owns the contents of the __cluster_metadata log and what
// they add up to.
//
// It has three parts:
//
//   - The record codec: Kafka's metadata records (TopicRecord,
//     PartitionRecord, RegisterBrokerRecord, ...) with Kafka's type numbers,
//     versions and field layouts, framed as Kafka frames them (frame version,
//     type, version, fields). Encode and Decode produce and read the bytes
//     Kafka 4.0 would.
//   - Record batches: AppendRecordBatch and AppendControlBatch write Kafka v2
//     record batches; DecodeBatch reads them back.
//   - The image: an immutable Image of features, brokers, topics, partitions,
//     configs and the producer id block. A Delta replays records on top of an
//     image and Apply yields the next image, sharing everything unchanged, so
//     readers can hold an image through an atomic pointer without locks and a
//     change to one partition of a million costs little.
//
// One batch is one raft entry and occupies exactly one offset: baseOffset is
// the raft index, partitionLeaderEpoch the raft term, lastOffsetDelta and
// every record's offsetDelta are 0. Kafka instead gives each record in a
// batch an offset of its own; here an offset always names a whole batch, the
// unit in which records are committed and applied.
//
// broker/ imports this package and controller/ builds on it, so it imports
// only the standard library and franz-go's kbin/kmsg: never another Spool
// package.
package metadata
