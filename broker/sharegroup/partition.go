package sharegroup

import (
	"errors"
	"time"
)

// RecordState is an in-flight record's state, numbered as Kafka's
// RecordState (and its persisted delivery state).
type RecordState int8

const (
	Available    RecordState = 0
	Acquired     RecordState = 1
	Acknowledged RecordState = 2
	Archived     RecordState = 4
)

func (s RecordState) String() string {
	switch s {
	case Available:
		return "available"
	case Acquired:
		return "acquired"
	case Acknowledged:
		return "acknowledged"
	case Archived:
		return "archived"
	}
	return "unknown"
}

// AckType is an acknowledgement type as ShareFetch and ShareAcknowledge
// carry it.
type AckType int8

const (
	AckGap     AckType = 0 // no record at this offset (compacted, or a control record)
	AckAccept  AckType = 1
	AckRelease AckType = 2
	AckReject  AckType = 3
	AckRenew   AckType = 4 // KIP-1222: keep the lock for another lock duration
)

var (
	// ErrInvalidRecordState: an acknowledgement for a record that is not
	// acquired by the member (INVALID_RECORD_STATE).
	ErrInvalidRecordState = errors.New("the record is not acquired by this member")
	// ErrInvalidRequest: a malformed acknowledgement batch (INVALID_REQUEST).
	ErrInvalidRequest = errors.New("invalid acknowledgement batch")
)

// inflight is one offset of the window.
type inflight struct {
	state    RecordState
	count    int16 // deliveries so far
	owner    string
	deadline time.Time // while acquired: when the lock expires
}

// Partition is one share-partition of one share group. Offsets below
// start are done (acknowledged or archived); recs[i] is offset start+i;
// offsets at and above End have never been acquired.
type Partition struct {
	start int64
	recs  []inflight
	// epoch is the state epoch, bumped when the state is reset (an
	// AlterShareGroupOffsets, or the partition being initialised again).
	epoch int32
}

// NewPartition starts a share-partition at start (share.auto.offset.reset
// decided it).
func NewPartition(start int64) *Partition { return &Partition{start: start} }

// Start is the share-partition start offset (SPSO).
func (p *Partition) Start() int64 { return p.start }

// End is the share-partition end offset: the first offset never acquired.
func (p *Partition) End() int64 { return p.start + int64(len(p.recs)) }

// StateEpoch is the epoch of the persisted state.
func (p *Partition) StateEpoch() int32 { return p.epoch }

// At reports an in-flight offset's state and delivery count; offsets
// below the start read as archived-or-acknowledged (done=true).
func (p *Partition) At(offset int64) (state RecordState, count int16, done bool) {
	if offset < p.start {
		return Acknowledged, 0, true
	}
	if offset >= p.End() {
		return Available, 0, false
	}
	r := p.recs[offset-p.start]
	return r.state, r.count, false
}

// Range is a run of acquired offsets handed to a member.
type Range struct {
	First, Last   int64
	DeliveryCount int16
}

// Acquire hands member up to maxRecords records below upTo (the end of
// the batches the caller read, never past the high watermark): first the
// available records inside the window (redeliveries), then new ones past
// End while the window stays within maxLocks. Each acquired record's
// delivery count goes up by one and its lock expires at now+lock.
func (p *Partition) Acquire(member string, upTo int64, maxRecords, maxLocks int, now time.Time, lock time.Duration) []Range {
	var out []Range
	deadline := now.Add(lock)
	take := func(off int64) {
		r := &p.recs[off-p.start]
		r.state, r.owner, r.deadline = Acquired, member, deadline
		r.count++
		if n := len(out); n > 0 && out[n-1].Last == off-1 && out[n-1].DeliveryCount == r.count {
			out[n-1].Last = off
		} else {
			out = append(out, Range{First: off, Last: off, DeliveryCount: r.count})
		}
		maxRecords--
	}
	for i := range p.recs {
		off := p.start + int64(i)
		if maxRecords <= 0 || off >= upTo {
			return out
		}
		if p.recs[i].state == Available {
			take(off)
		}
	}
	for off := p.End(); maxRecords > 0 && off < upTo && len(p.recs) < maxLocks; off++ {
		p.recs = append(p.recs, inflight{})
		take(off)
	}
	return out
}

// Acknowledge applies one acknowledgement batch of member: types holds
// one type for the whole range or one per offset. The batch applies
// whole or not at all: every offset must be acquired by member.
func (p *Partition) Acknowledge(member string, first, last int64, types []AckType, limit int16, now time.Time, lock time.Duration) error {
	n := last - first + 1
	if first > last || (len(types) != 1 && int64(len(types)) != n) {
		return ErrInvalidRequest
	}
	for i, t := range types {
		if t < AckGap || t > AckRenew || (i > 0 && len(types) == 1) {
			return ErrInvalidRequest
		}
	}
	if first < p.start || last >= p.End() {
		return ErrInvalidRecordState
	}
	for off := first; off <= last; off++ {
		r := &p.recs[off-p.start]
		if r.state != Acquired || r.owner != member {
			return ErrInvalidRecordState
		}
	}
	for off := first; off <= last; off++ {
		t := types[0]
		if len(types) > 1 {
			t = types[off-first]
		}
		r := &p.recs[off-p.start]
		switch t {
		case AckAccept:
			r.finish(Acknowledged)
		case AckReject, AckGap:
			r.finish(Archived)
		case AckRelease:
			r.release(limit)
		case AckRenew:
			r.deadline = now.Add(lock)
		}
	}
	p.advance()
	return nil
}

func (r *inflight) finish(s RecordState) {
	r.state, r.owner, r.deadline = s, "", time.Time{}
}

// release makes an acquired record available again, or archives it once
// it has been delivered limit times.
func (r *inflight) release(limit int16) {
	if r.count >= limit {
		r.finish(Archived)
		return
	}
	r.finish(Available)
}

// ReleaseMember releases every record member holds (its share session
// closed or it left the group). It reports whether anything changed.
func (p *Partition) ReleaseMember(member string, limit int16) bool {
	changed := false
	for i := range p.recs {
		if r := &p.recs[i]; r.state == Acquired && r.owner == member {
			r.release(limit)
			changed = true
		}
	}
	if changed {
		p.advance()
	}
	return changed
}

// ExpireLocks releases the records whose acquisition lock has run out.
// It reports whether anything changed.
func (p *Partition) ExpireLocks(now time.Time, limit int16) bool {
	changed := false
	for i := range p.recs {
		if r := &p.recs[i]; r.state == Acquired && !now.Before(r.deadline) {
			r.release(limit)
			changed = true
		}
	}
	if changed {
		p.advance()
	}
	return changed
}

// NextDeadline is the earliest lock expiry, ok=false when nothing is
// acquired.
func (p *Partition) NextDeadline() (t time.Time, ok bool) {
	for i := range p.recs {
		if r := &p.recs[i]; r.state == Acquired && (!ok || r.deadline.Before(t)) {
			t, ok = r.deadline, true
		}
	}
	return t, ok
}

// Acquired counts the records currently acquired.
func (p *Partition) Acquired() int {
	n := 0
	for i := range p.recs {
		if p.recs[i].state == Acquired {
			n++
		}
	}
	return n
}

// SkipTo moves the start up to logStart when the log's start passed it
// (retention, DeleteRecords): records that no longer exist are archived.
// It reports whether the start moved.
func (p *Partition) SkipTo(logStart int64) bool {
	if logStart <= p.start {
		return false
	}
	if drop := logStart - p.start; drop >= int64(len(p.recs)) {
		p.recs = p.recs[:0]
	} else {
		p.recs = append(p.recs[:0], p.recs[drop:]...)
	}
	p.start = logStart
	return true
}

// advance moves the start past the records that are done, so the window
// holds only offsets someone may still receive.
func (p *Partition) advance() {
	i := 0
	for i < len(p.recs) && (p.recs[i].state == Acknowledged || p.recs[i].state == Archived) {
		i++
	}
	if i == 0 {
		return
	}
	p.start += int64(i)
	p.recs = append(p.recs[:0], p.recs[i:]...)
}

// NextAcquirable is the first offset Acquire would hand out: the first
// available record of the window, else End while the window has room.
func (p *Partition) NextAcquirable(maxLocks int) (int64, bool) {
	for i := range p.recs {
		if p.recs[i].state == Available {
			return p.start + int64(i), true
		}
	}
	if len(p.recs) < maxLocks {
		return p.End(), true
	}
	return 0, false
}

// Lag is the records below hw that are not yet done (acknowledged or
// archived): what the group still has to consume.
func (p *Partition) Lag(hw int64) int64 {
	if hw <= p.start {
		return 0
	}
	lag := hw - p.start
	for i := range p.recs {
		if off := p.start + int64(i); off < hw && (p.recs[i].state == Acknowledged || p.recs[i].state == Archived) {
			lag--
		}
	}
	return lag
}

// Reset starts the share-partition again at start with nothing in
// flight (AlterShareGroupOffsets), under a new state epoch.
func (p *Partition) Reset(start int64) {
	p.start, p.recs = start, p.recs[:0]
	p.epoch++
}
