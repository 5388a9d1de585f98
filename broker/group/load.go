package group

import (
	"encoding/binary"
	"fmt"
	"time"

	"spool/record"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Loader rebuilds the groups of one __consumer_offsets partition by
// replaying its records in log order: the last record of each key wins and
// a tombstone removes it. Offsets in transactional batches stay pending
// until the producer's marker (EndTxn) commits or aborts them.
type Loader struct {
	cfg    *Config
	now    time.Time
	groups map[string]*Group
	// txnGroups lists, per producer id, the groups holding its pending
	// offsets, so a marker touches only those.
	txnGroups map[int64]map[string]struct{}
	// Other, if set, replays the records of the types this package does
	// not read (the KIP-848 consumer groups'), in log order.
	Other func(Record) error
}

// NewLoader starts a replay; now stamps groups created by it.
func NewLoader(cfg *Config, now time.Time) *Loader {
	return &Loader{cfg: cfg, now: now, groups: map[string]*Group{}, txnGroups: map[int64]map[string]struct{}{}}
}

func (l *Loader) group(id string) *Group {
	g := l.groups[id]
	if g == nil {
		g = New(id, l.cfg, l.now)
		l.groups[id] = g
	}
	return g
}

// Apply replays one non-transactional record whose log offset is not
// known.
func (l *Loader) Apply(r Record) error {
	return l.apply(r, -1, -1)
}

// ApplyBatch replays one uncompressed data batch of the log. Control
// batches hold no records of ours: the caller reads their marker and calls
// EndTxn.
func (l *Loader) ApplyBatch(batch []byte) error {
	h, err := record.ParseHeader(batch)
	if err != nil {
		return fmt.Errorf("replay: batch of %d bytes", len(batch))
	}
	producer := int64(-1)
	if h.IsTransactional() {
		producer = h.ProducerID
	}
	return decodeBatch(batch, func(r Record, delta int64) error {
		return l.apply(r, h.BaseOffset+delta, producer)
	})
}

// EndTxn replays a transaction marker of producerID.
func (l *Loader) EndTxn(producerID int64, commit bool) {
	for id := range l.txnGroups[producerID] {
		if g := l.groups[id]; g != nil {
			g.CompleteTxn(producerID, commit)
		}
	}
	delete(l.txnGroups, producerID)
}

// apply replays one record at log offset off (-1: unknown) written by
// producer's transaction (-1: none).
func (l *Loader) apply(r Record, off, producer int64) error {
	if len(r.Key) < 2 {
		return fmt.Errorf("replay: key of %d bytes", len(r.Key))
	}
	switch v := int16(binary.BigEndian.Uint16(r.Key)); v {
	case 0, 1:
		return l.applyOffset(r, off, producer)
	case groupKeyVersion:
		return l.applyGroup(r)
	default:
		// Newer record types (consumer groups of KIP-848, share groups)
		// are not ours to read: Other may take them.
		if l.Other != nil {
			return l.Other(r)
		}
		return nil
	}
}

func (l *Loader) applyOffset(r Record, off, producer int64) error {
	var k kmsg.OffsetCommitKey
	if err := k.ReadFrom(r.Key); err != nil {
		return fmt.Errorf("replay offset key: %w", err)
	}
	tp := TopicPartition{k.Topic, k.Partition}
	if r.Value == nil {
		// Transactional or not, a tombstone removes the committed offset
		// and every pending one before it.
		if g := l.groups[k.Group]; g != nil {
			g.applyTombstone(tp, -1)
		}
		return nil
	}
	var v kmsg.OffsetCommitValue
	if err := v.ReadFrom(r.Value); err != nil {
		return fmt.Errorf("replay offset of %s %s: %w", k.Group, tp.Topic, err)
	}
	epoch := v.LeaderEpoch
	if v.Version < 3 {
		epoch = -1
	}
	o := Offset{Offset: v.Offset, LeaderEpoch: epoch, Metadata: v.Metadata, CommitMs: v.CommitTimestamp, LogOffset: off}
	g := l.group(k.Group)
	if producer < 0 {
		g.offsets[tp] = o
		return nil
	}
	m := g.txnOffsets[producer]
	if m == nil {
		m = map[TopicPartition]Offset{}
		g.txnOffsets[producer] = m
	}
	m[tp] = o
	ids := l.txnGroups[producer]
	if ids == nil {
		ids = map[string]struct{}{}
		l.txnGroups[producer] = ids
	}
	ids[k.Group] = struct{}{}
	return nil
}

func (l *Loader) applyGroup(r Record) error {
	var k kmsg.GroupMetadataKey
	if err := k.ReadFrom(r.Key); err != nil {
		return fmt.Errorf("replay group key: %w", err)
	}
	if r.Value == nil {
		if g := l.groups[k.Group]; g != nil {
			offsets, txn := g.offsets, g.txnOffsets
			*g = *New(k.Group, l.cfg, l.now)
			g.offsets, g.txnOffsets = offsets, txn
		}
		return nil
	}
	var v kmsg.GroupMetadataValue
	if err := v.ReadFrom(r.Value); err != nil {
		return fmt.Errorf("replay group %s: %w", k.Group, err)
	}
	g := l.group(k.Group)
	offsets, txn := g.offsets, g.txnOffsets
	*g = *New(k.Group, l.cfg, time.UnixMilli(v.CurrentStateTimestamp))
	g.offsets, g.txnOffsets = offsets, txn
	g.protocolType, g.generation = v.ProtocolType, v.Generation
	if v.Protocol != nil {
		g.protocol = *v.Protocol
	}
	for _, vm := range v.Members {
		g.addMember(&Member{
			ID: vm.MemberID, InstanceID: vm.InstanceID, ClientID: vm.ClientID, ClientHost: vm.ClientHost,
			SessionTimeout:   time.Duration(vm.SessionTimeoutMillis) * time.Millisecond,
			RebalanceTimeout: time.Duration(vm.RebalanceTimeoutMillis) * time.Millisecond,
			ProtocolType:     v.ProtocolType,
			Protocols:        []Protocol{{Name: g.protocol, Metadata: vm.Subscription}},
			Assignment:       vm.Assignment,
		})
	}
	g.protocolType = v.ProtocolType
	if v.Leader != nil && g.members[*v.Leader] != nil {
		g.leader = *v.Leader
	}
	if len(g.members) > 0 {
		g.state = Stable
	}
	return nil
}

// Groups ends the replay: the loaded groups, without those left with
// nothing, and for each the timers to set. Members of a loaded group must
// heartbeat within their session timeout from now, as after any
// coordinator move. Pending transactional offsets stay pending until
// their marker arrives.
func (l *Loader) Groups(now time.Time) (map[string]*Group, map[string]Out) {
	outs := map[string]Out{}
	for id, g := range l.groups {
		if len(g.members) == 0 && len(g.offsets) == 0 && len(g.txnOffsets) == 0 && g.generation == 0 {
			delete(l.groups, id)
			continue
		}
		var out Out
		for _, m := range g.members {
			g.touch(&out, m, now)
		}
		outs[id] = out
	}
	return l.groups, outs
}
