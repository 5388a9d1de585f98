package protocol

// Spool's private API keys sit far above Kafka's so they can never collide
// with one. Their requests carry a v1 (non-flexible) header and an opaque
// body; their responses are the raw body after the correlation id.

// RaftMessageKey carries one etcd raft message (its protobuf bytes) between
// controllers on the controller listener; the response body is an int16
// error code.
const RaftMessageKey int16 = 32001

// CleanerStatusKey asks a broker's client listener for the log cleaner's
// state of the compacted partitions it leads, for the admin CLI (Kafka has
// no API for it). Version 0: the request body is JSON
// {"topics":["orders"]} (no topics: every compacted topic), the response
// body a JSON list of CleanerStatus. Fields are only ever added; a change
// that would break a reader takes a new version.
const CleanerStatusKey int16 = 32002

// CleanerStatusRequest is the body of a CleanerStatusKey request.
type CleanerStatusRequest struct {
	Topics []string `json:"topics,omitempty"`
}

// CleanerStatus is one partition's entry in a CleanerStatusKey response.
type CleanerStatus struct {
	Topic            string  `json:"topic"`
	Partition        int32   `json:"partition"`
	DirtyRatio       float64 `json:"dirty_ratio"`
	FirstDirtyOffset int64   `json:"first_dirty_offset"`
	LastCleanMs      int64   `json:"last_clean_ms"` // 0 if never cleaned
	LogBytes         int64   `json:"log_bytes"`
	Cleanable        bool    `json:"cleanable"` // the cleaner would pick it now
}

// ForwardedPrincipalTag is a tagged field a broker adds to the delegation
// token requests it forwards to the controller (CreateDelegationToken v2+,
// RenewDelegationToken and ExpireDelegationToken v2): the client's
// principal as "Type:Name". Kafka carries it in an Envelope; the
// controller believes it only from a connection allowed CLUSTER_ACTION.
const ForwardedPrincipalTag uint32 = 32001
