package broker

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
)

// knownShareGroups lists the share groups this broker coordinates: those
// with members, and those whose share-partition state is kept in a
// partition directory here (so a share group without members is still
// listed, described and deletable after a restart). Each hosted
// partition's directory is read once.
func (m *shareManager) knownShareGroups() []string {
	for _, p := range m.b.replicas.all() {
		m.mu.Lock()
		_, done := m.scanned[p]
		m.mu.Unlock()
		if done {
			continue
		}
		found := scanShareGroups(p.log.Dir())
		m.mu.Lock()
		m.scanned[p] = struct{}{}
		for _, g := range found {
			m.known[g] = struct{}{}
		}
		m.mu.Unlock()
	}
	m.mu.Lock()
	ids := make([]string, 0, len(m.known)+len(m.groups))
	for id := range m.known {
		ids = append(ids, id)
	}
	for id := range m.groups {
		ids = append(ids, id)
	}
	m.mu.Unlock()
	slices.Sort(ids)
	ids = slices.Compact(ids)
	return slices.DeleteFunc(ids, func(id string) bool { err, _ := m.coordinates(id); return err != nil })
}

// scanShareGroups reads the group ids of a partition directory's share
// state files.
func scanShareGroups(dir string) []string {
	names, _ := filepath.Glob(filepath.Join(dir, "share-*.state"))
	var out []string
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil || len(b) < 2 || len(b) < 2+int(binary.BigEndian.Uint16(b)) {
			continue
		}
		out = append(out, string(b[2:2+binary.BigEndian.Uint16(b)]))
	}
	return out
}

// isShareGroup reports whether id is a share group known here.
func (m *shareManager) isShareGroup(id string) bool {
	return slices.Contains(m.knownShareGroups(), id)
}

// deleteGroup deletes an empty share group: its share-partitions' state
// here is removed, so a new group of the same id starts afresh.
func (m *shareManager) deleteGroup(id string) int16 {
	if !m.isShareGroup(id) {
		return kerr.GroupIDNotFound.Code
	}
	m.mu.Lock()
	if g := m.groups[id]; g != nil && g.Len() > 0 {
		m.mu.Unlock()
		return kerr.NonEmptyGroup.Code
	}
	delete(m.groups, id)
	delete(m.known, id)
	for k := range m.parts {
		if k.group == id {
			delete(m.parts, k)
		}
	}
	m.mu.Unlock()
	for _, p := range m.b.replicas.all() {
		if err := os.Remove(shareStatePath(p, id)); err != nil && !os.IsNotExist(err) {
			m.log.Warn("share state not removed", zap.String("group", id), zap.Error(err))
			return kerr.KafkaStorageError.Code
		}
	}
	return 0
}

// shareGroupType is how ListGroups and ShareGroupDescribe name the kind.
const shareGroupType = "share"

// notShareGroup is Kafka's message for an id of another kind of group.
func notShareGroup(id string) string {
	return "Group " + id + " is not a share group."
}

// listings are the share groups as ListGroups shows them.
func (m *shareManager) listings(states, types []string) []kmsg.ListGroupsResponseGroup {
	var out []kmsg.ListGroupsResponseGroup
	for _, id := range m.knownShareGroups() {
		state := "Empty"
		m.mu.Lock()
		if g := m.groups[id]; g != nil {
			state = g.State()
		}
		m.mu.Unlock()
		if !matchesFilter(states, state) || !matchesFilter(types, shareGroupType) {
			continue
		}
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group, lg.ProtocolType, lg.GroupState, lg.GroupType = id, shareGroupType, state, shareGroupType
		out = append(out, lg)
	}
	return out
}
