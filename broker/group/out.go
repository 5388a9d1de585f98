package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ReqID names a request the caller is waiting to answer; the state machine
// answers every ReqID it is given exactly once.
type ReqID uint64

// Reply is a response to send. Requests that span groups (DeleteGroups)
// are answered per group with only Code; the caller assembles the response.
type Reply struct {
	To   ReqID
	Msg  kmsg.Response
	Code int16
}

// TimerKind says what a timer guards.
type TimerKind int8

const (
	// TimerSession expires a member that stopped heartbeating.
	TimerSession TimerKind = iota
	// TimerPending expires a member id handed out with MEMBER_ID_REQUIRED
	// that never came back (KIP-394).
	TimerPending
	// TimerJoin ends the join phase of a rebalance.
	TimerJoin
	// TimerSync removes members that never sent SyncGroup after a join.
	TimerSync
)

// TimerKey names one timer of a group.
type TimerKey struct {
	Kind   TimerKind
	Member string
}

// Timer asks the caller to call Group.Fire(Key, At, now) at At.
type Timer struct {
	Key TimerKey
	At  time.Time
}

// Record is one __consumer_offsets record; a nil Value is a tombstone.
type Record struct {
	Key, Value []byte
}

// Write asks the caller to append Records to the group's partition as one
// batch, report where it landed with Group.Appended(ID, base), make it
// durable, then call Group.WriteDone(ID, err).
type Write struct {
	ID      uint64
	Records []Record
	// Txn, when set, makes the batch transactional for that producer: a
	// TxnOffsetCommit's offsets, which apply only once a marker commits
	// them.
	Txn *Producer
}

// Producer is a transactional producer id and epoch.
type Producer struct {
	ID    int64
	Epoch int16
}

// Out is what an event asks the caller to do, in order: writes first (in
// the order given), then replies, then timers.
type Out struct {
	Writes  []Write
	Replies []Reply
	Timers  []Timer
}

func (o *Out) reply(to ReqID, msg kmsg.Response) {
	o.Replies = append(o.Replies, Reply{To: to, Msg: msg})
}

func (o *Out) merge(p Out) {
	o.Writes = append(o.Writes, p.Writes...)
	o.Replies = append(o.Replies, p.Replies...)
	o.Timers = append(o.Timers, p.Timers...)
}
