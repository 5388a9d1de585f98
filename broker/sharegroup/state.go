package sharegroup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// StateBatch is a run of in-flight offsets with one delivery state and
// count, the unit Kafka's share-group state records persist.
type StateBatch struct {
	First, Last   int64
	State         RecordState
	DeliveryCount int16
}

// State is what survives a restart: the start offset, the state epoch and
// the whole in-flight window. Acquired records are persisted as
// available with their delivery count, since a lock does not outlive the
// broker that granted it; their member gets them redelivered.
type State struct {
	StateEpoch  int32
	StartOffset int64
	Batches     []StateBatch
}

// State returns the partition's persistent state.
func (p *Partition) State() State {
	st := State{StateEpoch: p.epoch, StartOffset: p.start}
	for i, r := range p.recs {
		s := r.state
		if s == Acquired {
			s = Available
		}
		off := p.start + int64(i)
		if n := len(st.Batches); n > 0 && st.Batches[n-1].State == s && st.Batches[n-1].DeliveryCount == r.count {
			st.Batches[n-1].Last = off
			continue
		}
		st.Batches = append(st.Batches, StateBatch{First: off, Last: off, State: s, DeliveryCount: r.count})
	}
	return st
}

// Restore rebuilds a partition from its persisted state. The batches
// must be contiguous from the start offset, as State writes them.
func Restore(st State) (*Partition, error) {
	p := &Partition{start: st.StartOffset, epoch: st.StateEpoch}
	next := st.StartOffset
	for _, b := range st.Batches {
		if b.First != next || b.Last < b.First || b.Last-b.First >= 1<<20 {
			return nil, fmt.Errorf("share state: batch %d-%d does not follow offset %d", b.First, b.Last, next)
		}
		switch b.State {
		case Available, Acknowledged, Archived:
		default:
			return nil, fmt.Errorf("share state: batch %d-%d has state %d", b.First, b.Last, b.State)
		}
		for off := b.First; off <= b.Last; off++ {
			p.recs = append(p.recs, inflight{state: b.State, count: b.DeliveryCount})
		}
		next = b.Last + 1
	}
	p.advance()
	return p, nil
}

// stateVersion is the first field of an encoded State.
const stateVersion = 0

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorruptState is returned for encoded state that fails its checks.
var ErrCorruptState = errors.New("share state: corrupt")

// Encode is State's file form: version (int16), state epoch (int32),
// start offset (int64), batch count (int32), each batch as first and
// last offset (int64), state (int8), delivery count (int16), then a
// CRC-32C of everything before it; big-endian, as Kafka's formats.
func (st State) Encode() []byte {
	b := make([]byte, 0, 18+19*len(st.Batches)+4)
	b = binary.BigEndian.AppendUint16(b, stateVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(st.StateEpoch))
	b = binary.BigEndian.AppendUint64(b, uint64(st.StartOffset))
	b = binary.BigEndian.AppendUint32(b, uint32(len(st.Batches)))
	for _, x := range st.Batches {
		b = binary.BigEndian.AppendUint64(b, uint64(x.First))
		b = binary.BigEndian.AppendUint64(b, uint64(x.Last))
		b = append(b, byte(x.State))
		b = binary.BigEndian.AppendUint16(b, uint16(x.DeliveryCount))
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// DecodeState reads what Encode wrote.
func DecodeState(b []byte) (State, error) {
	var st State
	if len(b) < 22 {
		return st, ErrCorruptState
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum || binary.BigEndian.Uint16(body) != stateVersion {
		return st, ErrCorruptState
	}
	st.StateEpoch = int32(binary.BigEndian.Uint32(body[2:]))
	st.StartOffset = int64(binary.BigEndian.Uint64(body[6:]))
	n := int(binary.BigEndian.Uint32(body[14:]))
	rest := body[18:]
	if n < 0 || len(rest) != 19*n {
		return st, ErrCorruptState
	}
	for i := 0; i < n; i++ {
		x := rest[19*i:]
		st.Batches = append(st.Batches, StateBatch{
			First:         int64(binary.BigEndian.Uint64(x)),
			Last:          int64(binary.BigEndian.Uint64(x[8:])),
			State:         RecordState(x[16]),
			DeliveryCount: int16(binary.BigEndian.Uint16(x[17:])),
		})
	}
	return st, nil
}

// Apply merges written state into the partition (WriteShareGroupState):
// a start offset of -1 keeps the current one, a later one moves it; each
// batch sets its offsets' state and delivery count, growing the window
// when it reaches past End. A lower state epoch is refused.
func (p *Partition) Apply(epoch int32, start int64, batches []StateBatch) error {
	if epoch < p.epoch {
		return ErrFencedStateEpoch
	}
	for _, b := range batches {
		if b.First > b.Last || b.Last-b.First >= 1<<20 || (b.State != Available && b.State != Acknowledged && b.State != Archived) {
			return ErrInvalidRequest
		}
	}
	p.epoch = epoch
	if start >= 0 {
		p.SkipTo(start)
	}
	for _, b := range batches {
		for off := max(b.First, p.start); off <= b.Last; off++ {
			for p.End() <= off {
				p.recs = append(p.recs, inflight{})
			}
			r := &p.recs[off-p.start]
			r.state, r.count, r.owner = b.State, b.DeliveryCount, ""
		}
	}
	p.advance()
	return nil
}

// ErrFencedStateEpoch: a write of an older state epoch (FENCED_STATE_EPOCH).
var ErrFencedStateEpoch = errors.New("share state: older state epoch")

// SetEpoch sets the state epoch (InitializeShareGroupState).
func (p *Partition) SetEpoch(epoch int32) { p.epoch = epoch }
