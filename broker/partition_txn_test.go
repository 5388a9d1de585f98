package broker

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/storage"
)

// txnBatch is a transactional batch of n records from pid.
func txnBatch(t testing.TB, pid int64, epoch int16, seq int32, n int) []byte {
	s := idem(pid, epoch, seq, n)
	s.attrs = 0x10
	return buildBatch(t, s)
}

// marker writes one commit or abort marker to testTopic-0 and returns the
// partition's error code.
func (tb *testBroker) marker(t testing.TB, pid int64, epoch int16, coordEpoch int32, commit bool) int16 {
	t.Helper()
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	m := kmsg.NewWriteTxnMarkersRequestMarker()
	m.ProducerID, m.ProducerEpoch, m.Committed, m.CoordinatorEpoch = pid, epoch, commit, coordEpoch
	mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
	mt.Topic, mt.Partitions = testTopic, []int32{0}
	m.Topics = append(m.Topics, mt)
	req.Markers = append(req.Markers, m)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp := tb.b.applyTxnMarkers(ctx, req)
	return resp.Markers[0].Topics[0].Partitions[0].ErrorCode
}

func (tb *testBroker) mustProduce(t testing.TB, batch []byte) int64 {
	t.Helper()
	r := tb.produceOne(t, batch)
	if r.ErrorCode != 0 {
		t.Fatalf("produce: %v", kerr.ErrorForCode(r.ErrorCode))
	}
	return r.BaseOffset
}

func TestTxnLastStableOffset(t *testing.T) {
	tb := newTestBroker(t, nil, storage.Options{})
	p := tb.p
	tb.mustProduce(t, buildBatch(t, idem(5, 0, 0, 2)))   // 0-1, plain idempotent
	first7 := tb.mustProduce(t, txnBatch(t, 7, 0, 0, 2)) // 2-3
	first8 := tb.mustProduce(t, txnBatch(t, 8, 0, 0, 1)) // 4
	tb.mustProduce(t, txnBatch(t, 7, 0, 2, 1))           // 5, same transaction
	if lso, hw := p.lastStableOffset(), p.HighWatermark(); lso != first7 || hw != 6 {
		t.Fatalf("lso %d hw %d, want %d and 6", lso, hw, first7)
	}
	if got := p.fetchableOffset(readUncommitted); got != 6 {
		t.Fatalf("read_uncommitted bound %d, want 6", got)
	}
	// A producer with an open transaction may not write outside it.
	if r := tb.produceOne(t, buildBatch(t, idem(7, 0, 3, 1))); r.ErrorCode != kerr.InvalidTxnState.Code {
		t.Fatalf("plain batch inside a transaction: %v, want INVALID_TXN_STATE", kerr.ErrorForCode(r.ErrorCode))
	}
	if code := tb.marker(t, 7, 0, 1, true); code != 0 {
		t.Fatalf("commit marker: %v", kerr.ErrorForCode(code))
	}
	if lso := p.lastStableOffset(); lso != first8 {
		t.Fatalf("after commit of 7: lso %d, want %d", lso, first8)
	}
	if code := tb.marker(t, 8, 0, 1, false); code != 0 {
		t.Fatalf("abort marker: %v", kerr.ErrorForCode(code))
	}
	leo := p.log.LogEndOffset()
	if lso := p.lastStableOffset(); lso != leo {
		t.Fatalf("after both ended: lso %d, want the log end %d", lso, leo)
	}
	// The committed producer may now write plainly again.
	tb.mustProduce(t, buildBatch(t, idem(7, 0, 3, 1)))

	// read_committed fetches list the aborted transaction.
	aborted, err := p.log.AbortedTxns(nil, 0, p.lastStableOffset())
	if err != nil {
		t.Fatal(err)
	}
	if len(aborted) != 1 || aborted[0].ProducerID != 8 || aborted[0].FirstOffset != first8 {
		t.Fatalf("aborted transactions %+v, want producer 8 from %d", aborted, first8)
	}
	if got, _ := p.log.AbortedTxns(nil, leo, leo+1); len(got) != 0 {
		t.Fatalf("aborted transactions after the marker: %+v", got)
	}
}

func TestTxnMarkerFencing(t *testing.T) {
	tb := newTestBroker(t, nil, storage.Options{})
	tb.mustProduce(t, txnBatch(t, 7, 3, 0, 1))
	if code := tb.marker(t, 7, 2, 1, false); code != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("marker with an old producer epoch: %v", kerr.ErrorForCode(code))
	}
	if code := tb.marker(t, 7, 3, 5, false); code != 0 {
		t.Fatalf("abort: %v", kerr.ErrorForCode(code))
	}
	if code := tb.marker(t, 7, 3, 4, true); code != kerr.TransactionCoordinatorFenced.Code {
		t.Fatalf("marker from an older coordinator: %v", kerr.ErrorForCode(code))
	}
	// A fencing abort at a bumped epoch refuses the old epoch from then on.
	tb.mustProduce(t, txnBatch(t, 7, 3, 1, 1))
	if code := tb.marker(t, 7, 4, 5, false); code != 0 {
		t.Fatalf("fencing abort: %v", kerr.ErrorForCode(code))
	}
	if r := tb.produceOne(t, txnBatch(t, 7, 3, 2, 1)); r.ErrorCode != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("zombie write: %v, want INVALID_PRODUCER_EPOCH", kerr.ErrorForCode(r.ErrorCode))
	}
	tb.mustProduce(t, txnBatch(t, 7, 5, 0, 1))
	if lso, first := tb.p.lastStableOffset(), tb.p.log.LogEndOffset()-1; lso != first {
		t.Fatalf("lso %d, want the new transaction's start %d", lso, first)
	}
}

// TestTxnStateSurvivesRestart reopens the partition with and without a
// producer snapshot: the open transaction holds the stable offset back and
// the aborted one stays indexed.
func TestTxnStateSurvivesRestart(t *testing.T) {
	tb := newTestBroker(t, nil, storage.Options{})
	tb.mustProduce(t, txnBatch(t, 8, 0, 0, 2))
	if code := tb.marker(t, 8, 0, 1, false); code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	open := tb.mustProduce(t, txnBatch(t, 9, 0, 0, 2))
	tb.mustProduce(t, buildBatch(t, idem(5, 0, 0, 1)))
	reopen := func(t *testing.T) *partition {
		p := &partition{log: tb.p.log}
		p.highWatermark.Store(tb.p.log.LogEndOffset())
		if err := p.loadProducerState(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	check := func(t *testing.T, p *partition) {
		if lso := p.lastStableOffset(); lso != open {
			t.Fatalf("lso %d, want the open transaction's start %d", lso, open)
		}
		if e := p.producers.m[9]; e == nil || e.txnFirst != open {
			t.Fatalf("producer 9: %+v", e)
		}
		aborted, err := p.log.AbortedTxns(nil, 0, p.log.LogEndOffset())
		if err != nil || len(aborted) != 1 || aborted[0].ProducerID != 8 {
			t.Fatalf("aborted %+v %v, want producer 8 once", aborted, err)
		}
	}
	t.Run("snapshot", func(t *testing.T) {
		if err := tb.p.snapshotProducers(); err != nil {
			t.Fatal(err)
		}
		check(t, reopen(t))
	})
	t.Run("replay", func(t *testing.T) {
		offs, _ := listSnapshots(tb.p.log.Dir())
		for _, off := range offs {
			if err := os.Remove(snapshotPath(tb.p.log.Dir(), off)); err != nil {
				t.Fatal(err)
			}
		}
		check(t, reopen(t))
	})
}

func TestProducerExpiryKeepsOpenTransactions(t *testing.T) {
	st := newProducerStates()
	h := hdr(7, 0, 0, 1, 10)
	h.Attributes = 0x10
	st.update(h)
	st.update(hdr(8, 0, 0, 1, 11))
	st.expire(1<<40, 1)
	if st.m[7] == nil || st.m[8] != nil {
		t.Fatalf("after expiry: open %v, idle %v; want the open one kept", st.m[7], st.m[8])
	}
}

func TestProducerSnapshotKeepsTransactions(t *testing.T) {
	st := newProducerStates()
	h := hdr(7, 2, 0, 3, 40)
	h.Attributes = 0x10
	st.update(h)
	st.endTxn(9, 1, 4, 50, 0, false)
	got, err := decodeProducerStates(st.encode())
	if err != nil {
		t.Fatal(err)
	}
	if *got.m[7] != *st.m[7] || *got.m[9] != *st.m[9] || !got.isOpen(7) || got.isOpen(9) {
		t.Fatalf("decoded %+v %+v, want %+v %+v", got.m[7], got.m[9], st.m[7], st.m[9])
	}
}

// TestAbortedListCutToReturnedRecords checks a read_committed fetch far
// behind many aborts lists only those overlapping the batches it returns.
func TestAbortedListCutToReturnedRecords(t *testing.T) {
	tb := newTestBroker(t, nil, storage.Options{})
	const txns = 3 * abortedListBound
	for i := range txns {
		pid := int64(100 + i)
		tb.mustProduce(t, txnBatch(t, pid, 0, 0, 2))
		if code := tb.marker(t, pid, 0, 1, false); code != 0 {
			t.Fatal(kerr.ErrorForCode(code))
		}
	}
	p := tb.p
	lso := p.lastStableOffset()
	read := func(maxBytes int) []storage.AbortedTxn {
		sl, err := p.log.Read(0, maxBytes, lso, true)
		if err != nil {
			t.Fatal(err)
		}
		defer sl.Release()
		got, err := abortedIn(p.log, &sl, 0, lso)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// Each transaction is a data batch at 3i and its marker at 3i+2; one
	// byte gets the first batch only.
	if got := read(1); len(got) != 1 || got[0].ProducerID != 100 {
		t.Fatalf("first batch only: aborted %+v, want producer 100 alone", got)
	}
	if got := read(1 << 20); len(got) != txns {
		t.Fatalf("whole log: %d aborted, want %d", len(got), txns)
	}
}
