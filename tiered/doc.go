// Package tiered is the remote tier of partition logs (KIP-405): closed
// segments copied to an S3-compatible bucket with their indexes, the
// remote segment metadata kept beside them in the bucket, and ranged reads
// of remote segments through a bounded chunk cache.
//
// It owns the object store and the remote view of each partition; which
// partitions copy, and when local segments may go, is the broker's remote
// log manager. It imports storage (segment files), record (batch headers)
// and config, never broker.
package tiered
