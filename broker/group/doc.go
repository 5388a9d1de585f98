// Package group is the classic consumer-group coordinator as a deterministic
// state machine: callers feed it events (a JoinGroup, a SyncGroup, a
// heartbeat, a timer firing, a write completing) with the current time, and
// it returns Out, the responses to send, the records to write to
// __consumer_offsets and the timers to set. It owns the rebalance protocol,
// committed offsets and their retention, transactional offsets until their
// marker, and the record formats of __consumer_offsets (Kafka's own key and
// value schemas) with their replay.
//
// It touches no socket, file or clock: the broker package does the I/O. It
// imports only kmsg/kerr and the standard library; never broker, storage or
// protocol.
package group
