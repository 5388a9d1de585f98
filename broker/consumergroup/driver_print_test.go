package consumergroup

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/group"
)

// apply prints what an event asked for and does it: writes complete at
// once (unless held), timers are recorded.
func (d *driver) apply(b *strings.Builder, out Out) {
	for len(out.Writes) > 0 || len(out.Replies) > 0 || len(out.Timers) > 0 {
		next := Out{}
		for _, w := range out.Writes {
			for _, r := range w.Records {
				fmt.Fprintf(b, "write %s\n", d.describeRecord(r))
				d.log = append(d.log, r)
			}
			if d.hold {
				d.held = append(d.held, w.ID)
				continue
			}
			next.merge(d.g.WriteDone(w.ID, nil, d.now))
		}
		for _, r := range out.Replies {
			fmt.Fprintf(b, "reply %s\n", d.describeReply(r.Msg))
		}
		for _, t := range out.Timers {
			if t.At.IsZero() {
				delete(d.timers, t.Key)
				continue
			}
			d.timers[t.Key] = t.At
		}
		if out.Reload {
			fmt.Fprintf(b, "reload requested\n")
		}
		out = next
	}
}

// tick advances the clock, firing timers in deadline order.
func (d *driver) tick(b *strings.Builder, by time.Duration) {
	end := d.now.Add(by)
	for {
		var due *TimerKey
		var at time.Time
		for k, t := range d.timers {
			if !t.After(end) && (due == nil || t.Before(at) || (t.Equal(at) && keyLess(k, *due))) {
				k := k
				due, at = &k, t
			}
		}
		if due == nil {
			break
		}
		delete(d.timers, *due)
		d.now = at
		fmt.Fprintf(b, "fire %s\n", keyString(*due))
		d.apply(b, d.g.Fire(*due, d.topics, d.now))
	}
	d.now = end
}

func keyLess(a, b TimerKey) bool { return keyString(a) < keyString(b) }

func keyString(k TimerKey) string {
	names := []string{"session", "rebalance", "join", "sync", "assign"}
	if k.Member == "" {
		return names[k.Kind]
	}
	return names[k.Kind] + "/" + k.Member
}

func (d *driver) topicName(id Uuid) string {
	if t, ok := d.topics.ByID(id); ok {
		return t.Name
	}
	return fmt.Sprintf("%x", id[:4])
}

func (d *driver) assignmentString(a Assignment) string {
	var parts []string
	for id, ps := range a {
		var s []string
		for _, p := range ps {
			s = append(s, strconv.Itoa(int(p)))
		}
		parts = append(parts, d.topicName(id)+":"+strings.Join(s, "."))
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}

func (d *driver) describeRecord(r group.Record) string {
	k, err := parseKey(r.Key)
	if err != nil {
		return "bad key: " + err.Error()
	}
	names := map[int16]string{3: "group-epoch", 5: "member", 6: "target-epoch", 7: "target", 8: "current", 16: "regex"}
	head := names[k.typ]
	if k.second != "" {
		head += " " + k.second
	}
	if r.Value == nil {
		return head + " tombstone"
	}
	switch k.typ {
	case TypeGroupMetadata:
		e, _, err := readGroupEpoch(r.Value)
		return fmt.Sprintf("%s %d%s", head, e, errSuffix(err))
	case TypeTargetAssignmentMetadata:
		e, _, err := readTargetEpoch(r.Value)
		return fmt.Sprintf("%s %d%s", head, e, errSuffix(err))
	case TypeTargetAssignmentMember:
		a, err := readTargetMember(r.Value)
		return fmt.Sprintf("%s %s%s", head, d.assignmentString(a), errSuffix(err))
	case TypeCurrentMemberAssignment:
		var m Member
		err := readCurrent(r.Value, &m)
		return fmt.Sprintf("%s epoch=%d prev=%d %s assigned=%s revoking=%s%s", head, m.Epoch, m.PreviousEpoch, m.State,
			d.assignmentString(m.Assigned), d.assignmentString(m.Revoking), errSuffix(err))
	case TypeMemberMetadata:
		var m Member
		err := readMember(r.Value, &m)
		return fmt.Sprintf("%s topics=%s regex=%s%s", head, strings.Join(m.Topics, ","), strOr(m.Regex, "-"), errSuffix(err))
	case TypeRegularExpression:
		rr, err := readRegex(r.Value)
		return fmt.Sprintf("%s topics=%s%s", head, strings.Join(rr.topics, ","), errSuffix(err))
	}
	return head
}

func (d *driver) describeReply(msg kmsg.Response) string {
	switch r := msg.(type) {
	case *kmsg.ConsumerGroupHeartbeatResponse:
		if r.ErrorCode != 0 {
			if e, ok := kerr.ErrorForCode(r.ErrorCode).(*kerr.Error); ok {
				return fmt.Sprintf("%s: %s", e.Message, strOr(r.ErrorMessage, ""))
			}
			return fmt.Sprintf("error %d", r.ErrorCode)
		}
		s := fmt.Sprintf("%s epoch=%d", strOr(r.MemberID, "?"), r.MemberEpoch)
		if r.Assignment != nil {
			a := Assignment{}
			for _, t := range r.Assignment.Topics {
				a[t.TopicID] = t.Partitions
			}
			s += " assignment=" + d.assignmentString(a)
		}
		return s
	}
	return fmt.Sprintf("%T", msg)
}

type stringsBuilder = strings.Builder

// writeGroup prints the group's state after an event.
func (d *driver) writeGroup(b *strings.Builder) { d.writeGroupTo(b, d.g) }

func (d *driver) writeGroupTo(b *strings.Builder, g *Group) {
	fmt.Fprintf(b, "group %s epoch=%d target=%d\n", g.State(), g.epoch, g.targetEpoch)
	for _, m := range g.Members() {
		fmt.Fprintf(b, "  %s epoch=%d prev=%d %s assigned=%s", m.ID, m.Epoch, m.PreviousEpoch, m.State, d.assignmentString(m.Assigned))
		if len(m.Revoking) > 0 {
			fmt.Fprintf(b, " revoking=%s", d.assignmentString(m.Revoking))
		}
		fmt.Fprintf(b, " target=%s\n", d.assignmentString(g.target[m.ID]))
	}
}

func writeDescribe(b *strings.Builder, d kmsg.ConsumerGroupDescribeResponseGroup) {
	fmt.Fprintf(b, "describe %s state=%s epoch=%d assignment-epoch=%d assignor=%s\n", d.Group, d.State, d.Epoch, d.AssignmentEpoch, d.AssignorName)
	for _, m := range d.Members {
		var as, ts []string
		for _, t := range m.Assignment.TopicPartitions {
			as = append(as, fmt.Sprintf("%s:%v", t.Topic, t.Partitions))
		}
		for _, t := range m.TargetAssignment.TopicPartitions {
			ts = append(ts, fmt.Sprintf("%s:%v", t.Topic, t.Partitions))
		}
		fmt.Fprintf(b, "  %s epoch=%d type=%d topics=%v assignment=%v target=%v\n", m.MemberID, m.MemberEpoch, m.MemberType, m.SubscribedTopics, as, ts)
	}
}

// reload replays every record written so far into a new group and checks
// it equals the live one.
func (d *driver) reload(b *strings.Builder) {
	l := NewLoader(func(string) *Config { return &d.cfg })
	for _, r := range d.log {
		if err := l.Apply(r); err != nil {
			d.t.Fatalf("replay: %v", err)
		}
	}
	gs, _ := l.Groups(d.now)
	g := gs["g"]
	if g == nil {
		fmt.Fprintf(b, "reloaded: no group\n")
		d.g = New("g", &d.cfg)
		return
	}
	before := &strings.Builder{}
	d.writeGroup(before)
	d.g = g
	after := &strings.Builder{}
	d.writeGroup(after)
	if before.String() != after.String() {
		d.t.Errorf("reload differs:\nlive:\n%sreloaded:\n%s", before, after)
	}
	fmt.Fprintf(b, "reloaded\n")
	d.timers = map[TimerKey]time.Time{}
	for k, at := range g.armed {
		d.timers[k] = at
	}
}

func errName(err *kerr.Error) string {
	if err == nil {
		return "ok"
	}
	return err.Message
}

func errSuffix(err error) string {
	if err != nil {
		return " ERROR " + err.Error()
	}
	return ""
}

func strOr(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}

func argStr(td *datadriven.TestData, key string) string {
	for _, a := range td.CmdArgs {
		if a.Key == key {
			if len(a.Vals) == 0 {
				return ""
			}
			return a.Vals[0]
		}
	}
	return ""
}

func argInt(td *datadriven.TestData, key string) int {
	n, err := strconv.Atoi(argStr(td, key))
	if err != nil {
		panic(fmt.Sprintf("%s: %v", key, err))
	}
	return n
}

func argIntOr(td *datadriven.TestData, key string, def int) int {
	if !td.HasArg(key) {
		return def
	}
	return argInt(td, key)
}
