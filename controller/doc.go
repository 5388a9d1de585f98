// Package controller is Spool's control plane: the etcd raft node that keeps
// the __cluster_metadata log among the controllers, and the controller logic
// that turns requests (topic creation, broker registration and heartbeats,
// fencing) into metadata records.
//
// Raft's state lives in Spool's own storage: one raft entry is one record
// batch in a storage.Log (baseOffset = raft index, partitionLeaderEpoch =
// raft term), HardState in a small quorum-state file, snapshots in
// <index>-<term>.checkpoint files. Nothing is sent to a peer before the
// entries and HardState of the same Ready are synced.
//
// The controller logic is a single goroutine that owns the raft node and the
// images; requests reach it as closures. Validation and record generation
// are pure functions of an image and a request (topics.go, brokers.go), so
// they are tested without sockets.
//
// controller imports storage, protocol, config and controller/metadata.
package controller
