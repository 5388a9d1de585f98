// Package leaderepoch keeps a partition's leader epoch lineage (Kafka's
// leader-epoch-checkpoint): the first offset of every leader epoch in the
// log, kept in step with appends and truncations, checkpointed to disk,
// and rebuilt from batch headers when the file is lost. It answers
// OffsetForLeaderEpoch and lets followers find where their log diverges
// from a new leader's (KIP-101, KIP-279).
//
// It imports record and storage only, and never broker.
package leaderepoch
