package group

import (
	"encoding/binary"
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
	// log is the partition as the writes and markers built it, for
	// replay; logEnd is its next offset.
	log    []logEntry
	logEnd int64
	// appendErr, when set, fails writes before they reach the log.
	appendErr *kerr.Error
}

// logEntry is one batch of the simulated __consumer_offsets partition: a
// data batch, or a transaction marker of producer.
type logEntry struct {
	batch    []byte
	marker   bool
	producer int64
	commit   bool
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
		if d.appendErr != nil {
			d.run(d.g.WriteDone(w.ID, d.appendErr, d.now))
			continue
		}
		d.written = append(d.written, w.Records...)
		d.appendLog(w)
		if d.hold {
			d.held = append(d.held, w)
			continue
		}
		d.run(d.g.WriteDone(w.ID, nil, d.now))
	}
}

// appendLog puts w in the simulated log as one batch and tells the group
// where it landed.
func (d *driver) appendLog(w Write) {
	var b []byte
	if w.Txn != nil {
		b = EncodeTxnBatch(w.Records, d.now.UnixMilli(), *w.Txn)
	} else {
		b = EncodeBatch(w.Records, d.now.UnixMilli())
	}
	binary.BigEndian.PutUint64(b, uint64(d.logEnd))
	d.log = append(d.log, logEntry{batch: b})
	base := d.logEnd
	d.logEnd += int64(len(w.Records))
	d.g.Appended(w.ID, base)
}

// marker writes producer's transaction marker and applies it, as the
// broker does once the marker is durable.
func (d *driver) marker(producer int64, commit bool) {
	d.log = append(d.log, logEntry{marker: true, producer: producer, commit: commit})
	d.logEnd++
	d.run(d.g.CompleteTxn(producer, commit))
}

// replay loads the simulated log into fresh groups.
func (d *driver) replay() map[string]*Group {
	d.t.Helper()
	l := NewLoader(&d.cfg, d.now)
	for _, e := range d.log {
		if e.marker {
			l.EndTxn(e.producer, e.commit)
			continue
		}
		if err := l.ApplyBatch(e.batch); err != nil {
			d.t.Fatal(err)
		}
	}
	groups, _ := l.Groups(d.now)
	return groups
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
