// Package record is the Kafka v2 record batch: the header (parse, check,
// patch, encode), the CRC-32C that covers it, control batches (transaction
// markers and the metadata log's control records), iteration over a batch's
// records, and the compression codecs, pooled, with snappy in both the raw
// and the xerial framing.
//
// It is the only place in Spool that knows the batch layout or computes a
// CRC-32C, and the only one that inflates or deflates records: storage, the
// broker, the coordinators and the metadata log all build on it.
//
// record imports no other Spool package.
package record
