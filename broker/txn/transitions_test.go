package txn

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

var (
	pa0 = Partition{"a", 0}
	pb1 = Partition{"b", 1}
	pc2 = Partition{"c", 2}
)

func TestAddPartitions(t *testing.T) {
	for _, tt := range []struct {
		name      string
		st        State
		pid       int64
		epoch     int16
		parts     []Partition
		pending   bool
		wantErr   *kerr.Error
		noWrite   bool
		wantStart int64
		wantParts []Partition
	}{
		{"unknown producer id", Ongoing, 7, 5, []Partition{pc2}, false, kerr.InvalidProducerIDMapping, false, 0, nil},
		{"old epoch", Ongoing, 100, 4, []Partition{pc2}, false, kerr.ProducerFenced, false, 0, nil},
		{"newer epoch", Ongoing, 100, 6, []Partition{pc2}, false, kerr.ProducerFenced, false, 0, nil},
		{"pending", Empty, 100, 5, []Partition{pc2}, true, kerr.ConcurrentTransactions, false, 0, nil},
		{"prepare commit", PrepareCommit, 100, 5, []Partition{pc2}, false, kerr.ConcurrentTransactions, false, 0, nil},
		{"prepare abort", PrepareAbort, 100, 5, []Partition{pc2}, false, kerr.ConcurrentTransactions, false, 0, nil},
		{"already added", Ongoing, 100, 5, []Partition{pb1, pa0}, false, nil, true, 0, nil},
		{"more to an open one", Ongoing, 100, 5, []Partition{pc2, pa0}, false, nil, false, t0, []Partition{pa0, pb1, pc2}},
		{"first of a transaction", Empty, 100, 5, []Partition{pc2}, false, nil, false, t0 + 50, []Partition{pc2}},
		{"after a commit", CompleteCommit, 100, 5, []Partition{pc2, pa0}, false, nil, false, t0 + 50, []Partition{pa0, pc2}},
		{"after an abort", CompleteAbort, 100, 5, []Partition{pa0}, false, nil, false, t0 + 50, []Partition{pa0}},
	} {
		x := settled(tt.st)
		if tt.pending {
			tr, _, _ := x.PrepareInit(InitRequest{TimeoutMs: 1, NewProducerID: NoProducerID}, t0)
			if tr == nil {
				t.Fatalf("%s: no pending transition", tt.name)
			}
		}
		tr, err := x.PrepareAddPartitions(tt.pid, tt.epoch, tt.parts, t0+50)
		if err != tt.wantErr {
			t.Fatalf("%s: error %v, want %v", tt.name, err, tt.wantErr)
		}
		if err != nil {
			continue
		}
		if tt.noWrite {
			if tr != nil || x.Pending() != nil {
				t.Fatalf("%s: wrote %+v", tt.name, tr)
			}
			continue
		}
		if tr.State != Ongoing || tr.StartMs != tt.wantStart || !slices.Equal(tr.Partitions, tt.wantParts) || tr.LastUpdateMs != t0+50 {
			t.Fatalf("%s: transit %+v", tt.name, tr)
		}
		mustComplete(t, x, tr)
		if x.State != Ongoing || x.StartMs != tt.wantStart || !slices.Equal(x.Partitions(), tt.wantParts) {
			t.Fatalf("%s: after %+v %v", tt.name, x, x.Partitions())
		}
	}
}

func TestVerifyPartitions(t *testing.T) {
	x := settled(Ongoing)
	got, err := x.VerifyPartitions(100, 5, []Partition{pa0, pc2})
	if err != nil || got[pa0] != nil || got[pc2] != kerr.TransactionAbortable || len(got) != 2 {
		t.Fatalf("verify: %v %v", got, err)
	}
	// A pending write does not change the answer: partitions change only
	// once it is durable.
	if _, err := x.PrepareAddPartitions(100, 5, []Partition{pc2}, t0); err != nil {
		t.Fatal(err)
	}
	if got, _ := x.VerifyPartitions(100, 5, []Partition{pc2}); got[pc2] != kerr.TransactionAbortable {
		t.Fatalf("verify while adding: %v", got)
	}
	for _, tt := range []struct {
		st    State
		pid   int64
		epoch int16
		want  *kerr.Error
	}{
		{Ongoing, 9, 5, kerr.InvalidProducerIDMapping},
		{Ongoing, 100, 3, kerr.ProducerFenced},
		{PrepareCommit, 100, 5, kerr.ConcurrentTransactions},
		{PrepareAbort, 100, 5, kerr.ConcurrentTransactions},
	} {
		if _, err := settled(tt.st).VerifyPartitions(tt.pid, tt.epoch, []Partition{pa0}); err != tt.want {
			t.Fatalf("%v pid %d epoch %d: %v, want %v", tt.st, tt.pid, tt.epoch, err, tt.want)
		}
	}
	for _, st := range []State{Empty, CompleteCommit} {
		if got, err := settled(st).VerifyPartitions(100, 5, []Partition{pa0}); err != nil || got[pa0] != kerr.TransactionAbortable {
			t.Fatalf("%v: %v %v", st, got, err)
		}
	}
}

func TestEndTxn(t *testing.T) {
	for _, tt := range []struct {
		name    string
		st      State
		pid     int64
		epoch   int16
		commit  bool
		pending bool
		wantErr *kerr.Error
		wantTo  State // 0 with no error: an immediate success
	}{
		{"commit", Ongoing, 100, 5, true, false, nil, PrepareCommit},
		{"abort", Ongoing, 100, 5, false, false, nil, PrepareAbort},
		{"unknown producer id", Ongoing, 1, 5, true, false, kerr.InvalidProducerIDMapping, 0},
		{"old epoch", Ongoing, 100, 4, true, false, kerr.ProducerFenced, 0},
		{"newer epoch", Ongoing, 100, 6, false, false, kerr.ProducerFenced, 0},
		{"pending", Ongoing, 100, 5, true, true, kerr.ConcurrentTransactions, 0},
		{"nothing open", Empty, 100, 5, true, false, kerr.InvalidTxnState, 0},
		{"abort with nothing open", Empty, 100, 5, false, false, kerr.InvalidTxnState, 0},
		{"retried commit", CompleteCommit, 100, 5, true, false, nil, 0},
		{"abort after commit", CompleteCommit, 100, 5, false, false, kerr.InvalidTxnState, 0},
		{"retried abort", CompleteAbort, 100, 5, false, false, nil, 0},
		{"commit after abort", CompleteAbort, 100, 5, true, false, kerr.InvalidTxnState, 0},
		{"commit while committing", PrepareCommit, 100, 5, true, false, kerr.ConcurrentTransactions, 0},
		{"abort while committing", PrepareCommit, 100, 5, false, false, kerr.InvalidTxnState, 0},
		{"abort while aborting", PrepareAbort, 100, 5, false, false, kerr.ConcurrentTransactions, 0},
		{"commit while aborting", PrepareAbort, 100, 5, true, false, kerr.InvalidTxnState, 0},
		// While markers go out the id is pending: even the wrong outcome
		// is told to wait, as Kafka does.
		{"abort while commit markers go out", PrepareCommit, 100, 5, false, true, kerr.ConcurrentTransactions, 0},
	} {
		x := settled(tt.st)
		if tt.pending {
			if tt.st.preparing() {
				x.PrepareComplete(t0)
			} else {
				x.PrepareAddPartitions(100, 5, []Partition{pc2}, t0)
			}
			if x.Pending() == nil {
				t.Fatalf("%s: no pending transition", tt.name)
			}
		}
		tr, err := x.PrepareEnd(tt.pid, tt.epoch, tt.commit, t0+70)
		if err != tt.wantErr {
			t.Fatalf("%s: error %v, want %v", tt.name, err, tt.wantErr)
		}
		if tt.wantTo == 0 {
			if tr != nil {
				t.Fatalf("%s: unexpected transit %+v", tt.name, tr)
			}
			continue
		}
		if tr.State != tt.wantTo || tr.ProducerEpoch != 5 || !slices.Equal(tr.Partitions, []Partition{pa0, pb1}) || tr.StartMs != t0 {
			t.Fatalf("%s: transit %+v", tt.name, tr)
		}
	}
}

// The whole of a committed transaction: add, prepare, markers, complete.
func TestCommitLifecycle(t *testing.T) {
	x := New("tx", 100, 60_000, t0)
	tr, _, _ := x.PrepareInit(InitRequest{TimeoutMs: 60_000, NewProducerID: NoProducerID}, t0)
	mustComplete(t, x, tr)
	tr, _ = x.PrepareAddPartitions(100, 0, []Partition{pa0, pb1}, t0+10)
	mustComplete(t, x, tr)
	tr, err := x.PrepareEnd(100, 0, true, t0+20)
	if err != nil {
		t.Fatal(err)
	}
	mustComplete(t, x, tr)
	done, ok := x.PrepareComplete(t0 + 30)
	if !ok || done.State != CompleteCommit || len(done.Partitions) != 0 || done.LastProducerEpoch != 0 || done.StartMs != t0+10 {
		t.Fatalf("complete transit %+v %v", done, ok)
	}
	if _, ok := x.PrepareComplete(t0 + 31); ok {
		t.Fatal("second PrepareComplete while one is pending")
	}
	x.MarkerDone(pa0)
	if !slices.Equal(x.Partitions(), []Partition{pb1}) {
		t.Fatalf("after one marker: %v", x.Partitions())
	}
	x.MarkerDone(pb1)
	mustComplete(t, x, done)
	if x.State != CompleteCommit || len(x.Partitions()) != 0 || x.LastUpdateMs != t0+30 || x.StartMs != t0+10 {
		t.Fatalf("committed %+v", x)
	}
	// A retry of the EndTxn succeeds without a write.
	if tr, err := x.PrepareEnd(100, 0, true, t0+40); tr != nil || err != nil {
		t.Fatalf("retried EndTxn: %+v %v", tr, err)
	}
	// Markers are only tracked while preparing.
	x.MarkerDone(pa0)
	if x.State != CompleteCommit {
		t.Fatal("MarkerDone changed a settled transaction")
	}
}

func TestPrepareCompleteNeedsPreparedState(t *testing.T) {
	for _, st := range []State{Empty, Ongoing, CompleteCommit, CompleteAbort} {
		if _, ok := settled(st).PrepareComplete(t0); ok {
			t.Fatalf("PrepareComplete from %v", st)
		}
	}
	tr, ok := settled(PrepareAbort).PrepareComplete(t0)
	if !ok || tr.State != CompleteAbort {
		t.Fatalf("from PrepareAbort: %+v", tr)
	}
}

func TestCompleteAndFailOnlyThePendingTransit(t *testing.T) {
	x := settled(Ongoing)
	tr, _ := x.PrepareEnd(100, 5, true, t0)
	other := *tr
	if x.Complete(&other) || x.Complete(nil) {
		t.Fatal("completed a transit that is not pending")
	}
	x.Fail(&other)
	if x.Pending() != tr {
		t.Fatal("failing another transit dropped the pending one")
	}
	x.Fail(tr)
	if x.Pending() != nil || x.State != Ongoing || x.ProducerEpoch != 5 {
		t.Fatalf("after fail %+v", x)
	}
	// A failed write leaves the id usable: the commit can be retried.
	if tr, err := x.PrepareEnd(100, 5, true, t0+1); err != nil || tr.State != PrepareCommit {
		t.Fatalf("retry after failure %+v %v", tr, err)
	}
}

func TestTimedOut(t *testing.T) {
	x := settled(Ongoing) // started at t0 with a 60 s timeout
	if x.TimedOut(t0 + 60_000) {
		t.Fatal("timed out at its deadline")
	}
	if !x.TimedOut(t0 + 60_001) {
		t.Fatal("not timed out past its deadline")
	}
	for _, st := range []State{Empty, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort} {
		if settled(st).TimedOut(t0 + 1e9) {
			t.Fatalf("%v timed out", st)
		}
	}
	tr, ok := x.PrepareFence(t0 + 60_001)
	if !ok || tr.State != PrepareAbort || tr.ProducerEpoch != 6 {
		t.Fatalf("timeout abort %+v", tr)
	}
	if x.TimedOut(t0 + 1e9) {
		t.Fatal("timed out again while its abort is pending")
	}
	if _, ok := x.PrepareFence(t0 + 1e9); ok {
		t.Fatal("fenced twice")
	}
	if _, ok := settled(CompleteCommit).PrepareFence(t0); ok {
		t.Fatal("fenced a settled transaction")
	}
}

func TestExpiry(t *testing.T) {
	const exp = 7 * 24 * 3600 * 1000
	for _, st := range []State{Empty, CompleteCommit, CompleteAbort} {
		x := settled(st)
		if x.Expired(t0+exp-1, exp) {
			t.Fatalf("%v expired early", st)
		}
		tr, ok := x.PrepareDead(t0+exp, exp)
		if !ok || tr.State != Dead || tr.LastUpdateMs != t0 {
			t.Fatalf("%v: dead %+v %v", st, tr, ok)
		}
		if Value(tr) != nil {
			t.Fatalf("%v: expiry is not a tombstone", st)
		}
		if _, _, err := x.PrepareInit(InitRequest{TimeoutMs: 1, NewProducerID: NoProducerID}, t0+exp); err != kerr.ConcurrentTransactions {
			t.Fatalf("%v: init while expiring: %v", st, err)
		}
		mustComplete(t, x, tr)
		if x.State != Dead {
			t.Fatalf("%v: state %v", st, x.State)
		}
	}
	for _, st := range []State{Ongoing, PrepareCommit, PrepareAbort} {
		if _, ok := settled(st).PrepareDead(t0+1e12, exp); ok {
			t.Fatalf("%v expired", st)
		}
	}
}

func TestListFilter(t *testing.T) {
	ongoing := settled(Ongoing) // producer 100, started t0
	empty := settled(Empty)
	empty.ProducerID = 200
	dead := settled(CompleteCommit)
	dead.State = Dead
	for _, tt := range []struct {
		name    string
		states  []string
		pids    []int64
		dur     int64
		want    []*Txn
		unknown []string
	}{
		{"all", nil, nil, -1, []*Txn{ongoing, empty}, nil},
		{"by state", []string{"Ongoing"}, nil, -1, []*Txn{ongoing}, nil},
		{"unknown state matches nothing", []string{"Bogus"}, nil, -1, nil, []string{"Bogus"}},
		{"known and unknown", []string{"Empty", "Nope"}, nil, -1, []*Txn{empty}, []string{"Nope"}},
		{"by producer", nil, []int64{200, 5}, -1, []*Txn{empty}, nil},
		{"running longer than 10 s", nil, nil, 10_000, []*Txn{empty, ongoing}, nil},
		{"running longer than 20 s", []string{"Ongoing"}, nil, 20_000, nil, nil},
	} {
		f, unknown := NewListFilter(tt.states, tt.pids, tt.dur)
		if !slices.Equal(unknown, tt.unknown) {
			t.Fatalf("%s: unknown %v", tt.name, unknown)
		}
		var got []*Txn
		for _, x := range []*Txn{ongoing, empty, dead} {
			if f.Match(x, t0+20_000) {
				got = append(got, x)
			}
		}
		if len(got) != len(tt.want) {
			t.Fatalf("%s: matched %d, want %d", tt.name, len(got), len(tt.want))
		}
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Fatalf("%s: %s (%v) not matched", tt.name, w.ID, w.State)
			}
		}
	}
}

func TestStateNames(t *testing.T) {
	for s := Empty; s <= PrepareEpochFence; s++ {
		if got, ok := StateByName(s.String()); !ok || got != s {
			t.Fatalf("%v round trip: %v %v", s, got, ok)
		}
	}
	if State(9).String() != "Unknown" {
		t.Fatal("unknown state name")
	}
}

func TestListFilterIDPattern(t *testing.T) {
	a, b := settled(Ongoing), settled(Ongoing)
	a.ID, b.ID = "orders-1", "payments-orders"
	for _, tt := range []struct {
		pattern string
		want    []string
	}{
		{"", []string{"orders-1", "payments-orders"}},
		{"orders-.*", []string{"orders-1"}}, // the whole id must match
		{"orders", nil},                     // not a prefix or substring match
		{".*orders", []string{"payments-orders"}},
		{"orders-1|payments-.*", []string{"orders-1", "payments-orders"}},
	} {
		f, _ := NewListFilter(nil, nil, -1)
		if err := f.SetIDPattern(tt.pattern); err != nil {
			t.Fatalf("%q: %v", tt.pattern, err)
		}
		var got []string
		for _, x := range []*Txn{a, b} {
			if f.Match(x, t0) {
				got = append(got, x.ID)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Fatalf("%q: matched %v, want %v", tt.pattern, got, tt.want)
		}
	}
	f, _ := NewListFilter(nil, nil, -1)
	if err := f.SetIDPattern("(?=x)"); err == nil {
		t.Fatal("a lookahead compiled")
	}
	if err := f.SetIDPattern("[a-"); err == nil {
		t.Fatal("an unclosed class compiled")
	}
}
