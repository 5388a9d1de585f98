package broker

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/broker/group"
	"spool/config"
	"spool/controller/metadata"
	"spool/protocol"
	"spool/record"
	"spool/storage"
)

var offsetsTopicID = [16]byte{9, 9, 9}

// groupBroker is a broker leading a one-partition __consumer_offsets and
// hosting the metadata of testTopic (two partitions), with its group
// coordinator loaded.
type groupBroker struct {
	b  *Broker
	p  *partition // __consumer_offsets-0
	mp *metadata.Partition
}

func newGroupBroker(t *testing.T) *groupBroker {
	t.Helper()
	lg := zap.NewNop()
	b := &Broker{cfg: Config{NodeID: 1, Static: config.MustNew(nil)}, log: lg}
	b.meta = newMetadataFollower(nil, nil, lg)
	b.replicas = newReplicaManager(b)
	d := metadata.NewDelta(metadata.Empty())
	recs := []metadata.Record{
		&metadata.TopicRecord{Name: testTopic, TopicID: testTopicID},
		&metadata.PartitionRecord{TopicID: testTopicID, PartitionID: 0, Replicas: []int32{1}, ISR: []int32{1}, Leader: 1},
		&metadata.PartitionRecord{TopicID: testTopicID, PartitionID: 1, Replicas: []int32{1}, ISR: []int32{1}, Leader: 1},
		&metadata.TopicRecord{Name: offsetsTopic, TopicID: offsetsTopicID},
		&metadata.PartitionRecord{TopicID: offsetsTopicID, Replicas: []int32{1}, ISR: []int32{1}, Leader: 1, LeaderEpoch: 2},
	}
	for _, r := range recs {
		if err := d.Replay(r); err != nil {
			t.Fatal(err)
		}
	}
	img := d.Apply()
	b.meta.image.Store(img)
	l, err := storage.Open(t.TempDir(), b.replicas.storageConfig(img, offsetsTopic), storage.Options{Logger: lg})
	if err != nil {
		t.Fatal(err)
	}
	p := newPartition(offsetsTopic, 0, offsetsTopicID, l)
	if err := p.loadProducerState(); err != nil {
		t.Fatal(err)
	}
	mp := img.Topics.ByName(offsetsTopic).Partition(0)
	p.setState(mp, 1)
	b.replicas.parts[tp{offsetsTopic, 0}] = p
	b.groups = newCoordinator(b)
	t.Cleanup(func() {
		b.groups.close()
		l.Close()
	})
	gb := &groupBroker{b: b, p: p, mp: mp}
	gb.load(t, mp)
	return gb
}

// load (re)loads the coordinator's shard at mp's leader epoch and waits
// until its groups are served.
func (gb *groupBroker) load(t *testing.T, mp *metadata.Partition) {
	t.Helper()
	c := gb.b.groups
	if sh := c.follow(0, mp); sh != nil {
		go c.load(sh)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		c.mu.Lock()
		sh := c.shards[0]
		c.mu.Unlock()
		if sh != nil && sh.epoch == mp.LeaderEpoch && sh.loaded.Load() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("__consumer_offsets-0 never loaded")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// serve runs a handler on req encoded at version and waits for its answer.
func serve(t *testing.T, h protocol.ServeFunc, req kmsg.Request, version int16) kmsg.Response {
	t.Helper()
	req.SetVersion(version)
	body := req.AppendTo(nil)
	msg := kmsg.RequestForKey(req.Key())
	msg.SetVersion(version)
	if err := msg.ReadFrom(body); err != nil {
		t.Fatal(err)
	}
	got := make(chan protocol.Response, 1)
	h(&protocol.Request{Header: protocol.Header{Key: req.Key(), Version: version}, Body: body, Msg: msg},
		func(r protocol.Response) { got <- r })
	select {
	case r := <-got:
		return r.Msg
	case <-time.After(15 * time.Second):
		t.Fatal("no answer")
		return nil
	}
}

func (gb *groupBroker) txnCommit(t *testing.T, version int16, pid int64, epoch int16, offsets map[int32]int64) *kmsg.TxnOffsetCommitResponse {
	t.Helper()
	r := kmsg.NewPtrTxnOffsetCommitRequest()
	r.TransactionalID, r.Group, r.ProducerID, r.ProducerEpoch = "tx", "g", pid, epoch
	rt := kmsg.NewTxnOffsetCommitRequestTopic()
	rt.Topic = testTopic
	for _, p := range []int32{0, 1, 9} {
		off, ok := offsets[p]
		if !ok {
			continue
		}
		rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset = p, off
		rt.Partitions = append(rt.Partitions, rp)
	}
	r.Topics = append(r.Topics, rt)
	return serve(t, gb.b.handleTxnOffsetCommit, r, version).(*kmsg.TxnOffsetCommitResponse)
}

// fetch answers OffsetFetch v7 for testTopic partitions 0 and 1 as
// partition -> (offset, error).
func (gb *groupBroker) fetch(t *testing.T, stable bool) map[int32][2]int64 {
	t.Helper()
	r := kmsg.NewPtrOffsetFetchRequest()
	r.Group, r.RequireStable = "g", stable
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic, rt.Partitions = testTopic, []int32{0, 1}
	r.Topics = append(r.Topics, rt)
	resp := serve(t, gb.b.handleOffsetFetch, r, 7).(*kmsg.OffsetFetchResponse)
	if resp.ErrorCode != 0 {
		t.Fatalf("offset fetch: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	out := map[int32][2]int64{}
	for _, p := range resp.Topics[0].Partitions {
		out[p.Partition] = [2]int64{p.Offset, int64(p.ErrorCode)}
	}
	return out
}

func (gb *groupBroker) marker(t *testing.T, pid int64, epoch int16, commit bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if code := gb.b.writeMarker(ctx, gb.p, txnMarker{producerID: pid, producerEpoch: epoch, commit: commit}); code != 0 {
		t.Fatalf("marker: %v", kerr.ErrorForCode(code))
	}
}

// batches reads every batch of __consumer_offsets-0.
func (gb *groupBroker) batches(t *testing.T) [][]byte {
	t.Helper()
	l := gb.p.log
	sl, err := l.Read(l.LogStartOffset(), 1<<20, l.LogEndOffset(), true)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sl.ReadAll(nil)
	sl.Release()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	if err := record.Split(raw, func(b []byte, _ record.Header) error {
		out = append(out, append([]byte(nil), b...))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTxnOffsetCommitBatch checks the batch a TxnOffsetCommit writes: one
// transactional batch of the request's producer, without a sequence,
// holding the same offset records OffsetCommit writes.
func TestTxnOffsetCommitBatch(t *testing.T) {
	for _, version := range []int16{0, 3, 4} {
		gb := newGroupBroker(t)
		resp := gb.txnCommit(t, version, 4242, 7, map[int32]int64{0: 10, 1: 11, 9: 12})
		codes := map[int32]int16{}
		for _, p := range resp.Topics[0].Partitions {
			codes[p.Partition] = p.ErrorCode
		}
		if codes[0] != 0 || codes[1] != 0 || codes[9] != kerr.UnknownTopicOrPartition.Code {
			t.Fatalf("v%d: partition errors %v", version, codes)
		}
		bs := gb.batches(t)
		if len(bs) != 1 {
			t.Fatalf("v%d: %d batches, want one", version, len(bs))
		}
		h, err := record.ParseHeader(bs[0])
		if err != nil {
			t.Fatal(err)
		}
		if !h.IsTransactional() || h.IsControl() || h.ProducerID != 4242 || h.ProducerEpoch != 7 ||
			h.BaseSequence != -1 || h.NumRecords != 2 || h.Compression() != record.CompressionNone {
			t.Fatalf("v%d: batch header %+v", version, h)
		}
		if _, err := record.Validate(bs[0]); err != nil {
			t.Fatalf("v%d: written batch invalid: %v", version, err)
		}
		var got []group.Record
		if err := group.DecodeBatch(bs[0], func(r group.Record) error { got = append(got, r); return nil }); err != nil {
			t.Fatal(err)
		}
		for i, r := range got {
			var k kmsg.OffsetCommitKey
			var v kmsg.OffsetCommitValue
			if err := k.ReadFrom(r.Key); err != nil {
				t.Fatal(err)
			}
			if err := v.ReadFrom(r.Value); err != nil {
				t.Fatal(err)
			}
			if k.Group != "g" || k.Topic != testTopic || k.Partition != int32(i) || v.Offset != int64(10+i) {
				t.Fatalf("v%d: record %d: %+v %+v", version, i, k, v)
			}
		}
	}
}

// TestTxnOffsetCommitVisibility follows transactional offsets through
// OffsetFetch (with and without RequireStable), commit and abort markers
// and a reload of the partition.
func TestTxnOffsetCommitVisibility(t *testing.T) {
	gb := newGroupBroker(t)
	const pid, epoch = 4242, 7
	gb.txnCommit(t, 3, pid, epoch, map[int32]int64{0: 10, 1: 11})
	if got := gb.fetch(t, false); got[0] != [2]int64{-1, 0} || got[1] != [2]int64{-1, 0} {
		t.Fatalf("pending offsets visible: %v", got)
	}
	unstable := int64(kerr.UnstableOffsetCommit.Code)
	if got := gb.fetch(t, true); got[0] != [2]int64{-1, unstable} || got[1] != [2]int64{-1, unstable} {
		t.Fatalf("RequireStable with pending offsets: %v", got)
	}

	gb.marker(t, pid, epoch, true)
	if got := gb.fetch(t, true); got[0] != [2]int64{10, 0} || got[1] != [2]int64{11, 0} {
		t.Fatalf("after the commit marker: %v", got)
	}

	gb.txnCommit(t, 3, pid, epoch, map[int32]int64{0: 20})
	gb.marker(t, pid, epoch, false)
	if got := gb.fetch(t, true); got[0] != [2]int64{10, 0} {
		t.Fatalf("after the abort marker: %v", got)
	}

	// A transaction left open survives a reload, still pending.
	gb.txnCommit(t, 3, pid, epoch, map[int32]int64{0: 30})
	next := *gb.mp
	next.LeaderEpoch++
	gb.p.setState(&next, 1)
	gb.load(t, &next)
	if got := gb.fetch(t, false); got[0] != [2]int64{10, 0} || got[1] != [2]int64{11, 0} {
		t.Fatalf("after reload: %v", got)
	}
	if got := gb.fetch(t, true); got[0] != [2]int64{-1, unstable} || got[1] != [2]int64{11, 0} {
		t.Fatalf("after reload with RequireStable: %v", got)
	}
	gb.marker(t, pid, epoch, true)
	if got := gb.fetch(t, true); got[0] != [2]int64{30, 0} {
		t.Fatalf("marker after reload: %v", got)
	}
}

func TestTxnOffsetCommitGroupErrors(t *testing.T) {
	gb := newGroupBroker(t)
	r := kmsg.NewPtrTxnOffsetCommitRequest()
	r.Group, r.ProducerID, r.Generation, r.MemberID = "g", 1, 3, "m"
	rt := kmsg.NewTxnOffsetCommitRequestTopic()
	rt.Topic = testTopic
	rt.Partitions = append(rt.Partitions, kmsg.NewTxnOffsetCommitRequestTopicPartition())
	r.Topics = append(r.Topics, rt)
	resp := serve(t, gb.b.handleTxnOffsetCommit, r, 3).(*kmsg.TxnOffsetCommitResponse)
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.IllegalGeneration.Code {
		t.Fatalf("generation for an unknown group: %v", kerr.ErrorForCode(code))
	}
	r.Group = ""
	resp = serve(t, gb.b.handleTxnOffsetCommit, r, 3).(*kmsg.TxnOffsetCommitResponse)
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.InvalidGroupID.Code {
		t.Fatalf("empty group: %v", kerr.ErrorForCode(code))
	}
	if len(gb.batches(t)) != 0 {
		t.Fatal("a refused commit wrote records")
	}
}

// A marker whose completion arrives while the partition's groups are still
// loading is applied once they are in place.
func TestCompleteTxnDuringLoad(t *testing.T) {
	cfg := group.DefaultConfig()
	c := &coordinator{log: zap.NewNop(), cfg: cfg, shards: map[int32]*shard{}}
	sh := &shard{id: 0, cells: map[string]*cell{}, txnGroups: map[int64]map[string]struct{}{}}
	c.shards[0] = sh

	loader := group.NewLoader(&c.cfg, time.Now())
	recs := []group.Record{{Key: group.OffsetKey("g", testTopic, 0), Value: group.OffsetValue(group.Offset{Offset: 42})}}
	if err := loader.ApplyBatch(group.EncodeTxnBatch(recs, 0, group.Producer{ID: 7, Epoch: 1})); err != nil {
		t.Fatal(err)
	}
	groups, outs := loader.Groups(time.Now())

	c.completeTxn(0, 8, false) // another producer: nothing to do
	c.completeTxn(0, 7, true)  // the load has not installed the groups yet
	if !c.serveLoaded(sh, groups, outs, nil, nil) {
		t.Fatal("shard refused the groups")
	}
	g := sh.cells["g"].g
	if o, ok := g.Lookup(group.TopicPartition{Topic: testTopic, Partition: 0}); !ok || o.Offset != 42 {
		t.Fatalf("offset after the early marker: %+v %v", o, ok)
	}
	if g.HasPendingTxn(group.TopicPartition{Topic: testTopic, Partition: 0}) {
		t.Fatal("still pending")
	}
}
