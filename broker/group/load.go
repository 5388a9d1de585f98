package group

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Loader rebuilds the groups of one __consumer_offsets partition by
// replaying its records in log order: the last record of each key wins and
// a tombstone removes it.
type Loader struct {
	cfg    *Config
	now    time.Time
	groups map[string]*Group
}

// NewLoader starts a replay; now stamps groups created by it.
func NewLoader(cfg *Config, now time.Time) *Loader {
	return &Loader{cfg: cfg, now: now, groups: map[string]*Group{}}
}

func (l *Loader) group(id string) *Group {
	g := l.groups[id]
	if g == nil {
		g = New(id, l.cfg, l.now)
		l.groups[id] = g
	}
	return g
}

// Apply replays one record.
func (l *Loader) Apply(r Record) error {
	if len(r.Key) < 2 {
		return fmt.Errorf("replay: key of %d bytes", len(r.Key))
	}
	switch v := int16(binary.BigEndian.Uint16(r.Key)); v {
	case 0, 1:
		return l.applyOffset(r)
	case groupKeyVersion:
		return l.applyGroup(r)
	default:
		// Newer record types (consumer groups of KIP-848, share groups)
		// are not ours to read.
		return nil
	}
}

func (l *Loader) applyOffset(r Record) error {
	var k kmsg.OffsetCommitKey
	if err := k.ReadFrom(r.Key); err != nil {
		return fmt.Errorf("replay offset key: %w", err)
	}
	tp := TopicPartition{k.Topic, k.Partition}
	if r.Value == nil {
		if g := l.groups[k.Group]; g != nil {
			delete(g.offsets, tp)
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
	l.group(k.Group).offsets[tp] = Offset{Offset: v.Offset, LeaderEpoch: epoch, Metadata: v.Metadata, CommitMs: v.CommitTimestamp}
	return nil
}

func (l *Loader) applyGroup(r Record) error {
	var k kmsg.GroupMetadataKey
	if err := k.ReadFrom(r.Key); err != nil {
		return fmt.Errorf("replay group key: %w", err)
	}
	if r.Value == nil {
		if g := l.groups[k.Group]; g != nil {
			offsets := g.offsets
			*g = *New(k.Group, l.cfg, l.now)
			g.offsets = offsets
		}
		return nil
	}
	var v kmsg.GroupMetadataValue
	if err := v.ReadFrom(r.Value); err != nil {
		return fmt.Errorf("replay group %s: %w", k.Group, err)
	}
	g := l.group(k.Group)
	offsets := g.offsets
	*g = *New(k.Group, l.cfg, time.UnixMilli(v.CurrentStateTimestamp))
	g.offsets = offsets
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
// coordinator move.
func (l *Loader) Groups(now time.Time) (map[string]*Group, map[string]Out) {
	outs := map[string]Out{}
	for id, g := range l.groups {
		if len(g.members) == 0 && len(g.offsets) == 0 && g.generation == 0 {
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
