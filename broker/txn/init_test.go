package txn

import (
	"math"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

const t0 = int64(1_000_000)

// settled returns an id in state st with producer 100, epoch 5 (last 4)
// and, unless Empty or Complete*, partitions a-0 and b-1 since t0.
func settled(st State) *Txn {
	t := New("tx", 100, 60_000, t0)
	t.ProducerEpoch, t.LastProducerEpoch, t.State = 5, 4, st
	if st == Ongoing || st.preparing() {
		t.StartMs = t0
		t.partitions[Partition{"a", 0}] = struct{}{}
		t.partitions[Partition{"b", 1}] = struct{}{}
	}
	return t
}

func pe(id int64, epoch int16) *ProducerIDEpoch { return &ProducerIDEpoch{id, epoch} }

func mustComplete(t *testing.T, x *Txn, tr *Transit) {
	t.Helper()
	if !x.Complete(tr) {
		t.Fatalf("Complete(%+v) refused; pending %+v", tr, x.pending)
	}
}

func TestInitNewTransactionalID(t *testing.T) {
	x := New("tx", 100, 60_000, t0)
	tr, need, err := x.PrepareInit(InitRequest{TimeoutMs: 30_000, NewProducerID: NoProducerID}, t0+1)
	if err != nil || need {
		t.Fatalf("err %v need %v", err, need)
	}
	if tr.State != Empty || tr.ProducerID != 100 || tr.ProducerEpoch != 0 || tr.LastProducerEpoch != NoEpoch || tr.TimeoutMs != 30_000 || tr.StartMs != -1 {
		t.Fatalf("transit %+v", tr)
	}
	// Until the record is durable, everything else waits.
	if _, _, err := x.PrepareInit(InitRequest{TimeoutMs: 1, NewProducerID: NoProducerID}, t0+2); err != kerr.ConcurrentTransactions {
		t.Fatalf("second init while pending: %v", err)
	}
	mustComplete(t, x, tr)
	if x.ProducerEpoch != 0 || x.TimeoutMs != 30_000 || x.LastUpdateMs != t0+1 || x.Pending() != nil {
		t.Fatalf("after complete %+v", x)
	}
}

func TestInitBumpsEpochFromSettledStates(t *testing.T) {
	for _, st := range []State{Empty, CompleteCommit, CompleteAbort} {
		x := settled(st)
		tr, _, err := x.PrepareInit(InitRequest{TimeoutMs: 10_000, NewProducerID: NoProducerID}, t0+5)
		if err != nil {
			t.Fatalf("%v: %v", st, err)
		}
		if tr.State != Empty || tr.ProducerID != 100 || tr.ProducerEpoch != 6 || tr.LastProducerEpoch != NoEpoch || len(tr.Partitions) != 0 {
			t.Fatalf("%v: transit %+v", st, tr)
		}
		mustComplete(t, x, tr)
		if x.State != Empty || x.ProducerEpoch != 6 || x.TimeoutMs != 10_000 || x.StartMs != -1 {
			t.Fatalf("%v: after %+v", st, x)
		}
	}
}

func TestInitWhilePreparingIsConcurrent(t *testing.T) {
	for _, st := range []State{PrepareCommit, PrepareAbort} {
		if _, _, err := settled(st).PrepareInit(InitRequest{TimeoutMs: 1, NewProducerID: NoProducerID}, t0); err != kerr.ConcurrentTransactions {
			t.Fatalf("%v: %v", st, err)
		}
	}
}

// A new producer instance fences the open transaction: it is aborted with
// a bumped epoch, which the old producer can no longer use.
func TestInitFencesOngoing(t *testing.T) {
	x := settled(Ongoing)
	tr, _, err := x.PrepareInit(InitRequest{TimeoutMs: 1000, NewProducerID: NoProducerID}, t0+9)
	if err != nil {
		t.Fatal(err)
	}
	if tr.State != PrepareAbort || tr.ProducerEpoch != 6 || tr.LastProducerEpoch != NoEpoch || len(tr.Partitions) != 2 || tr.StartMs != t0 || tr.TimeoutMs != 60_000 {
		t.Fatalf("fence transit %+v", tr)
	}
	if x.ProducerEpoch != 6 {
		t.Fatalf("fenced epoch not in effect at once: %d", x.ProducerEpoch)
	}
	if _, err := x.PrepareEnd(100, 5, true, t0+10); err != kerr.ProducerFenced {
		t.Fatalf("old producer's commit: %v", err)
	}
	mustComplete(t, x, tr)
	if x.State != PrepareAbort || len(x.Partitions()) != 2 {
		t.Fatalf("after fence %+v", x)
	}
	// The retrying producer waits for the abort to finish.
	if _, _, err := x.PrepareInit(InitRequest{TimeoutMs: 1000, NewProducerID: NoProducerID}, t0+11); err != kerr.ConcurrentTransactions {
		t.Fatalf("init during abort: %v", err)
	}
	done, ok := x.PrepareComplete(t0 + 12)
	if !ok || done.State != CompleteAbort {
		t.Fatalf("complete %+v %v", done, ok)
	}
	x.MarkerDone(Partition{"a", 0})
	x.MarkerDone(Partition{"b", 1})
	mustComplete(t, x, done)
	tr, _, err = x.PrepareInit(InitRequest{TimeoutMs: 1000, NewProducerID: NoProducerID}, t0+13)
	if err != nil || tr.ProducerEpoch != 7 {
		t.Fatalf("init after abort: %+v %v", tr, err)
	}
}

// A fence whose write failed keeps its epoch: it was never handed out, so
// the next fence does not bump again.
func TestFailedFenceDoesNotBumpTwice(t *testing.T) {
	x := settled(Ongoing)
	tr, ok := x.PrepareFence(t0)
	if !ok || tr.ProducerEpoch != 6 {
		t.Fatalf("fence %+v %v", tr, ok)
	}
	x.Fail(tr)
	if x.Pending() != nil || x.State != Ongoing || x.ProducerEpoch != 6 {
		t.Fatalf("after failed fence %+v", x)
	}
	tr, ok = x.PrepareFence(t0 + 1)
	if !ok || tr.ProducerEpoch != 6 {
		t.Fatalf("second fence %+v %v", tr, ok)
	}
	mustComplete(t, x, tr)
	if done, ok := x.PrepareComplete(t0 + 2); !ok || !x.Complete(done) {
		t.Fatal("complete")
	}
	// Once an abort completed, a later fence bumps again.
	add, err := x.PrepareAddPartitions(100, 6, []Partition{{"a", 0}}, t0+3)
	if err != nil {
		t.Fatal(err)
	}
	mustComplete(t, x, add)
	if tr, _ := x.PrepareFence(t0 + 4); tr.ProducerEpoch != 7 {
		t.Fatalf("fence after completion: epoch %d", tr.ProducerEpoch)
	}
}

// KIP-360: a producer re-initialising names its id and epoch.
func TestInitWithExpectedProducer(t *testing.T) {
	for _, tt := range []struct {
		name      string
		st        State
		expected  *ProducerIDEpoch
		wantErr   *kerr.Error
		wantEpoch int16
		wantLast  int16
	}{
		{"current epoch bumps", Empty, pe(100, 5), nil, 6, 5},
		{"retry of a bump", CompleteCommit, pe(100, 4), nil, 5, 4},
		{"older epoch fenced", Empty, pe(100, 3), kerr.ProducerFenced, 0, 0},
		{"other producer id fenced", Empty, pe(7, 5), kerr.ProducerFenced, 0, 0},
		{"fenced before the state check", PrepareCommit, pe(7, 5), kerr.ProducerFenced, 0, 0},
		{"preparing", PrepareAbort, pe(100, 5), kerr.ConcurrentTransactions, 0, 0},
	} {
		x := settled(tt.st)
		tr, _, err := x.PrepareInit(InitRequest{TimeoutMs: 1000, Expected: tt.expected, NewProducerID: NoProducerID}, t0)
		if err != tt.wantErr {
			t.Fatalf("%s: error %v, want %v", tt.name, err, tt.wantErr)
		}
		if err == nil && (tr.ProducerEpoch != tt.wantEpoch || tr.LastProducerEpoch != tt.wantLast || tr.ProducerID != 100) {
			t.Fatalf("%s: transit %+v", tt.name, tr)
		}
	}
	// A new id accepts whatever the producer names.
	x := New("tx", 100, 1000, t0)
	tr, _, err := x.PrepareInit(InitRequest{TimeoutMs: 1000, Expected: pe(55, 3), NewProducerID: NoProducerID}, t0)
	if err != nil || tr.ProducerID != 100 || tr.ProducerEpoch != 0 || tr.LastProducerEpoch != NoEpoch {
		t.Fatalf("new id with expected: %+v %v", tr, err)
	}
}

// When the epochs of a producer id run out, InitProducerId moves to a new
// producer id at epoch 0; a retry naming the old id still succeeds.
func TestInitRotatesExhaustedProducerID(t *testing.T) {
	x := settled(CompleteCommit)
	x.ProducerEpoch, x.LastProducerEpoch = math.MaxInt16-1, math.MaxInt16-2
	_, need, err := x.PrepareInit(InitRequest{TimeoutMs: 1000, Expected: pe(100, math.MaxInt16-1), NewProducerID: NoProducerID}, t0)
	if err != nil || !need {
		t.Fatalf("need %v err %v", need, err)
	}
	if x.Pending() != nil {
		t.Fatal("asking for an id left a pending transition")
	}
	tr, need, err := x.PrepareInit(InitRequest{TimeoutMs: 1000, Expected: pe(100, math.MaxInt16-1), NewProducerID: 200}, t0)
	if err != nil || need || tr.ProducerID != 200 || tr.ProducerEpoch != 0 || tr.PrevProducerID != 100 || tr.LastProducerEpoch != math.MaxInt16-1 {
		t.Fatalf("rotation %+v need %v err %v", tr, need, err)
	}
	mustComplete(t, x, tr)
	// The response was lost; the producer retries with its old id.
	tr, _, err = x.PrepareInit(InitRequest{TimeoutMs: 1000, Expected: pe(100, math.MaxInt16-1), NewProducerID: NoProducerID}, t0+1)
	if err != nil || tr.ProducerID != 200 || tr.ProducerEpoch != 0 {
		t.Fatalf("retry after rotation %+v %v", tr, err)
	}
	x.Fail(tr)
	// Without an expected epoch an exhausted id rotates too, recording no
	// last epoch.
	y := settled(Empty)
	y.ProducerEpoch = math.MaxInt16
	if _, need, _ := y.PrepareInit(InitRequest{TimeoutMs: 1000, NewProducerID: NoProducerID}, t0); !need {
		t.Fatal("exhausted epoch without expected: no new id asked")
	}
	tr, _, _ = y.PrepareInit(InitRequest{TimeoutMs: 1000, NewProducerID: 300}, t0)
	if tr.ProducerID != 300 || tr.ProducerEpoch != 0 || tr.LastProducerEpoch != NoEpoch {
		t.Fatalf("rotation without expected %+v", tr)
	}
	// An exhausted id named with another epoch was fenced.
	z := settled(CompleteAbort)
	z.ProducerEpoch, z.LastProducerEpoch = math.MaxInt16, NoEpoch
	if _, _, err := z.PrepareInit(InitRequest{TimeoutMs: 1000, Expected: pe(100, math.MaxInt16-1), NewProducerID: NoProducerID}, t0); err != kerr.ProducerFenced {
		t.Fatalf("fenced exhausted epoch: %v", err)
	}
}
