package group

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// driver runs a Group the way the broker does, with a fake clock: it
// completes writes at once (unless held), fires timers as time advances
// and collects replies by request.
type driver struct {
	t       *testing.T
	cfg     Config
	g       *Group
	now     time.Time
	next    ReqID
	replies map[ReqID]Reply
	timers  []Timer
	held    []Write // writes not yet completed when holdWrites is set
	written []Record
	hold    bool
	ids     int
}

func newDriver(t *testing.T, mod func(*Config)) *driver {
	d := &driver{t: t, now: time.Unix(1_700_000_000, 0), replies: map[ReqID]Reply{}}
	d.cfg = DefaultConfig()
	d.cfg.InitialRebalanceDelay = 0
	d.cfg.MinSessionTimeout = time.Second
	d.cfg.NewMemberID = func(prefix string) string {
		d.ids++
		return fmt.Sprintf("%s-%d", prefix, d.ids)
	}
	if mod != nil {
		mod(&d.cfg)
	}
	d.g = New("g", &d.cfg, d.now)
	return d
}

func (d *driver) id() ReqID {
	d.next++
	return d.next
}

// run carries out an Out.
func (d *driver) run(out Out) {
	for _, r := range out.Replies {
		if _, dup := d.replies[r.To]; dup {
			d.t.Fatalf("request %d answered twice", r.To)
		}
		d.replies[r.To] = r
	}
	d.timers = append(d.timers, out.Timers...)
	for _, w := range out.Writes {
		d.written = append(d.written, w.Records...)
		if d.hold {
			d.held = append(d.held, w)
			continue
		}
		d.run(d.g.WriteDone(w.ID, nil, d.now))
	}
}

// release completes held writes with err.
func (d *driver) release(err *kerr.Error) {
	held := d.held
	d.held, d.hold = nil, false
	for _, w := range held {
		d.run(d.g.WriteDone(w.ID, err, d.now))
	}
}

// advance moves the clock, firing due timers in time order.
func (d *driver) advance(by time.Duration) {
	end := d.now.Add(by)
	for {
		slices.SortStableFunc(d.timers, func(a, b Timer) int { return a.At.Compare(b.At) })
		if len(d.timers) == 0 || d.timers[0].At.After(end) {
			break
		}
		t := d.timers[0]
		d.timers = d.timers[1:]
		if t.At.After(d.now) {
			d.now = t.At
		}
		d.run(d.g.Fire(t.Key, t.At, d.now))
	}
	d.now = end
}

func (d *driver) reply(id ReqID) (Reply, bool) {
	r, ok := d.replies[id]
	return r, ok
}

func consumerProtocols(names ...string) []kmsg.JoinGroupRequestProtocol {
	var out []kmsg.JoinGroupRequestProtocol
	for _, n := range names {
		md := kmsg.NewConsumerMemberMetadata()
		md.Topics = []string{"t"}
		p := kmsg.NewJoinGroupRequestProtocol()
		p.Name, p.Metadata = n, md.AppendTo(nil)
		out = append(out, p)
	}
	return out
}

// join sends a JoinGroup v9 and returns its request id.
func (d *driver) join(memberID string, instance *string, protocols ...string) ReqID {
	if len(protocols) == 0 {
		protocols = []string{"range"}
	}
	r := kmsg.NewPtrJoinGroupRequest()
	r.SetVersion(9)
	r.Group, r.MemberID, r.InstanceID = "g", memberID, instance
	r.SessionTimeoutMillis, r.RebalanceTimeoutMillis = 10_000, 30_000
	r.ProtocolType, r.Protocols = "consumer", consumerProtocols(protocols...)
	id := d.id()
	d.run(d.g.Join(id, r, "client", "/127.0.0.1", d.now))
	return id
}

// joinResp returns the JoinGroup answer of id, failing if there is none.
func (d *driver) joinResp(id ReqID) *kmsg.JoinGroupResponse {
	d.t.Helper()
	r, ok := d.reply(id)
	if !ok {
		d.t.Fatalf("join %d not answered", id)
	}
	return r.Msg.(*kmsg.JoinGroupResponse)
}

func (d *driver) sync(memberID string, gen int32, instance *string, assign map[string]string) ReqID {
	r := kmsg.NewPtrSyncGroupRequest()
	r.SetVersion(5)
	r.Group, r.MemberID, r.Generation, r.InstanceID = "g", memberID, gen, instance
	for m, a := range assign {
		ga := kmsg.NewSyncGroupRequestGroupAssignment()
		ga.MemberID, ga.MemberAssignment = m, []byte(a)
		r.GroupAssignment = append(r.GroupAssignment, ga)
	}
	id := d.id()
	d.run(d.g.Sync(id, r, d.now))
	return id
}

func (d *driver) syncResp(id ReqID) *kmsg.SyncGroupResponse {
	d.t.Helper()
	r, ok := d.reply(id)
	if !ok {
		d.t.Fatalf("sync %d not answered", id)
	}
	return r.Msg.(*kmsg.SyncGroupResponse)
}

func (d *driver) heartbeat(memberID string, gen int32, instance *string) error {
	r := kmsg.NewPtrHeartbeatRequest()
	r.SetVersion(4)
	r.Group, r.MemberID, r.Generation, r.InstanceID = "g", memberID, gen, instance
	id := d.id()
	d.run(d.g.Heartbeat(id, r, d.now))
	return kerr.ErrorForCode(d.replies[id].Msg.(*kmsg.HeartbeatResponse).ErrorCode)
}

func (d *driver) commit(memberID string, gen int32, version int16, offsets map[string]int64) ReqID {
	r := kmsg.NewPtrOffsetCommitRequest()
	r.SetVersion(version)
	r.Group, r.MemberID, r.Generation = "g", memberID, gen
	for topic, off := range offsets {
		t := kmsg.NewOffsetCommitRequestTopic()
		t.Topic = topic
		p := kmsg.NewOffsetCommitRequestTopicPartition()
		md := "md-" + topic
		p.Partition, p.Offset, p.Metadata, p.LeaderEpoch = 0, off, &md, 3
		t.Partitions = append(t.Partitions, p)
		r.Topics = append(r.Topics, t)
	}
	id := d.id()
	exists := func(topic string, _ int32) bool { return topic != "missing" }
	d.run(d.g.Commit(id, r, exists, d.now))
	return id
}

func (d *driver) commitErr(id ReqID) error {
	d.t.Helper()
	r, ok := d.reply(id)
	if !ok {
		d.t.Fatalf("commit %d not answered", id)
	}
	return kerr.ErrorForCode(r.Msg.(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode)
}

// stable forms a stable group of n dynamic members and returns their ids.
func (d *driver) stable(n int) []string {
	d.t.Helper()
	var ids []string
	var joins []ReqID
	for range n {
		first := d.joinResp(d.join("", nil))
		ids = append(ids, first.MemberID)
	}
	for _, m := range ids {
		joins = append(joins, d.join(m, nil))
	}
	d.advance(0)
	gen := d.g.Generation()
	var syncs []ReqID
	for i, m := range ids {
		resp := d.joinResp(joins[i])
		if resp.ErrorCode != 0 {
			d.t.Fatalf("join of %s: %v", m, kerr.ErrorForCode(resp.ErrorCode))
		}
		assign := map[string]string(nil)
		if resp.LeaderID == m {
			assign = map[string]string{}
			for _, o := range ids {
				assign[o] = "a-" + o
			}
		}
		syncs = append(syncs, d.sync(m, gen, nil, assign))
	}
	for _, s := range syncs {
		if e := d.syncResp(s).ErrorCode; e != 0 {
			d.t.Fatalf("sync: %v", kerr.ErrorForCode(e))
		}
	}
	if d.g.State() != Stable {
		d.t.Fatalf("state %v, want Stable", d.g.State())
	}
	return ids
}

func ptr(s string) *string { return &s }

func leaveReq(member, instance string) *kmsg.LeaveGroupRequest {
	r := kmsg.NewPtrLeaveGroupRequest()
	r.SetVersion(5)
	r.Group = "g"
	m := kmsg.NewLeaveGroupRequestMember()
	m.MemberID, m.InstanceID = member, &instance
	r.Members = []kmsg.LeaveGroupRequestMember{m}
	return r
}

func leaveCode(d *driver, id ReqID) int16 {
	return d.replies[id].Msg.(*kmsg.LeaveGroupResponse).Members[0].ErrorCode
}
