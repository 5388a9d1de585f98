package consumergroup

import (
	"encoding/binary"
	"hash/fnv"
	"slices"
	"time"

	"spool/broker/group"
)

// resolvedRegex is what a subscribed regular expression matched.
type resolvedRegex struct {
	topics  []string // sorted
	version int64    // the Topics version it was resolved against
	atMs    int64
}

// regexBatch is how long a resolution stands before new topics make it
// resolve again, so a burst of topic creations costs one rebalance.
const regexBatch = 10 * time.Second

// subscribe writes the member's metadata record when it changed, checks a
// new regular expression and resolves the group's expressions that are
// due. It reports whether the group epoch must be bumped. Nothing in the
// group changes when it fails.
func (g *Group) subscribe(old, upd *Member, topics Topics, now time.Time, recs *[]group.Record) (bool, *Failure) {
	isNew := g.members[old.ID] != old
	oldRegex, newRegex := regexOf(old), regexOf(upd)
	if newRegex != "" && newRegex != oldRegex && g.regexSubscribers(newRegex) == 0 {
		if _, f := compileRegex(newRegex); f != nil {
			return false, f
		}
	}
	bump := false
	if isNew || !upd.sameMetadata(old) {
		*recs = append(*recs, memberRecord(g.ID, upd))
		bump = !slices.Equal(upd.Topics, old.Topics) || (isNew && len(upd.Topics) > 0)
	}
	if oldRegex != newRegex {
		if oldRegex != "" && g.regexSubscribers(oldRegex) == 1 && !isNew {
			delete(g.regexes, oldRegex)
			*recs = append(*recs, tombstone(memberKey(TypeRegularExpression, g.ID, oldRegex)))
		}
		bump = true
	}
	g.resolveRegexes(topics, now, newRegex, recs)
	return bump, nil
}

func regexOf(m *Member) string {
	if m.Regex == nil {
		return ""
	}
	return *m.Regex
}

// regexSubscribers counts the members subscribed to a regex.
func (g *Group) regexSubscribers(re string) int {
	n := 0
	for _, m := range g.members {
		if regexOf(m) == re {
			n++
		}
	}
	return n
}

// resolveRegexes resolves every subscribed regex (and extra) that was
// never resolved, or whose resolution is older than a topic change (and
// the batching window) or than the refresh interval. Kafka does this off
// the request path; here it is cheap enough to do inline.
func (g *Group) resolveRegexes(topics Topics, now time.Time, extra string, recs *[]group.Record) {
	want := map[string]bool{}
	for _, m := range g.members {
		if re := regexOf(m); re != "" {
			want[re] = true
		}
	}
	if extra != "" {
		want[extra] = true
	}
	nowMs := now.UnixMilli()
	for re := range want {
		rr, ok := g.regexes[re]
		stale := !ok || nowMs >= rr.atMs+g.cfg.RegexRefresh.Milliseconds() ||
			(rr.version != topics.Version() && nowMs >= rr.atMs+regexBatch.Milliseconds())
		if !stale {
			continue
		}
		matched := matchTopics(re, topics)
		if ok && slices.Equal(matched, rr.topics) && rr.version == topics.Version() {
			continue
		}
		g.regexes[re] = resolvedRegex{topics: matched, version: topics.Version(), atMs: nowMs}
		*recs = append(*recs, regexRecord(g.ID, re, matched, topics.Version(), nowMs))
	}
}

// matchTopics lists the topics a regex matches, leaving out Kafka's
// internal topics as Kafka does.
func matchTopics(expr string, topics Topics) []string {
	re, f := compileRegex(expr)
	if f != nil {
		return []string{}
	}
	out := []string{}
	topics.Each(func(t Topic) bool {
		if !internalTopic(t.Name) && re.MatchString(t.Name) {
			out = append(out, t.Name)
		}
		return true
	})
	slices.Sort(out)
	return out
}

func internalTopic(name string) bool {
	return name == "__consumer_offsets" || name == "__transaction_state" || name == "__share_group_state"
}

// subscribedTopics is every topic name a member of the group subscribes
// to, by name or through a resolved regex.
func (g *Group) subscribedTopics() []string {
	set := map[string]struct{}{}
	for _, m := range g.members {
		for _, t := range g.memberTopics(m) {
			set[t] = struct{}{}
		}
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// memberTopics is one member's subscribed topic names.
func (g *Group) memberTopics(m *Member) []string {
	re := regexOf(m)
	if re == "" {
		return m.Topics
	}
	rr := g.regexes[re]
	if len(m.Topics) == 0 {
		return rr.topics
	}
	return normalizeTopics(append(slices.Clone(m.Topics), rr.topics...))
}

// computeHash hashes the subscribed topics that exist: their names, ids
// and partition counts. A change (a topic created, deleted or grown)
// bumps the group epoch, as Kafka's KIP-1101 hash does.
func (g *Group) computeHash(topics Topics) int64 {
	h := fnv.New64a()
	var buf [4]byte
	any := false
	for _, name := range g.subscribedTopics() {
		t, ok := topics.ByName(name)
		if !ok {
			continue
		}
		any = true
		h.Write([]byte(name))
		h.Write(t.ID[:])
		binary.BigEndian.PutUint32(buf[:], uint32(t.Partitions))
		h.Write(buf[:])
	}
	if !any {
		return 0
	}
	return int64(h.Sum64() | 1)
}

// bumpIfChanged bumps the group epoch when asked or when the subscribed
// topics' metadata changed, and writes it.
func (g *Group) bumpIfChanged(bump bool, topics Topics, recs *[]group.Record) {
	hash := g.computeHash(topics)
	if !bump && hash == g.metadataHash {
		return
	}
	g.epoch++
	g.metadataHash = hash
	*recs = append(*recs, groupEpochRecord(g.ID, g.epoch, hash))
}
