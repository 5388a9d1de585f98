package consumergroup

import (
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/group"
)

// TimerKind says what a timer guards.
type TimerKind int8

const (
	// TimerSession fences a member that stopped heartbeating.
	TimerSession TimerKind = iota
	// TimerRebalance fences a member that did not revoke in time.
	TimerRebalance
	// TimerJoin fences a classic member that did not rejoin in time.
	TimerJoin
	// TimerSync fences a classic member that did not send SyncGroup.
	TimerSync
	// TimerAssign computes a target assignment held back by the
	// assignment interval.
	TimerAssign
)

// TimerKey names one timer of a group.
type TimerKey struct {
	Kind   TimerKind
	Member string
}

// Timer asks the caller to call Group.Fire(Key, now) at At; a zero At
// cancels the timer.
type Timer struct {
	Key TimerKey
	At  time.Time
}

// Out is what an event asks the caller to do, in order: writes first, then
// replies (once the writes before them are durable), then timers.
type Out struct {
	Writes  []group.Write
	Replies []group.Reply
	Timers  []Timer
	// Reload is set when a write failed: the group's state is ahead of
	// its log, and the caller must load it again from the log.
	Reload bool
}

func (o *Out) reply(to group.ReqID, msg kmsg.Response) {
	o.Replies = append(o.Replies, group.Reply{To: to, Msg: msg})
}

func (o *Out) merge(p Out) {
	o.Writes = append(o.Writes, p.Writes...)
	o.Replies = append(o.Replies, p.Replies...)
	o.Timers = append(o.Timers, p.Timers...)
	o.Reload = o.Reload || p.Reload
}

// Topic is what the group needs to know of a topic.
type Topic struct {
	ID         Uuid
	Name       string
	Partitions int32
}

// Topics is the caller's view of the cluster's topics at the time of an
// event.
type Topics interface {
	ByName(name string) (Topic, bool)
	ByID(id Uuid) (Topic, bool)
	// Each calls fn with every topic until fn returns false.
	Each(fn func(Topic) bool)
	// Version changes whenever the set of topics changes.
	Version() int64
}

// Client is who sent a request.
type Client struct {
	ID   string
	Host string
}
