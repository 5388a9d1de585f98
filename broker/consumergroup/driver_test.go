package consumergroup

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/group"
)

// fakeTopics is a Topics with ids derived from names.
type fakeTopics struct {
	byName  map[string]Topic
	version int64
}

func topicID(name string) Uuid {
	s := sha256.Sum256([]byte(name))
	var id Uuid
	copy(id[:], s[:])
	return id
}

func (f *fakeTopics) ByName(n string) (Topic, bool) { t, ok := f.byName[n]; return t, ok }
func (f *fakeTopics) ByID(id Uuid) (Topic, bool) {
	for _, t := range f.byName {
		if t.ID == id {
			return t, true
		}
	}
	return Topic{}, false
}
func (f *fakeTopics) Each(fn func(Topic) bool) {
	names := make([]string, 0, len(f.byName))
	for n := range f.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !fn(f.byName[n]) {
			return
		}
	}
}
func (f *fakeTopics) Version() int64 { return f.version }

// driver runs one group through a transcript with a fake clock. Writes
// complete at once unless held; timers fire when the clock passes them.
type driver struct {
	t       *testing.T
	cfg     Config
	g       *Group
	topics  *fakeTopics
	now     time.Time
	log     []group.Record // every record written, in order
	timers  map[TimerKey]time.Time
	nextReq group.ReqID
	held    []uint64
	hold    bool
	ids     int
}

func newDriver(t *testing.T) *driver {
	d := &driver{t: t, cfg: DefaultConfig(), topics: &fakeTopics{byName: map[string]Topic{}},
		now: time.UnixMilli(1_000_000), timers: map[TimerKey]time.Time{}}
	d.cfg.NewID = func() string { d.ids++; return fmt.Sprintf("gen-%d", d.ids) }
	d.g = New("g", &d.cfg)
	return d
}

func (d *driver) run(td *datadriven.TestData) string {
	var b strings.Builder
	switch td.Cmd {
	case "config":
		d.configure(td)
		return "ok\n"
	case "topics":
		d.setTopics(td.Input)
		return "ok\n"
	case "heartbeat":
		d.apply(&b, d.g.Heartbeat(d.req(), d.heartbeatReq(td), Client{ID: "client", Host: "/127.0.0.1"}, d.topics, d.now))
	case "leave":
		r := d.heartbeatReq(td)
		r.MemberEpoch = LeaveEpoch
		if td.HasArg("static") {
			r.MemberEpoch = LeaveStaticEpoch
		}
		d.apply(&b, d.g.Heartbeat(d.req(), r, Client{}, d.topics, d.now))
	case "tick":
		d.tick(&b, time.Duration(argInt(td, "ms"))*time.Millisecond)
	case "release":
		held := d.held
		d.held, d.hold = nil, false
		for _, id := range held {
			d.apply(&b, d.g.WriteDone(id, nil, d.now))
		}
	case "fail-writes":
		held := d.held
		d.held, d.hold = nil, false
		for _, id := range held {
			d.apply(&b, d.g.WriteDone(id, kerr.NotCoordinator, d.now))
		}
	case "commit":
		fmt.Fprintf(&b, "%s\n", errName(d.g.ValidateCommit(argStr(td, "member"), int32(argInt(td, "epoch")), td.HasArg("txn"), int16(argIntOr(td, "version", 9)))))
	case "fetch":
		var id *string
		if td.HasArg("member") {
			s := argStr(td, "member")
			id = &s
		}
		fmt.Fprintf(&b, "%s\n", errName(d.g.ValidateFetch(id, int32(argInt(td, "epoch")))))
	case "describe":
		writeDescribe(&b, d.g.Describe(d.topics))
	case "delete":
		if err := d.g.ValidateDelete(); err != nil {
			fmt.Fprintf(&b, "%s\n", errName(err))
			break
		}
		d.apply(&b, d.g.Delete())
	case "reload":
		d.reload(&b)
	case "group":
	default:
		d.t.Fatalf("unknown command %q", td.Cmd)
	}
	d.writeGroup(&b)
	return b.String()
}

func (d *driver) req() group.ReqID { d.nextReq++; return d.nextReq }

func (d *driver) configure(td *datadriven.TestData) {
	for _, a := range td.CmdArgs {
		v, _ := strconv.Atoi(a.Vals[0])
		switch a.Key {
		case "session":
			d.cfg.SessionTimeout = time.Duration(v) * time.Millisecond
		case "interval":
			d.cfg.AssignmentInterval = time.Duration(v) * time.Millisecond
		case "max":
			d.cfg.MaxSize = v
		case "assignors":
			d.cfg.Assignors = a.Vals
		case "hold":
			d.hold = true
		}
	}
}

func (d *driver) setTopics(input string) {
	d.topics.byName = map[string]Topic{}
	for _, line := range strings.Split(strings.TrimSpace(input), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		n, _ := strconv.Atoi(f[1])
		d.topics.byName[f[0]] = Topic{ID: topicID(f[0]), Name: f[0], Partitions: int32(n)}
	}
	d.topics.version++
}

func (d *driver) heartbeatReq(td *datadriven.TestData) *kmsg.ConsumerGroupHeartbeatRequest {
	r := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	r.Version = int16(argIntOr(td, "version", 1))
	r.Group = "g"
	r.MemberID = argStr(td, "member")
	r.MemberEpoch = int32(argIntOr(td, "epoch", 0))
	r.RebalanceTimeoutMillis = int32(argIntOr(td, "rebalance", -1))
	if td.HasArg("instance") {
		s := argStr(td, "instance")
		r.InstanceID = &s
	}
	if td.HasArg("topics") {
		r.SubscribedTopicNames = []string{}
		for _, a := range td.CmdArgs {
			if a.Key == "topics" {
				r.SubscribedTopicNames = append(r.SubscribedTopicNames, strings.Split(strings.Join(a.Vals, ","), ",")...)
			}
		}
		r.SubscribedTopicNames = slices.DeleteFunc(r.SubscribedTopicNames, func(s string) bool { return s == "" })
	}
	if td.HasArg("regex") {
		s := argStr(td, "regex")
		r.SubscribedTopicRegex = &s
	}
	if td.HasArg("assignor") {
		s := argStr(td, "assignor")
		r.ServerAssignor = &s
	}
	if td.HasArg("owned") {
		r.Topics = d.parseOwned(td)
	}
	if r.MemberEpoch == 0 && r.Topics == nil {
		r.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	}
	return r
}

// parseOwned reads owned=t1:0.1.2,t2:0 (partitions dot-separated).
func (d *driver) parseOwned(td *datadriven.TestData) []kmsg.ConsumerGroupHeartbeatRequestTopic {
	out := []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	for _, a := range td.CmdArgs {
		if a.Key != "owned" {
			continue
		}
		for _, v := range strings.Split(strings.Join(a.Vals, ","), ",") {
			if v == "" {
				continue
			}
			name, ps, _ := strings.Cut(v, ":")
			t := kmsg.NewConsumerGroupHeartbeatRequestTopic()
			t.TopicID = topicID(name)
			for _, p := range strings.Split(ps, ".") {
				n, _ := strconv.Atoi(p)
				t.Partitions = append(t.Partitions, int32(n))
			}
			out = append(out, t)
		}
	}
	return out
}
