package broker

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/broker/group"
	"spool/broker/txn"
	"spool/config"
	"spool/controller/metadata"
	"spool/protocol"
	"spool/record"
	"spool/storage"
)

// txnTestBroker is a broker leading __transaction_state-0 and a data
// topic's partition, with no controller: markers go through the local
// applyTxnMarkers.
type txnTestBroker struct {
	t     *testing.T
	b     *Broker
	data  *partition
	state *partition
	img   *metadata.Image
}

var txnStateTopicID = [16]byte{9, 9}

func newTxnTestBroker(t *testing.T) *txnTestBroker {
	t.Helper()
	lg := zap.NewNop()
	b := &Broker{cfg: Config{NodeID: 1, Static: config.MustNew(nil)}, log: lg}
	b.meta = newMetadataFollower(nil, nil, lg)
	b.replicas = newReplicaManager(b)
	b.producerIDs = &producerIDs{b: b, next: 1000, end: 2000}
	d := metadata.NewDelta(metadata.Empty())
	for _, r := range []metadata.Record{
		&metadata.RegisterBrokerRecord{BrokerID: 1, BrokerEpoch: 1, EndPoints: []metadata.BrokerEndpoint{
			{Name: "PLAINTEXT", Host: "h1", Port: 9092}}},
		&metadata.TopicRecord{Name: testTopic, TopicID: testTopicID},
		&metadata.PartitionRecord{TopicID: testTopicID, Replicas: []int32{1}, ISR: []int32{1}, Leader: 1, LeaderEpoch: 3},
		&metadata.TopicRecord{Name: txnStateTopic, TopicID: txnStateTopicID},
		&metadata.PartitionRecord{TopicID: txnStateTopicID, Replicas: []int32{1}, ISR: []int32{1}, Leader: 1, LeaderEpoch: 7},
	} {
		if err := d.Replay(r); err != nil {
			t.Fatal(err)
		}
	}
	img := d.Apply()
	b.meta.image.Store(img)
	open := func(name string, id [16]byte) *partition {
		l, err := storage.Open(t.TempDir(), b.replicas.storageConfig(img, name), storage.Options{Logger: lg})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		p := newPartition(name, 0, id, l)
		if err := p.loadProducerState(); err != nil {
			t.Fatal(err)
		}
		p.setState(img.Topics.ByName(name).Partition(0), 1)
		b.replicas.parts[tp{name, 0}] = p
		return p
	}
	tb := &txnTestBroker{t: t, b: b, img: img, data: open(testTopic, testTopicID), state: open(txnStateTopic, txnStateTopicID)}
	b.txns = newTxnCoordinator(b)
	t.Cleanup(b.txns.close)
	tb.reload(7)
	return tb
}

// reload makes the coordinator load __transaction_state-0 afresh at the
// given leader epoch, as after a leadership change.
func (tb *txnTestBroker) reload(epoch int32) {
	tb.t.Helper()
	mp := *tb.img.Topics.ByName(txnStateTopic).Partition(0)
	mp.LeaderEpoch = epoch
	tb.b.txns.follow(0, &mp)
	tb.eventually("the shard loads", func() bool {
		sh, err := tb.b.txns.shardFor("any")
		return err == nil && sh.epoch == epoch
	})
}

func (tb *txnTestBroker) eventually(what string, f func() bool) {
	tb.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			tb.t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (tb *txnTestBroker) init(version int16, id string, timeoutMs int32, pid int64, epoch int16) *kmsg.InitProducerIDResponse {
	r := kmsg.NewPtrInitProducerIDRequest()
	r.SetVersion(version)
	r.TransactionalID, r.TransactionTimeoutMillis, r.ProducerID, r.ProducerEpoch = &id, timeoutMs, pid, epoch
	return tb.b.handleInitProducerId(context.Background(), txnReq(22, version, r)).Msg.(*kmsg.InitProducerIDResponse)
}

func (tb *txnTestBroker) addPartitions(version int16, id string, pid int64, epoch int16, topic string, parts ...int32) map[int32]int16 {
	r := kmsg.NewPtrAddPartitionsToTxnRequest()
	r.SetVersion(version)
	r.TransactionalID, r.ProducerID, r.ProducerEpoch = id, pid, epoch
	rt := kmsg.NewAddPartitionsToTxnRequestTopic()
	rt.Topic, rt.Partitions = topic, parts
	r.Topics = append(r.Topics, rt)
	resp := tb.b.handleAddPartitionsToTxn(context.Background(), txnReq(24, version, r)).Msg.(*kmsg.AddPartitionsToTxnResponse)
	out := map[int32]int16{}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			out[p.Partition] = p.ErrorCode
		}
	}
	return out
}

func (tb *txnTestBroker) endTxn(version int16, id string, pid int64, epoch int16, commit bool) int16 {
	r := kmsg.NewPtrEndTxnRequest()
	r.SetVersion(version)
	r.TransactionalID, r.ProducerID, r.ProducerEpoch, r.Commit = id, pid, epoch, commit
	return tb.b.handleEndTxn(context.Background(), txnReq(26, version, r)).Msg.(*kmsg.EndTxnResponse).ErrorCode
}

func (tb *txnTestBroker) describe(ids ...string) []kmsg.DescribeTransactionsResponseTransactionState {
	r := kmsg.NewPtrDescribeTransactionsRequest()
	r.TransactionalIDs = ids
	var out []kmsg.DescribeTransactionsResponseTransactionState
	tb.b.handleDescribeTransactions(txnReq(65, 0, r), func(resp protocol.Response) {
		out = resp.Msg.(*kmsg.DescribeTransactionsResponse).TransactionStates
	})
	return out
}

func (tb *txnTestBroker) stateOf(id string) string {
	st := tb.describe(id)[0]
	if st.ErrorCode != 0 {
		return kerr.ErrorForCode(st.ErrorCode).Error()
	}
	return st.State
}

func txnReq(key, version int16, msg kmsg.Request) *protocol.Request {
	return &protocol.Request{Header: protocol.Header{Key: key, Version: version}, Msg: msg}
}

// controlBatches returns the markers in the data partition.
func (tb *txnTestBroker) controlBatches() []record.Marker {
	tb.t.Helper()
	l := tb.data.log
	sl, err := l.Read(l.LogStartOffset(), 1<<20, l.LogEndOffset(), true)
	if err != nil {
		tb.t.Fatal(err)
	}
	buf, err := sl.ReadAll(nil)
	sl.Release()
	if err != nil {
		tb.t.Fatal(err)
	}
	var out []record.Marker
	record.Split(buf, func(batch []byte, h record.Header) error {
		if h.IsControl() {
			c, err := record.ParseMarker(batch)
			if err != nil {
				tb.t.Fatal(err)
			}
			out = append(out, c)
		}
		return nil
	})
	return out
}

func TestTxnCoordinatorCommitWritesMarkersAndCompletes(t *testing.T) {
	tb := newTxnTestBroker(t)
	r := tb.init(5, "tx", 60_000, -1, -1)
	if r.ErrorCode != 0 || r.ProducerID != 1000 || r.ProducerEpoch != 0 {
		t.Fatalf("init: %+v", r)
	}
	if got := tb.addPartitions(3, "tx", 1000, 0, testTopic, 0); got[0] != 0 {
		t.Fatalf("add: %v", got)
	}
	if st := tb.describe("tx")[0]; st.State != "Ongoing" || len(st.Topics) != 1 || st.Topics[0].Topic != testTopic || st.StartTimestamp <= 0 {
		t.Fatalf("describe ongoing: %+v", st)
	}
	if code := tb.endTxn(3, "tx", 1000, 0, true); code != 0 {
		t.Fatalf("end: %v", kerr.ErrorForCode(code))
	}
	tb.eventually("the commit completes", func() bool { return tb.stateOf("tx") == "CompleteCommit" })
	ctl := tb.controlBatches()
	if len(ctl) != 1 || ctl[0].Type != record.ControlCommit || ctl[0].CoordinatorEpoch != 7 {
		t.Fatalf("markers %+v, want one commit with coordinator epoch 7", ctl)
	}
	// A retried EndTxn of the same outcome succeeds; the other one is
	// refused.
	if code := tb.endTxn(3, "tx", 1000, 0, true); code != 0 {
		t.Fatalf("retried commit: %v", kerr.ErrorForCode(code))
	}
	if code := tb.endTxn(3, "tx", 1000, 0, false); code != kerr.InvalidTxnState.Code {
		t.Fatalf("abort after commit: %v", kerr.ErrorForCode(code))
	}
	// The state survives a reload from the log.
	tb.reload(8)
	if st := tb.describe("tx")[0]; st.State != "CompleteCommit" || st.ProducerID != 1000 || st.ProducerEpoch != 0 || st.TimeoutMillis != 60_000 {
		t.Fatalf("after reload: %+v", st)
	}
	if r := tb.init(5, "tx", 30_000, -1, -1); r.ErrorCode != 0 || r.ProducerID != 1000 || r.ProducerEpoch != 1 {
		t.Fatalf("second init: %+v", r)
	}
}

func TestTxnCoordinatorRequestErrors(t *testing.T) {
	tb := newTxnTestBroker(t)
	r := tb.init(5, "tx", 60_000, -1, -1)
	pid := r.ProducerID
	if got := tb.addPartitions(3, "nobody", pid, 0, testTopic, 0); got[0] != kerr.InvalidProducerIDMapping.Code {
		t.Fatalf("unknown id: %v", got)
	}
	if got := tb.addPartitions(3, "tx", pid, 1, testTopic, 0); got[0] != kerr.ProducerFenced.Code {
		t.Fatalf("wrong epoch: %v", got)
	}
	if got := tb.addPartitions(1, "tx", pid, 1, testTopic, 0); got[0] != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("wrong epoch, v1: %v", got)
	}
	// A missing partition fails the request; the others are not tried.
	if got := tb.addPartitions(3, "tx", pid, 0, testTopic, 0, 5); got[5] != kerr.UnknownTopicOrPartition.Code || got[0] != kerr.OperationNotAttempted.Code {
		t.Fatalf("missing partition: %v", got)
	}
	if got := tb.addPartitions(3, "tx", pid, 0, offsetsTopic, 0); got[0] != kerr.TopicAuthorizationFailed.Code {
		t.Fatalf("internal topic: %v", got)
	}
	if code := tb.endTxn(3, "tx", pid, 0, true); code != kerr.InvalidTxnState.Code {
		t.Fatalf("commit with nothing open: %v", kerr.ErrorForCode(code))
	}
	if code := tb.endTxn(3, "nobody", pid, 0, true); code != kerr.InvalidProducerIDMapping.Code {
		t.Fatalf("commit of unknown id: %v", kerr.ErrorForCode(code))
	}
	if code := tb.endTxn(3, "", pid, 0, true); code != kerr.InvalidRequest.Code {
		t.Fatalf("commit of empty id: %v", kerr.ErrorForCode(code))
	}
	st := tb.describe("nobody", "")
	if st[0].ErrorCode != kerr.TransactionalIDNotFound.Code || st[1].ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("describe errors: %+v", st)
	}
}

// KIP-890 part 1: a partition leader checks that a transactional produce
// belongs to the open transaction.
func TestTxnCoordinatorVerifyOnly(t *testing.T) {
	tb := newTxnTestBroker(t)
	pid := tb.init(5, "tx", 60_000, -1, -1).ProducerID
	tb.addPartitions(3, "tx", pid, 0, testTopic, 0)
	verify := func(version int16, id string, pid int64) []kmsg.AddPartitionsToTxnResponseTransaction {
		r := kmsg.NewPtrAddPartitionsToTxnRequest()
		r.SetVersion(version)
		for _, id := range []string{id, "other"} {
			x := kmsg.NewAddPartitionsToTxnRequestTransaction()
			x.TransactionalID, x.ProducerID, x.ProducerEpoch, x.VerifyOnly = id, pid, 0, true
			rt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
			rt.Topic, rt.Partitions = testTopic, []int32{0}
			x.Topics = append(x.Topics, rt)
			r.Transactions = append(r.Transactions, x)
		}
		return tb.b.handleAddPartitionsToTxn(context.Background(), txnReq(24, version, r)).Msg.(*kmsg.AddPartitionsToTxnResponse).Transactions
	}
	res := verify(5, "tx", pid)
	if len(res) != 2 || res[0].TransactionalID != "tx" || res[0].Topics[0].Partitions[0].ErrorCode != 0 ||
		res[1].Topics[0].Partitions[0].ErrorCode != kerr.InvalidProducerIDMapping.Code {
		t.Fatalf("verify: %+v", res)
	}
	if code := tb.endTxn(3, "tx", pid, 0, false); code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	tb.eventually("the abort completes", func() bool { return tb.stateOf("tx") == "CompleteAbort" })
	if res := verify(5, "tx", pid); res[0].Topics[0].Partitions[0].ErrorCode != kerr.TransactionAbortable.Code {
		t.Fatalf("verify after the abort, v5: %+v", res[0])
	}
	if res := verify(4, "tx", pid); res[0].Topics[0].Partitions[0].ErrorCode != kerr.InvalidTxnState.Code {
		t.Fatalf("verify after the abort, v4: %+v", res[0])
	}
}

// A new producer instance aborts the open transaction with a bumped
// epoch; the old one is fenced.
func TestTxnCoordinatorInitFencesOpenTransaction(t *testing.T) {
	tb := newTxnTestBroker(t)
	pid := tb.init(5, "tx", 60_000, -1, -1).ProducerID
	tb.addPartitions(3, "tx", pid, 0, testTopic, 0)
	if r := tb.init(5, "tx", 60_000, -1, -1); r.ErrorCode != kerr.ConcurrentTransactions.Code {
		t.Fatalf("init over an open transaction: %+v", r)
	}
	if code := tb.endTxn(3, "tx", pid, 0, true); code != kerr.ProducerFenced.Code {
		t.Fatalf("old producer's commit: %v", kerr.ErrorForCode(code))
	}
	if code := tb.endTxn(1, "tx", pid, 0, true); code != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("old producer's commit, v1: %v", kerr.ErrorForCode(code))
	}
	var r *kmsg.InitProducerIDResponse
	tb.eventually("the retry gets an epoch", func() bool {
		r = tb.init(5, "tx", 60_000, -1, -1)
		return r.ErrorCode != kerr.ConcurrentTransactions.Code
	})
	if r.ErrorCode != 0 || r.ProducerID != pid || r.ProducerEpoch != 2 {
		t.Fatalf("retried init: %+v", r)
	}
	ctl := tb.controlBatches()
	if len(ctl) != 1 || ctl[0].Type != record.ControlAbort {
		t.Fatalf("markers %+v, want one abort", ctl)
	}
}

func TestTxnCoordinatorTimeoutAbortsAndFences(t *testing.T) {
	tb := newTxnTestBroker(t)
	pid := tb.init(5, "tx", 1000, -1, -1).ProducerID
	tb.addPartitions(3, "tx", pid, 0, testTopic, 0)
	tb.b.txns.abortTimedOut(time.Now()) // not yet
	if s := tb.stateOf("tx"); s != "Ongoing" {
		t.Fatalf("aborted early: %s", s)
	}
	tb.b.txns.abortTimedOut(time.Now().Add(2 * time.Second))
	tb.eventually("the timed-out transaction is aborted", func() bool { return tb.stateOf("tx") == "CompleteAbort" })
	if st := tb.describe("tx")[0]; st.ProducerEpoch != 1 {
		t.Fatalf("epoch after a timeout abort: %d, want 1", st.ProducerEpoch)
	}
	if code := tb.endTxn(3, "tx", pid, 0, true); code != kerr.ProducerFenced.Code {
		t.Fatalf("commit after the timeout: %v", kerr.ErrorForCode(code))
	}
	// KIP-360: the fenced producer names its epoch and is refused.
	if r := tb.init(3, "tx", 1000, pid, 0); r.ErrorCode != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("re-init with the old epoch, v3: %+v", r)
	}
	if r := tb.init(4, "tx", 1000, pid, 0); r.ErrorCode != kerr.ProducerFenced.Code {
		t.Fatalf("re-init with the old epoch, v4: %+v", r)
	}
	if r := tb.init(4, "tx", 1000, pid, 1); r.ErrorCode != 0 || r.ProducerEpoch != 2 {
		t.Fatalf("re-init with the current epoch: %+v", r)
	}
}

// A transaction prepared by a coordinator that died before its markers
// were written is finished by the next one.
func TestTxnCoordinatorLoadResumesPreparedTransaction(t *testing.T) {
	tb := newTxnTestBroker(t)
	sh, _ := tb.b.txns.shardFor("crashed")
	tr := &txn.Transit{ProducerID: 555, ProducerEpoch: 3, TimeoutMs: 60_000, State: txn.PrepareCommit,
		Partitions: []txn.Partition{{Topic: testTopic, Partition: 0}, {Topic: "deleted", Partition: 0}}, StartMs: 1, LastUpdateMs: 2}
	if _, err := tb.b.txns.append(sh, []group.Record{{Key: txn.Key("crashed"), Value: txn.Value(tr)}}); err != nil {
		t.Fatal(err)
	}
	tb.reload(8)
	tb.eventually("the prepared commit completes", func() bool { return tb.stateOf("crashed") == "CompleteCommit" })
	ctl := tb.controlBatches()
	if len(ctl) != 1 || ctl[0].Type != record.ControlCommit || ctl[0].CoordinatorEpoch != 8 {
		t.Fatalf("markers %+v, want one commit with coordinator epoch 8", ctl)
	}
}

func TestTxnCoordinatorExpiryWritesTombstones(t *testing.T) {
	tb := newTxnTestBroker(t)
	tb.init(5, "old", 60_000, -1, -1)
	pid := tb.init(5, "busy", 60_000, -1, -1).ProducerID
	tb.addPartitions(3, "busy", pid, 0, testTopic, 0)
	tb.b.txns.removeExpired(time.Now().Add(8 * 24 * time.Hour))
	if s := tb.stateOf("old"); s != kerr.TransactionalIDNotFound.Error() {
		t.Fatalf("expired id: %s", s)
	}
	if s := tb.stateOf("busy"); s != "Ongoing" {
		t.Fatalf("an open transaction expired: %s", s)
	}
	tb.reload(8)
	if s := tb.stateOf("old"); s != kerr.TransactionalIDNotFound.Error() {
		t.Fatalf("expired id after reload: %s", s)
	}
	// The id starts over with a new producer id.
	if r := tb.init(5, "old", 60_000, -1, -1); r.ErrorCode != 0 || r.ProducerID == 1000 || r.ProducerEpoch != 0 {
		t.Fatalf("init after expiry: %+v", r)
	}
}

func TestTxnCoordinatorListTransactions(t *testing.T) {
	tb := newTxnTestBroker(t)
	a := tb.init(5, "a", 60_000, -1, -1).ProducerID
	tb.init(5, "b", 60_000, -1, -1)
	tb.addPartitions(3, "a", a, 0, testTopic, 0)
	list := func(version int16, states []string, pids []int64, dur int64) *kmsg.ListTransactionsResponse {
		r := kmsg.NewPtrListTransactionsRequest()
		r.SetVersion(version)
		r.StateFilters, r.ProducerIDFilters, r.DurationFilterMillis = states, pids, dur
		var out *kmsg.ListTransactionsResponse
		tb.b.handleListTransactions(txnReq(66, version, r), func(resp protocol.Response) {
			out = resp.Msg.(*kmsg.ListTransactionsResponse)
		})
		return out
	}
	ids := func(r *kmsg.ListTransactionsResponse) []string {
		var out []string
		for _, s := range r.TransactionStates {
			out = append(out, s.TransactionalID+":"+s.TransactionState)
		}
		slices.Sort(out)
		return out
	}
	if got := ids(list(0, nil, nil, 0)); !slices.Equal(got, []string{"a:Ongoing", "b:Empty"}) {
		t.Fatalf("all: %v", got)
	}
	if r := list(1, []string{"Ongoing", "Bogus"}, nil, -1); !slices.Equal(ids(r), []string{"a:Ongoing"}) || !slices.Equal(r.UnknownStateFilters, []string{"Bogus"}) {
		t.Fatalf("by state: %v %v", ids(r), r.UnknownStateFilters)
	}
	if got := ids(list(1, nil, []int64{a}, -1)); !slices.Equal(got, []string{"a:Ongoing"}) {
		t.Fatalf("by producer: %v", got)
	}
	// v1: only transactions open longer than an hour, which "a" is not.
	if got := ids(list(1, []string{"Ongoing"}, nil, 3_600_000)); len(got) != 0 {
		t.Fatalf("by duration: %v", got)
	}
}

// preparedCommit opens a transaction on testTopic-0 for id and makes its
// PrepareCommit durable, without sending markers: the returned pending
// transaction is the caller's to drive.
func (tb *txnTestBroker) preparedCommit(id string) *pendingTxn {
	tb.t.Helper()
	r := tb.init(5, id, 60_000, -1, -1)
	if got := tb.addPartitions(3, id, r.ProducerID, r.ProducerEpoch, testTopic, 0); got[0] != 0 {
		tb.t.Fatalf("add: %v", got)
	}
	e, err := tb.b.txns.entry(id, nil)
	if err != nil || e == nil {
		tb.t.Fatalf("entry: %v", err)
	}
	defer e.mu.Unlock()
	tr, kerr := e.t.PrepareEnd(r.ProducerID, r.ProducerEpoch, true, time.Now().UnixMilli())
	if kerr == nil {
		kerr = tb.b.txns.commit(context.Background(), e, tr)
	}
	if kerr != nil {
		tb.t.Fatal(kerr)
	}
	return tb.b.txns.beginMarkers(e)
}

func markerAnswer(code int16) *kmsg.WriteTxnMarkersResponseMarker {
	rp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
	rp.Partition, rp.ErrorCode = 0, code
	rt := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
	rt.Topic, rt.Partitions = testTopic, []kmsg.WriteTxnMarkersResponseMarkerTopicPartition{rp}
	return &kmsg.WriteTxnMarkersResponseMarker{Topics: []kmsg.WriteTxnMarkersResponseMarkerTopic{rt}}
}

// How a leader's answer to WriteTxnMarkers moves a transaction on, as in
// Kafka's TransactionMarkerRequestCompletionHandler.
func TestTxnCoordinatorMarkerAnswers(t *testing.T) {
	tb := newTxnTestBroker(t)
	s := tb.b.txns.markers
	part := []txn.Partition{{Topic: testTopic, Partition: 0}}
	pending := func(pt *pendingTxn) bool {
		pt.e.mu.Lock()
		defer pt.e.mu.Unlock()
		return pt.live()
	}

	// Retriable errors, and a partition missing from the answer, are sent
	// again: the retry reaches the local leader and the commit completes.
	for i, rm := range []*kmsg.WriteTxnMarkersResponseMarker{
		markerAnswer(kerr.NotLeaderForPartition.Code),
		markerAnswer(kerr.RequestTimedOut.Code),
		markerAnswer(kerr.UnknownServerError.Code),
		nil,
	} {
		id := fmt.Sprintf("retry-%d", i)
		pt := tb.preparedCommit(id)
		s.onResult(&markerJob{pt: pt, parts: part}, rm)
		tb.eventually(id+" completes after a retry", func() bool { return tb.stateOf(id) == "CompleteCommit" })
	}

	// A partition that cannot take markers needs none.
	pt := tb.preparedCommit("unsupported")
	s.onResult(&markerJob{pt: pt, parts: part}, markerAnswer(kerr.UnsupportedForMessageFormat.Code))
	tb.eventually("completion without the marker", func() bool { return tb.stateOf("unsupported") == "CompleteCommit" })

	// A newer coordinator or producer epoch owns the transaction: this
	// coordinator stops and leaves the id pending for its successor.
	for _, code := range []int16{kerr.TransactionCoordinatorFenced.Code, kerr.InvalidProducerEpoch.Code} {
		id := fmt.Sprintf("fenced-%d", code)
		pt := tb.preparedCommit(id)
		s.onResult(&markerJob{pt: pt, parts: part}, markerAnswer(code))
		time.Sleep(300 * time.Millisecond)
		if st := tb.stateOf(id); st != "PrepareCommit" || !pending(pt) {
			t.Fatalf("%s: state %s, pending %v after a fenced answer", id, st, pending(pt))
		}
	}
	// Only the retried markers reached the partition.
	if ctl := tb.controlBatches(); len(ctl) != 4 {
		t.Fatalf("%d markers written, want 4 (the retries)", len(ctl))
	}
}

// A leader that moves away mid-way gets the marker once it leads again.
func TestTxnCoordinatorMarkersWaitForLeader(t *testing.T) {
	tb := newTxnTestBroker(t)
	pt := tb.preparedCommit("tx")
	mp := *tb.img.Topics.ByName(testTopic).Partition(0)
	mp.Leader, mp.LeaderEpoch = 2, 4
	tb.data.setState(&mp, 1)
	tb.b.txns.markers.start(pt)
	time.Sleep(300 * time.Millisecond)
	if st := tb.stateOf("tx"); st != "PrepareCommit" {
		t.Fatalf("completed without a leader: %s", st)
	}
	mp.Leader, mp.LeaderEpoch = 1, 5
	tb.data.setState(&mp, 1)
	tb.eventually("the commit completes", func() bool { return tb.stateOf("tx") == "CompleteCommit" })
	if ctl := tb.controlBatches(); len(ctl) != 1 || ctl[0].Type != record.ControlCommit {
		t.Fatalf("markers %+v", ctl)
	}
}

// FindCoordinator with key type 1 names the leader of the id's
// __transaction_state partition, in the single (v0-v3) and batched (v4+)
// forms.
func TestTxnCoordinatorFindCoordinator(t *testing.T) {
	tb := newTxnTestBroker(t)
	for _, v := range []int16{1, 3, 4, 6} {
		r := kmsg.NewPtrFindCoordinatorRequest()
		r.SetVersion(v)
		r.CoordinatorType = coordinatorTransaction
		if v < 4 {
			r.CoordinatorKey = "tx"
		} else {
			r.CoordinatorKeys = []string{"tx", "other"}
		}
		var resp *kmsg.FindCoordinatorResponse
		tb.b.handleFindCoordinator(&protocol.Request{Header: protocol.Header{Key: 10, Version: v}, Msg: r, Listener: "PLAINTEXT"},
			func(pr protocol.Response) { resp = pr.Msg.(*kmsg.FindCoordinatorResponse) })
		if v < 4 {
			if resp.ErrorCode != 0 || resp.NodeID != 1 || resp.Host != "h1" || resp.Port != 9092 {
				t.Fatalf("v%d: %+v", v, resp)
			}
			continue
		}
		if len(resp.Coordinators) != 2 {
			t.Fatalf("v%d: %+v", v, resp.Coordinators)
		}
		for _, c := range resp.Coordinators {
			if c.ErrorCode != 0 || c.NodeID != 1 || c.Host != "h1" || c.Port != 9092 {
				t.Fatalf("v%d %s: %+v", v, c.Key, c)
			}
		}
	}
}
