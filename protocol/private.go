package protocol

// RaftMessageKey is Spool's private API key carrying one etcd raft message
// (its protobuf bytes) between controllers on the controller listener. It is
// far above Kafka's keys so it can never collide with one; the response
// body is an int16 error code.
const RaftMessageKey int16 = 32001
