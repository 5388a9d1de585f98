package txn

import (
	"cmp"
	"maps"
	"math"
	"slices"
)

// NoProducerID and NoEpoch are Kafka's "none" values.
const (
	NoProducerID int64 = -1
	NoEpoch      int16 = -1
)

// Partition is a topic partition in a transaction.
type Partition struct {
	Topic     string
	Partition int32
}

func comparePartitions(a, b Partition) int {
	if c := cmp.Compare(a.Topic, b.Topic); c != 0 {
		return c
	}
	return cmp.Compare(a.Partition, b.Partition)
}

// ProducerIDEpoch is a producer id with its epoch.
type ProducerIDEpoch struct {
	ProducerID int64
	Epoch      int16
}

// Txn is what the coordinator knows of one transactional id. The fields
// are read-only outside this package; change them through the Prepare
// methods and Complete.
type Txn struct {
	ID                string
	ProducerID        int64
	PrevProducerID    int64 // the id before the last rotation; only kept in memory
	ProducerEpoch     int16
	LastProducerEpoch int16 // the epoch before the last bump, for KIP-360 retries
	TimeoutMs         int32
	State             State
	StartMs           int64 // when the transaction's first partition was added; -1 without one
	LastUpdateMs      int64

	partitions map[Partition]struct{}

	// pending is the transition being written; every other transition is
	// refused with CONCURRENT_TRANSACTIONS until it completes or fails.
	pending *Transit
	// failedFence records that a fence's bumped epoch may not have reached
	// the log: the next fence reuses it rather than bumping again, since
	// it was never handed to a client.
	failedFence bool
}

// New is a transactional id seen for the first time, with a fresh producer
// id and no epoch yet: its first InitProducerId gives epoch 0.
func New(id string, producerID int64, timeoutMs int32, nowMs int64) *Txn {
	return &Txn{
		ID: id, ProducerID: producerID, PrevProducerID: NoProducerID,
		ProducerEpoch: NoEpoch, LastProducerEpoch: NoEpoch,
		TimeoutMs: timeoutMs, State: Empty, StartMs: -1, LastUpdateMs: nowMs,
		partitions: map[Partition]struct{}{},
	}
}

// Partitions lists the transaction's partitions in order: while Ongoing,
// those added; while preparing, those still waiting for their marker.
func (t *Txn) Partitions() []Partition {
	return sortedPartitions(t.partitions)
}

// Pending is the transition being written, nil when none.
func (t *Txn) Pending() *Transit { return t.pending }

// SortPartitions sorts ps by topic, then partition.
func SortPartitions(ps []Partition) { slices.SortFunc(ps, comparePartitions) }

func sortedPartitions(m map[Partition]struct{}) []Partition {
	return slices.SortedFunc(maps.Keys(m), comparePartitions)
}

// Transit is a transition to write to __transaction_state: the whole state
// the transactional id will have once the record is durable.
type Transit struct {
	ProducerID        int64
	PrevProducerID    int64
	ProducerEpoch     int16
	LastProducerEpoch int16
	TimeoutMs         int32
	State             State
	Partitions        []Partition // sorted
	StartMs           int64
	LastUpdateMs      int64

	fence bool // a fencing abort: a failed write keeps the bumped epoch
}

// isEpochExhausted is Kafka's rule: the last epoch is kept back so the
// coordinator can always fence a producer by bumping once more.
func isEpochExhausted(epoch int16) bool { return epoch >= math.MaxInt16-1 }

// transit starts a transition to state from the current values; the
// caller changes what the transition changes. It refuses a transition
// Kafka's state table does not allow.
func (t *Txn) transit(to State, nowMs int64) (*Transit, bool) {
	if t.pending != nil || !to.validFrom(t.State) {
		return nil, false
	}
	return &Transit{
		ProducerID: t.ProducerID, PrevProducerID: t.ProducerID,
		ProducerEpoch: t.ProducerEpoch, LastProducerEpoch: t.LastProducerEpoch,
		TimeoutMs: t.TimeoutMs, State: to, Partitions: t.Partitions(),
		StartMs: t.StartMs, LastUpdateMs: nowMs,
	}, true
}
