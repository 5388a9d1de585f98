package group

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestTranscripts runs the rebalance transcripts in testdata/: each
// command is an event fed to one classic group through the fake-clock
// driver, and its output is every reply the event released and the
// group's state after it. Rewrite with -rewrite after a deliberate change.
//
//	join member=<id or -> [instance=<id>] [protocols=range,roundrobin]
//	sync member=<id> gen=<n> [assign=<member>:<bytes>,...]
//	heartbeat member=<id> gen=<n>
//	leave member=<id>
//	advance by=<duration>
func TestTranscripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		tr := &transcript{d: newDriver(t, nil), printed: map[ReqID]bool{}}
		datadriven.RunTest(t, path, tr.run)
	})
}

type transcript struct {
	d       *driver
	printed map[ReqID]bool
}

func (tr *transcript) run(t *testing.T, td *datadriven.TestData) string {
	d := tr.d
	var member string
	if td.HasArg("member") {
		td.ScanArgs(t, "member", &member)
		if member == "-" {
			member = ""
		}
	}
	gen := func() int32 {
		var g int
		td.ScanArgs(t, "gen", &g)
		return int32(g)
	}
	switch td.Cmd {
	case "join":
		var instance *string
		if td.HasArg("instance") {
			var s string
			td.ScanArgs(t, "instance", &s)
			instance = &s
		}
		var protocols []string
		if td.HasArg("protocols") {
			var s string
			td.ScanArgs(t, "protocols", &s)
			protocols = strings.Split(s, ",")
		}
		d.join(member, instance, protocols...)
	case "sync":
		var assign map[string]string
		if td.HasArg("assign") {
			var s string
			td.ScanArgs(t, "assign", &s)
			assign = map[string]string{}
			for _, kv := range strings.Split(s, ",") {
				k, v, _ := strings.Cut(kv, ":")
				assign[k] = v
			}
		}
		d.sync(member, gen(), nil, assign)
	case "heartbeat":
		r := kmsg.NewPtrHeartbeatRequest()
		r.SetVersion(4)
		r.Group, r.MemberID, r.Generation = "g", member, gen()
		d.run(d.g.Heartbeat(d.id(), r, d.now))
	case "leave":
		r := kmsg.NewPtrLeaveGroupRequest()
		r.SetVersion(5)
		r.Group = "g"
		m := kmsg.NewLeaveGroupRequestMember()
		m.MemberID = member
		r.Members = []kmsg.LeaveGroupRequestMember{m}
		d.run(d.g.Leave(d.id(), r, d.now))
	case "advance":
		var by string
		td.ScanArgs(t, "by", &by)
		dur, err := time.ParseDuration(by)
		if err != nil {
			td.Fatalf(t, "advance: %v", err)
		}
		d.advance(dur)
	default:
		td.Fatalf(t, "unknown command %q", td.Cmd)
	}
	return tr.output()
}

// output lists the replies not printed before, by request, then the state.
func (tr *transcript) output() string {
	var ids []ReqID
	for id := range tr.d.replies {
		if !tr.printed[id] {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var b strings.Builder
	for _, id := range ids {
		tr.printed[id] = true
		fmt.Fprintf(&b, "reply %d: %s\n", id, describeReply(tr.d.replies[id]))
	}
	g := tr.d.g
	var members []string
	for _, m := range g.Members() {
		members = append(members, m.ID)
	}
	sort.Strings(members)
	fmt.Fprintf(&b, "state=%v gen=%d protocol=%s leader=%s members=[%s]", g.State(), g.Generation(), g.Protocol(), g.Leader(), strings.Join(members, " "))
	return b.String()
}

func errName(code int16) string {
	if code == 0 {
		return "ok"
	}
	if e, ok := kerr.ErrorForCode(code).(*kerr.Error); ok {
		return e.Message
	}
	return fmt.Sprint(code)
}

func describeReply(r Reply) string {
	switch m := r.Msg.(type) {
	case *kmsg.JoinGroupResponse:
		var ms []string
		for _, x := range m.Members {
			ms = append(ms, x.MemberID)
		}
		sort.Strings(ms)
		return fmt.Sprintf("join %s member=%s gen=%d leader=%s protocol=%s members=[%s]",
			errName(m.ErrorCode), m.MemberID, m.Generation, m.LeaderID, strOr(m.Protocol), strings.Join(ms, " "))
	case *kmsg.SyncGroupResponse:
		return fmt.Sprintf("sync %s assignment=%q", errName(m.ErrorCode), m.MemberAssignment)
	case *kmsg.HeartbeatResponse:
		return "heartbeat " + errName(m.ErrorCode)
	case *kmsg.LeaveGroupResponse:
		code := m.ErrorCode
		if code == 0 && len(m.Members) > 0 {
			code = m.Members[0].ErrorCode
		}
		return "leave " + errName(code)
	}
	return fmt.Sprintf("%T code %d", r.Msg, r.Code)
}

func strOr(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}
