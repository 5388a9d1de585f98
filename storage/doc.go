// Package storage owns a partition's log on disk: segments (.log plus the
// sparse .index and .timeindex, and a .txnindex of aborted transactions
// where there are any), appends with offset assignment, reads that hand out
// pinned file regions for sendfile, group-committed fsync, crash recovery, truncation,
// retention and DeleteRecords, the log cleaner that compacts logs with
// cleanup.policy=compact, and the bounded descriptor cache that lets a
// broker hold far more partitions than it may open files.
//
// The on-disk layout follows Apache Kafka's so existing tooling and habits
// carry over: a partition directory holds segments named by their base
// offset, 20 digits zero padded, each a .log of record batches exactly as they
// travel on the wire.
//
// storage imports record (the batch format) and no other spool package, so
// the broker, the controller's raft log and tools can all build on it.
package storage
