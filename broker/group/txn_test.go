package group

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"
	"time"

	"spool/record"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// txnCommit sends a TxnOffsetCommit of producer pid for partition 0 of
// each topic and returns its request id.
func (d *driver) txnCommit(pid int64, version int16, memberID string, gen int32, instance *string, offsets map[string]int64) ReqID {
	r := kmsg.NewPtrTxnOffsetCommitRequest()
	r.SetVersion(version)
	r.TransactionalID, r.Group, r.ProducerID, r.ProducerEpoch = "tx", "g", pid, 2
	r.MemberID, r.Generation, r.InstanceID = memberID, gen, instance
	for _, topic := range sortedKeys(offsets) {
		t := kmsg.NewTxnOffsetCommitRequestTopic()
		t.Topic = topic
		p := kmsg.NewTxnOffsetCommitRequestTopicPartition()
		md := fmt.Sprintf("txn-%d", pid)
		p.Partition, p.Offset, p.Metadata, p.LeaderEpoch = 0, offsets[topic], &md, 5
		t.Partitions = append(t.Partitions, p)
		r.Topics = append(r.Topics, t)
	}
	id := d.id()
	exists := func(topic string, _ int32) bool { return topic != "missing" }
	d.run(d.g.TxnCommit(id, r, exists, d.now))
	return id
}

func sortedKeys(m map[string]int64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}

// txnErrs returns the per-topic error of a TxnOffsetCommit answer.
func (d *driver) txnErrs(id ReqID) map[string]error {
	d.t.Helper()
	r, ok := d.reply(id)
	if !ok {
		d.t.Fatalf("txn commit %d not answered", id)
	}
	out := map[string]error{}
	for _, t := range r.Msg.(*kmsg.TxnOffsetCommitResponse).Topics {
		out[t.Topic] = kerr.ErrorForCode(t.Partitions[0].ErrorCode)
	}
	return out
}

func (d *driver) committed(topic string) (int64, bool) {
	o, ok := d.g.Lookup(TopicPartition{topic, 0})
	return o.Offset, ok
}

func TestTxnOffsetsPendingUntilCommitMarker(t *testing.T) {
	d := newDriver(t, nil)
	id := d.txnCommit(7, 0, "", -1, nil, map[string]int64{"t": 10, "u": 20})
	if errs := d.txnErrs(id); errs["t"] != nil || errs["u"] != nil {
		t.Fatalf("txn commit: %v", errs)
	}
	if _, ok := d.committed("t"); ok {
		t.Fatal("a pending transactional offset is visible before its marker")
	}
	if !d.g.HasPendingTxn(TopicPartition{"t", 0}) || d.g.HasPendingTxn(TopicPartition{"v", 0}) {
		t.Fatal("pending partitions wrong")
	}
	if d.g.Removable() {
		t.Fatal("a group holding only pending offsets must not be forgotten")
	}
	d.marker(8, true) // another producer's marker changes nothing
	if _, ok := d.committed("t"); ok {
		t.Fatal("another producer's marker committed the offsets")
	}
	d.marker(7, true)
	if off, ok := d.committed("t"); !ok || off != 10 {
		t.Fatalf("after commit marker: t at %d %v, want 10", off, ok)
	}
	o, _ := d.g.Lookup(TopicPartition{"u", 0})
	if o.Offset != 20 || o.Metadata != "txn-7" || o.LeaderEpoch != 5 {
		t.Fatalf("committed u: %+v", o)
	}
	if d.g.HasPendingTxn(TopicPartition{"t", 0}) || len(d.g.TxnProducers()) != 0 {
		t.Fatal("offsets still pending after the marker")
	}
}

func TestTxnOffsetsDroppedByAbortMarker(t *testing.T) {
	d := newDriver(t, nil)
	d.commit("", -1, 9, map[string]int64{"t": 3})
	d.txnCommit(7, 2, "", -1, nil, map[string]int64{"t": 10, "u": 20})
	d.marker(7, false)
	if off, _ := d.committed("t"); off != 3 {
		t.Fatalf("after abort: t at %d, want the plain commit's 3", off)
	}
	if _, ok := d.committed("u"); ok || d.g.HasPendingTxn(TopicPartition{"u", 0}) {
		t.Fatal("aborted offset survived")
	}
	d.marker(7, true) // a stray later marker has nothing to commit
	if _, ok := d.committed("u"); ok {
		t.Fatal("second marker resurrected aborted offsets")
	}
}

// Of a plain and a transactional commit of one partition, the one later in
// the log wins, whenever the marker comes.
func TestTxnAndPlainCommitsOrderedByLog(t *testing.T) {
	d := newDriver(t, nil)
	d.commit("", -1, 9, map[string]int64{"t": 1, "u": 1})
	d.txnCommit(7, 3, "", -1, nil, map[string]int64{"t": 100, "u": 100})
	d.commit("", -1, 9, map[string]int64{"u": 2}) // after the txn record
	if off, _ := d.committed("t"); off != 1 {
		t.Fatalf("t at %d before the marker, want 1", off)
	}
	d.marker(7, true)
	if off, _ := d.committed("t"); off != 100 {
		t.Fatalf("t at %d, want the transaction's 100 (later in the log)", off)
	}
	if off, _ := d.committed("u"); off != 2 {
		t.Fatalf("u at %d, want the plain commit's 2 (later in the log than the transaction's)", off)
	}
	assertReplayMatches(t, d)
}

// Plain commits may become durable out of order; the later one in the log
// still wins.
func TestPlainCommitsDurableOutOfOrder(t *testing.T) {
	d := newDriver(t, nil)
	d.hold = true
	first := d.commit("", -1, 9, map[string]int64{"t": 1})
	d.hold = true
	second := d.commit("", -1, 9, map[string]int64{"t": 2})
	held := d.held
	d.held, d.hold = nil, false
	d.run(d.g.WriteDone(held[1].ID, nil, d.now))
	d.run(d.g.WriteDone(held[0].ID, nil, d.now))
	if d.commitErr(first) != nil || d.commitErr(second) != nil {
		t.Fatal("commits failed")
	}
	if off, _ := d.committed("t"); off != 2 {
		t.Fatalf("t at %d, want 2: the earlier write finished last but is older in the log", off)
	}
}

func TestTxnCommitValidation(t *testing.T) {
	d := newDriver(t, nil)
	ids := d.stable(2)
	gen := d.g.Generation()
	cases := []struct {
		name     string
		member   string
		gen      int32
		instance *string
		want     error
	}{
		{"v0-v2 carry no member: accepted in a live group", "", -1, nil, nil},
		{"current member and generation", ids[0], gen, nil, nil},
		{"stale generation", ids[0], gen - 1, nil, kerr.IllegalGeneration},
		{"unknown member", "nobody", gen, nil, kerr.UnknownMemberID},
		{"unknown static member", ids[0], gen, ptr("inst"), kerr.UnknownMemberID},
	}
	for _, c := range cases {
		id := d.txnCommit(7, 3, c.member, c.gen, c.instance, map[string]int64{"t": 1})
		if got := d.txnErrs(id)["t"]; got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}

	// A rebalance in progress does not stop a transaction.
	d.join(d.joinResp(d.join("", nil)).MemberID, nil)
	if d.g.State() != PreparingRebalance {
		t.Fatalf("state %v", d.g.State())
	}
	if got := d.txnErrs(d.txnCommit(7, 3, ids[0], gen, nil, map[string]int64{"t": 1}))["t"]; got != nil {
		t.Fatalf("during a rebalance: %v", got)
	}

	// Per-partition checks.
	big := make([]byte, d.cfg.MaxMetadataSize+1)
	r := kmsg.NewPtrTxnOffsetCommitRequest()
	r.SetVersion(3)
	r.Group, r.ProducerID, r.Generation = "g", 9, -1
	for _, topic := range []string{"ok", "missing", "big"} {
		tt := kmsg.NewTxnOffsetCommitRequestTopic()
		tt.Topic = topic
		p := kmsg.NewTxnOffsetCommitRequestTopicPartition()
		if topic == "big" {
			md := string(big)
			p.Metadata = &md
		}
		tt.Partitions = append(tt.Partitions, p)
		r.Topics = append(r.Topics, tt)
	}
	id := d.id()
	d.run(d.g.TxnCommit(id, r, func(topic string, _ int32) bool { return topic != "missing" }, d.now))
	errs := d.txnErrs(id)
	if errs["ok"] != nil || errs["missing"] != kerr.UnknownTopicOrPartition || errs["big"] != kerr.OffsetMetadataTooLarge {
		t.Fatalf("per-partition errors: %v", errs)
	}
	if !d.g.HasPendingTxn(TopicPartition{"ok", 0}) || d.g.HasPendingTxn(TopicPartition{"big", 0}) {
		t.Fatal("only the valid partition may be pending")
	}
}

func TestTxnCommitStaticMemberFenced(t *testing.T) {
	d := newDriver(t, nil)
	first := d.joinResp(d.join("", ptr("inst")))
	d.advance(0)
	gen := d.g.Generation()
	id := d.txnCommit(7, 3, "old-member-id", gen, ptr("inst"), map[string]int64{"t": 1})
	if got := d.txnErrs(id)["t"]; got != kerr.FencedInstanceID {
		t.Fatalf("fenced static member: %v (member %s)", got, first.MemberID)
	}
}

// A batch that never reached the log leaves nothing pending.
func TestTxnCommitAppendFailure(t *testing.T) {
	d := newDriver(t, nil)
	d.appendErr = kerr.NotCoordinator
	id := d.txnCommit(7, 3, "", -1, nil, map[string]int64{"t": 1})
	if got := d.txnErrs(id)["t"]; got != kerr.NotCoordinator {
		t.Fatalf("append failure answered %v", got)
	}
	if d.g.HasPendingTxn(TopicPartition{"t", 0}) {
		t.Fatal("failed append left a pending offset")
	}
}

// The reply waits for durability; the offsets are pending from the append.
func TestTxnCommitRepliesWhenDurable(t *testing.T) {
	d := newDriver(t, nil)
	d.hold = true
	id := d.txnCommit(7, 3, "", -1, nil, map[string]int64{"t": 1})
	if _, ok := d.reply(id); ok {
		t.Fatal("answered before the batch was durable")
	}
	if !d.g.HasPendingTxn(TopicPartition{"t", 0}) {
		t.Fatal("an appended transactional offset must be pending (RequireStable sees it)")
	}
	d.release(nil)
	if got := d.txnErrs(id)["t"]; got != nil {
		t.Fatal(got)
	}
}

func TestExpiryKeepsPendingTxnOffsets(t *testing.T) {
	d := newDriver(t, func(c *Config) { c.OffsetsRetention = time.Hour })
	d.commit("", -1, 9, map[string]int64{"t": 1, "u": 1})
	d.txnCommit(7, 3, "", -1, nil, map[string]int64{"t": 5})
	d.advance(2 * time.Hour)
	d.run(d.g.Expire(d.now))
	if _, ok := d.committed("t"); !ok {
		t.Fatal("an offset with a pending transactional commit expired")
	}
	if _, ok := d.committed("u"); ok {
		t.Fatal("u should have expired")
	}
	if d.g.State() == Dead {
		t.Fatal("a group with an open transaction was deleted")
	}
	d.marker(7, true)
	if off, _ := d.committed("t"); off != 5 {
		t.Fatalf("t at %d after the marker, want 5", off)
	}
}

// A group whose offsets all expired but that holds pending offsets lives
// on; once the transaction aborts, expiry may delete it.
func TestExpiryDoesNotDeleteGroupWithOpenTxn(t *testing.T) {
	d := newDriver(t, func(c *Config) { c.OffsetsRetention = time.Hour })
	d.commit("", -1, 9, map[string]int64{"u": 1})
	d.txnCommit(7, 3, "", -1, nil, map[string]int64{"t": 5})
	d.advance(2 * time.Hour)
	d.run(d.g.Expire(d.now))
	if d.g.State() == Dead || !d.g.HasPendingTxn(TopicPartition{"t", 0}) {
		t.Fatalf("state %v pending %v", d.g.State(), d.g.HasPendingTxn(TopicPartition{"t", 0}))
	}
	d.marker(7, false)
	d.run(d.g.Expire(d.now))
	if d.g.State() != Dead {
		t.Fatalf("state %v after abort and expiry, want Dead", d.g.State())
	}
}

func TestOffsetDeleteDropsPendingTxnOffsets(t *testing.T) {
	d := newDriver(t, nil)
	d.txnCommit(7, 3, "", -1, nil, map[string]int64{"t": 5, "u": 6})
	r := kmsg.NewPtrOffsetDeleteRequest()
	r.Group = "g"
	dt := kmsg.NewOffsetDeleteRequestTopic()
	dt.Topic = "t"
	dp := kmsg.NewOffsetDeleteRequestTopicPartition()
	dt.Partitions = append(dt.Partitions, dp)
	r.Topics = append(r.Topics, dt)
	id := d.id()
	d.run(d.g.DeleteOffsets(id, r, d.now))
	if resp := d.replies[id].Msg.(*kmsg.OffsetDeleteResponse); resp.ErrorCode != 0 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("offset delete: %+v", resp)
	}
	if d.g.HasPendingTxn(TopicPartition{"t", 0}) || !d.g.HasPendingTxn(TopicPartition{"u", 0}) {
		t.Fatal("the tombstone must drop t's pending offset and only t's")
	}
	d.marker(7, true)
	if _, ok := d.committed("t"); ok {
		t.Fatal("deleted pending offset committed")
	}
	if off, _ := d.committed("u"); off != 6 {
		t.Fatalf("u at %d", off)
	}
	assertReplayMatches(t, d)
}

func TestDeleteGroupDropsPendingTxnOffsets(t *testing.T) {
	d := newDriver(t, nil)
	d.commit("", -1, 9, map[string]int64{"t": 1})
	d.txnCommit(7, 3, "", -1, nil, map[string]int64{"t": 5, "u": 6})
	id := d.id()
	d.run(d.g.Delete(id, d.now))
	if code := d.replies[id].Code; code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	if d.g.State() != Dead || d.g.HasPendingTxn(TopicPartition{"u", 0}) {
		t.Fatal("deleted group kept pending offsets")
	}
	if groups := d.replay(); groups["g"] != nil {
		t.Fatalf("deleted group reloads: offsets %v pending %v", groups["g"].offsets, groups["g"].txnOffsets)
	}
}

func TestLoadKeepsPendingUntilMarker(t *testing.T) {
	d := newDriver(t, nil)
	d.commit("", -1, 9, map[string]int64{"t": 1})
	d.txnCommit(7, 3, "", -1, nil, map[string]int64{"t": 5})
	d.txnCommit(8, 3, "", -1, nil, map[string]int64{"u": 9})
	d.marker(8, false)
	g := d.replay()["g"]
	if g == nil {
		t.Fatal("group not loaded")
	}
	if o, _ := g.Lookup(TopicPartition{"t", 0}); o.Offset != 1 {
		t.Fatalf("loaded t at %d, want the plain 1", o.Offset)
	}
	if !g.HasPendingTxn(TopicPartition{"t", 0}) || g.HasPendingTxn(TopicPartition{"u", 0}) {
		t.Fatal("loaded pending offsets wrong")
	}
	if ps := g.TxnProducers(); len(ps) != 1 || ps[0] != 7 {
		t.Fatalf("loaded producers %v", ps)
	}
	g.CompleteTxn(7, true)
	if o, _ := g.Lookup(TopicPartition{"t", 0}); o.Offset != 5 {
		t.Fatalf("after the marker: t at %d, want 5", o.Offset)
	}

	// A group holding nothing but a pending offset is loaded too.
	d2 := newDriver(t, nil)
	d2.txnCommit(7, 0, "", -1, nil, map[string]int64{"t": 5})
	if g := d2.replay()["g"]; g == nil || !g.HasPendingTxn(TopicPartition{"t", 0}) {
		t.Fatal("a group with only pending offsets was not loaded")
	}
}

// Random interleavings of plain commits, transactional commits of two
// producers, markers, offset deletions and out-of-order durability: the
// live group always equals a replay of its log.
func TestTxnRandomInterleavingsReplay(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0))
		d := newDriver(t, nil)
		topics := []string{"a", "b", "c"}
		pick := func() map[string]int64 {
			m := map[string]int64{}
			for _, tp := range topics {
				if rng.IntN(2) == 0 {
					m[tp] = rng.Int64N(1000)
				}
			}
			if len(m) == 0 {
				m[topics[rng.IntN(len(topics))]] = rng.Int64N(1000)
			}
			return m
		}
		for step := 0; step < 40; step++ {
			d.hold = rng.IntN(4) == 0
			switch op := rng.IntN(10); {
			case op < 3:
				d.commit("", -1, 9, pick())
			case op < 6:
				d.txnCommit(int64(1+rng.IntN(2)), 3, "", -1, nil, pick())
			case op < 8:
				d.marker(int64(1+rng.IntN(2)), rng.IntN(3) > 0)
			default:
				r := kmsg.NewPtrOffsetDeleteRequest()
				r.Group = "g"
				dt := kmsg.NewOffsetDeleteRequestTopic()
				dt.Topic = topics[rng.IntN(len(topics))]
				dt.Partitions = append(dt.Partitions, kmsg.NewOffsetDeleteRequestTopicPartition())
				r.Topics = append(r.Topics, dt)
				d.run(d.g.DeleteOffsets(d.id(), r, d.now))
			}
			if rng.IntN(3) == 0 || step == 39 {
				held := d.held
				d.held, d.hold = nil, false
				rng.Shuffle(len(held), func(i, j int) { held[i], held[j] = held[j], held[i] })
				for _, w := range held {
					d.run(d.g.WriteDone(w.ID, nil, d.now))
				}
				if msg := replayMismatch(d); msg != "" {
					t.Fatalf("seed %d step %d: %s", seed, step, msg)
				}
			}
		}
	}
}

// assertReplayMatches checks that reloading the driver's log gives the
// live group's committed and pending offsets.
func assertReplayMatches(t *testing.T, d *driver) {
	t.Helper()
	if msg := replayMismatch(d); msg != "" {
		t.Fatal(msg)
	}
}

func replayMismatch(d *driver) string {
	g := d.replay()["g"]
	liveOffsets, livePending := d.g.offsets, d.g.txnOffsets
	var offsets map[TopicPartition]Offset
	var pending map[int64]map[TopicPartition]Offset
	if g != nil {
		offsets, pending = g.offsets, g.txnOffsets
	}
	if !maps.Equal(offsets, liveOffsets) && len(offsets)+len(liveOffsets) > 0 {
		return fmt.Sprintf("committed offsets:\nreplay %v\nlive   %v", offsets, liveOffsets)
	}
	if len(pending) != len(livePending) {
		return fmt.Sprintf("pending producers: replay %v live %v", pending, livePending)
	}
	for pid, m := range livePending {
		if !maps.Equal(m, pending[pid]) {
			return fmt.Sprintf("pending of %d:\nreplay %v\nlive   %v", pid, pending[pid], m)
		}
	}
	return ""
}

func TestEncodeTxnBatchHeader(t *testing.T) {
	recs := []Record{{Key: OffsetKey("g", "t", 0), Value: OffsetValue(Offset{Offset: 1})}}
	b := EncodeTxnBatch(recs, 1234, Producer{ID: 99, Epoch: 3})
	be := binary.BigEndian
	if attrs := be.Uint16(b[21:]); attrs != record.AttrTransactional {
		t.Fatalf("attributes %#x, want only the transactional bit", attrs)
	}
	if pid, epoch, seq := int64(be.Uint64(b[43:])), int16(be.Uint16(b[51:])), int32(be.Uint32(b[53:])); pid != 99 || epoch != 3 || seq != -1 {
		t.Fatalf("producer %d epoch %d sequence %d", pid, epoch, seq)
	}
	if _, err := record.Validate(b); err != nil {
		t.Fatal("bad crc")
	}
	plain := EncodeBatch(recs, 1234)
	if pid := int64(be.Uint64(plain[43:])); pid != -1 || be.Uint16(plain[21:]) != 0 {
		t.Fatal("a plain batch must carry no producer")
	}
}

// ApplyBatch gives each record its own offset from its offset delta:
// compaction leaves gaps inside batches.
func TestApplyBatchUsesOffsetDeltas(t *testing.T) {
	cfg := DefaultConfig()
	r0 := Record{Key: OffsetKey("g", "t", 0), Value: OffsetValue(Offset{Offset: 5})}
	r2 := Record{Key: OffsetKey("g", "t", 1), Value: OffsetValue(Offset{Offset: 6})}
	var recs []byte
	recs = record.AppendRecord(recs, record.Record{OffsetDelta: 0, Key: r0.Key, Value: r0.Value})
	// The record at delta 1 was compacted away.
	recs = record.AppendRecord(recs, record.Record{OffsetDelta: 2, Key: r2.Key, Value: r2.Value})
	b := record.AppendBatch(nil, record.Header{BaseOffset: 100, LastOffsetDelta: 2, ProducerID: -1, NumRecords: 2}, recs)
	l := NewLoader(&cfg, time.Unix(0, 0))
	if err := l.ApplyBatch(b); err != nil {
		t.Fatal(err)
	}
	groups, _ := l.Groups(time.Unix(0, 0))
	if o, _ := groups["g"].Lookup(TopicPartition{"t", 1}); o.LogOffset != 102 {
		t.Fatalf("record at delta 2 loaded at log offset %d, want 102", o.LogOffset)
	}
}
