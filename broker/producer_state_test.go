package broker

import (
	"errors"
	"math"
	"os"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"spool/record"
	"spool/storage"
)

// hdr is an idempotent batch header: producer, epoch, base sequence,
// records, and the offset it lands at.
func hdr(pid int64, epoch int16, seq int32, n int32, base int64) record.Header {
	return record.Header{
		ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq, LastOffsetDelta: n - 1,
		NumRecords: n, BaseOffset: base, MaxTimestamp: 1000 + base,
	}
}

func TestProducerStateMachine(t *testing.T) {
	type step struct {
		h       record.Header
		wantErr *kerr.Error
		dupOf   int64 // > -1: a duplicate of the batch at this offset
	}
	ok := func(h record.Header) step { return step{h: h, dupOf: -1} }
	bad := func(h record.Header, e *kerr.Error) step { return step{h: h, wantErr: e, dupOf: -1} }
	dup := func(h record.Header, off int64) step { return step{h: h, dupOf: off} }
	tests := []struct {
		name  string
		steps []step
	}{
		{"in order", []step{ok(hdr(7, 0, 0, 3, 0)), ok(hdr(7, 0, 3, 2, 3)), ok(hdr(7, 0, 5, 1, 5))}},
		{"duplicate answers the first offsets", []step{
			ok(hdr(7, 0, 0, 3, 0)), ok(hdr(7, 0, 3, 2, 3)), dup(hdr(7, 0, 0, 3, 99), 0), dup(hdr(7, 0, 3, 2, 99), 3),
			ok(hdr(7, 0, 5, 1, 5)),
		}},
		{"only the last five batches are remembered", []step{
			ok(hdr(7, 0, 0, 1, 0)), ok(hdr(7, 0, 1, 1, 1)), ok(hdr(7, 0, 2, 1, 2)), ok(hdr(7, 0, 3, 1, 3)),
			ok(hdr(7, 0, 4, 1, 4)), dup(hdr(7, 0, 0, 1, 9), 0), ok(hdr(7, 0, 5, 1, 5)),
			bad(hdr(7, 0, 0, 1, 9), kerr.OutOfOrderSequenceNumber), dup(hdr(7, 0, 1, 1, 9), 1),
		}},
		{"gap", []step{ok(hdr(7, 0, 0, 3, 0)), bad(hdr(7, 0, 4, 1, 3), kerr.OutOfOrderSequenceNumber), ok(hdr(7, 0, 3, 1, 3))}},
		{"overlap that is no duplicate", []step{ok(hdr(7, 0, 0, 3, 0)), bad(hdr(7, 0, 1, 3, 3), kerr.OutOfOrderSequenceNumber)}},
		{"older epoch is fenced", []step{
			ok(hdr(7, 2, 0, 1, 0)), bad(hdr(7, 1, 1, 1, 1), kerr.InvalidProducerEpoch), bad(hdr(7, 1, 0, 1, 1), kerr.InvalidProducerEpoch),
		}},
		{"new epoch starts at zero", []step{
			ok(hdr(7, 0, 0, 5, 0)), bad(hdr(7, 1, 5, 1, 5), kerr.OutOfOrderSequenceNumber), ok(hdr(7, 1, 0, 1, 5)),
			bad(hdr(7, 0, 5, 1, 6), kerr.InvalidProducerEpoch), ok(hdr(7, 1, 1, 1, 6)),
		}},
		{"new epoch forgets old batches", []step{
			ok(hdr(7, 0, 0, 1, 0)), ok(hdr(7, 1, 0, 1, 1)), dup(hdr(7, 1, 0, 1, 9), 1),
		}},
		{"unknown producer may start anywhere", []step{ok(hdr(8, 3, 1234, 2, 0)), ok(hdr(8, 3, 1236, 1, 2))}},
		{"producers are independent", []step{
			ok(hdr(1, 0, 0, 1, 0)), ok(hdr(2, 0, 0, 1, 1)), ok(hdr(1, 0, 1, 1, 2)), bad(hdr(2, 0, 2, 1, 3), kerr.OutOfOrderSequenceNumber),
		}},
		{"sequence wraps", []step{
			ok(hdr(7, 0, math.MaxInt32-1, 2, 0)), ok(hdr(7, 0, 0, 1, 2)), dup(hdr(7, 0, math.MaxInt32-1, 2, 9), 0),
		}},
		{"batch spanning the wrap", []step{
			ok(hdr(7, 0, math.MaxInt32-1, 4, 0)), bad(hdr(7, 0, 3, 1, 4), kerr.OutOfOrderSequenceNumber), ok(hdr(7, 0, 2, 1, 4)),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newProducerStates()
			for i, s := range tt.steps {
				c := st.check(s.h)
				if c.err != s.wantErr {
					t.Fatalf("step %d: err %v (%s), want %v", i, c.err, c.msg, s.wantErr)
				}
				switch {
				case s.dupOf >= 0 && (c.dup == nil || c.dup.firstOffset != s.dupOf):
					t.Fatalf("step %d: duplicate %+v, want of offset %d", i, c.dup, s.dupOf)
				case s.dupOf < 0 && c.dup != nil:
					t.Fatalf("step %d: unexpected duplicate of %+v", i, c.dup)
				}
				if c.err == nil && c.dup == nil {
					st.update(s.h)
				}
			}
		})
	}
}

func TestLastSequenceWraps(t *testing.T) {
	for _, tt := range []struct {
		base, delta, want int32
	}{
		{0, 0, 0}, {5, 4, 9}, {math.MaxInt32, 0, math.MaxInt32}, {math.MaxInt32, 1, 0},
		{math.MaxInt32 - 1, 3, 1}, {math.MaxInt32 - 10, 10, math.MaxInt32},
	} {
		h := record.Header{BaseSequence: tt.base, LastOffsetDelta: tt.delta}
		if got := lastSequence(h); got != tt.want {
			t.Errorf("lastSequence(%d+%d) = %d, want %d", tt.base, tt.delta, got, tt.want)
		}
	}
}

func TestProducerExpiry(t *testing.T) {
	st := newProducerStates()
	old, fresh := hdr(1, 0, 0, 1, 0), hdr(2, 0, 0, 1, 1)
	old.MaxTimestamp, fresh.MaxTimestamp = 1_000, 90_000
	st.update(old)
	st.update(fresh)
	st.expire(100_000, 50_000)
	if st.m[1] != nil || st.m[2] == nil {
		t.Fatalf("after expiry: %v, want only producer 2", st.m)
	}
	// An expired producer is unknown again: any sequence is accepted.
	if c := st.check(hdr(1, 0, 77, 1, 2)); c.err != nil || c.dup != nil {
		t.Fatalf("expired producer: %+v", c)
	}
}

func TestProducerSnapshotRoundTrip(t *testing.T) {
	st := newProducerStates()
	for i := int32(0); i < 7; i++ {
		st.update(hdr(5, 1, i*2, 2, int64(i)*2))
	}
	st.update(hdr(9, 0, math.MaxInt32, 1, 20))
	raw := st.encode()
	got, err := decodeProducerStates(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.m) != 2 || *got.m[5] != *st.m[5] || *got.m[9] != *st.m[9] {
		t.Fatalf("decoded %+v %+v, want %+v %+v", got.m[5], got.m[9], st.m[5], st.m[9])
	}
	for i := range raw {
		broken := append([]byte(nil), raw...)
		broken[i] ^= 0x40
		if _, err := decodeProducerStates(broken); !errors.Is(err, errBadSnapshot) {
			t.Fatalf("flipping byte %d: err %v, want errBadSnapshot", i, err)
		}
	}
	if _, err := decodeProducerStates(raw[:len(raw)-1]); err == nil {
		t.Fatal("truncated snapshot decoded")
	}
}

// TestProducerStateRebuild checks the state comes back from the log after a
// crash (no snapshot: replay from the start), from a snapshot plus the
// batches after it, and that a snapshot beyond the log end is ignored.
func TestProducerStateRebuild(t *testing.T) {
	tb := newTestBroker(t, map[string]string{"segment.bytes": "1000"}, storage.Options{})
	for i := int32(0); i < 40; i++ {
		if r := tb.produceOne(t, buildBatch(t, idem(42, 0, i*2, 2))); r.ErrorCode != 0 {
			t.Fatalf("batch %d: error %d", i, r.ErrorCode)
		}
	}
	if tb.p.log.NumSegments() < 3 {
		t.Fatalf("%d segments; the test needs rolls", tb.p.log.NumSegments())
	}
	dir := tb.p.log.Dir()
	snaps, err := listSnapshots(dir)
	if err != nil || len(snaps) == 0 || len(snaps) > snapshotsKept {
		t.Fatalf("snapshots after rolls: %v %v, want 1-%d", snaps, err, snapshotsKept)
	}
	want := *tb.p.producers.m[42]

	rebuilt := func() producerEntry {
		t.Helper()
		p := &partition{log: tb.p.log}
		if err := p.loadProducerState(); err != nil {
			t.Fatal(err)
		}
		e := p.producers.m[42]
		if e == nil {
			t.Fatal("producer 42 not rebuilt")
		}
		return *e
	}
	if got := rebuilt(); got != want {
		t.Fatalf("from roll snapshot: %+v, want %+v", got, want)
	}
	for _, off := range snaps {
		os.Remove(snapshotPath(dir, off))
	}
	if got := rebuilt(); got != want {
		t.Fatalf("from the log alone: %+v, want %+v", got, want)
	}
	// A snapshot claiming more than the log holds is from a lost tail.
	leo := tb.p.log.LogEndOffset()
	bogus := newProducerStates()
	bogus.update(hdr(42, 0, 500, 1, leo+10))
	if err := writeProducerSnapshot(dir, leo+11, bogus, (*os.File).Sync); err != nil {
		t.Fatal(err)
	}
	if got := rebuilt(); got != want {
		t.Fatalf("with a snapshot past the log end: %+v, want %+v", got, want)
	}
	if _, err := os.Stat(snapshotPath(dir, leo+11)); !os.IsNotExist(err) {
		t.Fatalf("snapshot past the log end still there: %v", err)
	}
	// And the rebuilt state still detects a retry of the last batch.
	if r := tb.produceOne(t, buildBatch(t, idem(42, 0, 78, 2))); r.ErrorCode != 0 || r.BaseOffset != 78 {
		t.Fatalf("retry of the last batch: error %d base %d, want 0 at 78", r.ErrorCode, r.BaseOffset)
	}
}
