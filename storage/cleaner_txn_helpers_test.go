package storage

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"

	"spool/record"
)

// txnBatch is keyedBatch with the transactional attribute set.
func txnBatch(t testing.TB, codec int8, ts int64, pf producerFields, kvs ...kv) []byte {
	t.Helper()
	b := keyedBatch(t, codec, ts, pf, kvs...)
	be := binary.BigEndian
	be.PutUint16(b[21:], be.Uint16(b[21:])|record.AttrTransactional)
	record.SetCRC(b)
	return b
}

// txnGen writes interleaved transactions of several producers, committing
// or aborting them at random, with plain records in between, and indexes
// each abort as a broker would.
type txnGen struct {
	t         testing.TB
	l         *Log
	clk       *fakeClock
	rng       *rand.Rand
	producers int
	keys      int
	i         int

	open     map[int64]*genTxn
	recs     []genRecord
	markerOf map[int64]int64 // transactional record offset -> its marker's offset
	aborted  map[int64]bool  // offsets of aborted records
	markers  int
}

type genTxn struct {
	first   int64
	offsets []int64
}

type genRecord struct {
	offset     int64
	key, value string
}

func newTxnGen(t testing.TB, l *Log, clk *fakeClock, seed uint64, producers, keys int) *txnGen {
	return &txnGen{
		t: t, l: l, clk: clk, rng: rand.New(rand.NewPCG(seed, 7)), producers: producers, keys: keys,
		open: map[int64]*genTxn{}, markerOf: map[int64]int64{}, aborted: map[int64]bool{},
	}
}

// run takes n steps, then ends every open transaction.
func (g *txnGen) run(n int) {
	for range n {
		g.step()
	}
	pids := make([]int64, 0, len(g.open))
	for pid := range g.open {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	for _, pid := range pids {
		g.end(pid, g.rng.IntN(2) == 0)
	}
}

func (g *txnGen) step() {
	pid := int64(1 + g.rng.IntN(g.producers))
	if g.open[pid] != nil && g.rng.IntN(4) == 0 {
		g.end(pid, g.rng.IntN(3) == 0)
		return
	}
	var kvs []kv
	for range 1 + g.rng.IntN(5) {
		k := "key-" + string(rune('a'+g.rng.IntN(26))) + string(rune('a'+g.rng.IntN(max(g.keys/26, 1))))
		kvs = append(kvs, kv{k, value(k, g.i)})
		g.i++
	}
	codec := record.CompressionNone
	if g.rng.IntN(4) == 0 {
		codec = record.CompressionSnappy
	}
	ts := g.clk.Now().UnixMilli()
	txn := g.rng.IntN(5) != 0
	var b []byte
	if txn {
		b = txnBatch(g.t, codec, ts, producerFields{pid: pid, seq: int32(g.i)}, kvs...)
	} else {
		b = keyedBatch(g.t, codec, ts, noProducer, kvs...)
	}
	res, err := g.l.Append(b, 1, -1)
	if err != nil {
		g.t.Fatal(err)
	}
	for j, r := range kvs {
		off := res.FirstOffset + int64(j)
		g.recs = append(g.recs, genRecord{off, r.key, string(r.value)})
		if !txn {
			continue
		}
		o := g.open[pid]
		if o == nil {
			o = &genTxn{first: res.FirstOffset}
			g.open[pid] = o
		}
		o.offsets = append(o.offsets, off)
	}
}

// end writes pid's marker; an abort is indexed with the stable offset of
// the moment: the first offset of the oldest transaction still open.
func (g *txnGen) end(pid int64, abort bool) {
	o := g.open[pid]
	delete(g.open, pid)
	off := appendMarker(g.t, g.l, pid, !abort, g.clk.Now().UnixMilli())
	g.markers++
	for _, r := range o.offsets {
		g.markerOf[r] = off
		if abort {
			g.aborted[r] = true
		}
	}
	if !abort {
		return
	}
	lso := off + 1
	for _, other := range g.open {
		lso = min(lso, other.first)
	}
	if err := g.l.AddAbortedTxn(AbortedTxn{ProducerID: pid, FirstOffset: o.first, LastOffset: off, LastStableOffset: lso}); err != nil {
		g.t.Fatal(err)
	}
}

// latest is each key's last record outside aborted transactions.
func (g *txnGen) latest() map[string]string {
	m := map[string]string{}
	for _, r := range g.recs {
		if !g.aborted[r.offset] {
			m[r.key] = r.value
		}
	}
	return m
}

// txnView is a log read back: data records, markers, and each producer's
// last batch.
type txnView struct {
	recs    []viewRecord
	markers []viewMarker
	lastOf  map[int64]int64
}

type viewRecord struct {
	offset     int64
	key, value string
	pid        int64
	txn        bool
}

type viewMarker struct {
	offset, pid int64
	abort       bool
	horizon     bool
}

func readTxnView(t testing.TB, l *Log) txnView {
	t.Helper()
	v := txnView{lastOf: map[int64]int64{}}
	for _, b := range readAllBatches(t, l) {
		h, err := record.Validate(b)
		if err != nil {
			t.Fatal(err)
		}
		if h.ProducerID >= 0 {
			v.lastOf[h.ProducerID] = h.BaseOffset
		}
		if h.IsControl() {
			ctl, err := record.ParseMarker(b)
			if err != nil {
				t.Fatalf("marker at %d: %v", h.BaseOffset, err)
			}
			v.markers = append(v.markers, viewMarker{h.BaseOffset, h.ProducerID, ctl.Type == record.ControlAbort, h.HasDeleteHorizon()})
			continue
		}
		recs := b[record.HeaderLen:]
		if h.Compression() != record.CompressionNone {
			if recs, err = record.Decompress(nil, h.Compression(), recs); err != nil {
				t.Fatal(err)
			}
		}
		it := record.NewIter(recs, h.NumRecords)
		for r, ok := it.Next(); ok; r, ok = it.Next() {
			v.recs = append(v.recs, viewRecord{h.BaseOffset + int64(r.OffsetDelta), string(r.Key), string(r.Value), h.ProducerID, h.IsTransactional()})
		}
		if it.Err() != nil {
			t.Fatal(it.Err())
		}
	}
	return v
}

// committedLatest is what a read_committed consumer of the log ends up
// with per key, judging aborts by the log's own index.
func committedLatest(t testing.TB, l *Log, v txnView) map[string]string {
	t.Helper()
	aborts := allAborted(t, l)
	m := map[string]string{}
	for _, r := range v.recs {
		if r.key == "~sentinel" {
			continue
		}
		if r.txn && slices.ContainsFunc(aborts, func(e AbortedTxn) bool {
			return e.ProducerID == r.pid && r.offset >= e.FirstOffset && r.offset <= e.LastOffset
		}) {
			continue
		}
		m[r.key] = r.value
	}
	return m
}

// checkTxnIndexMatchesMarkers checks every abort marker in the log has its
// entry, found by a lookup starting at the marker, and every entry names
// an abort marker of its producer.
func checkTxnIndexMatchesMarkers(t testing.TB, l *Log, v txnView) {
	t.Helper()
	aborts := map[[2]int64]bool{}
	for _, m := range v.markers {
		if !m.abort {
			continue
		}
		aborts[[2]int64{m.pid, m.offset}] = true
		got, err := l.AbortedTxns(nil, m.offset, m.offset+1)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(got, func(e AbortedTxn) bool { return e.ProducerID == m.pid && e.LastOffset == m.offset }) {
			t.Fatalf("abort marker %d of producer %d has no index entry (lookup found %v)", m.offset, m.pid, got)
		}
	}
	for _, e := range allAborted(t, l) {
		if !aborts[[2]int64{e.ProducerID, e.LastOffset}] {
			t.Fatalf("index entry %+v has no abort marker in the log", e)
		}
	}
}

// checkCleanTxnLog checks a fully cleaned log: one record per key, the
// latest committed one, nothing of an aborted transaction, and the marker
// of every transaction with records left.
func checkCleanTxnLog(t testing.TB, g *txnGen, v txnView) {
	t.Helper()
	want := g.latest()
	markers := map[int64]bool{}
	for _, m := range v.markers {
		markers[m.offset] = true
	}
	seen := map[string]bool{}
	for _, r := range v.recs {
		if r.key == "~sentinel" {
			continue
		}
		switch {
		case g.aborted[r.offset]:
			t.Fatalf("aborted record %s at %d kept", r.key, r.offset)
		case seen[r.key]:
			t.Fatalf("key %s kept twice (again at %d)", r.key, r.offset)
		case r.value != want[r.key]:
			t.Fatalf("key %s: kept %q, latest committed is %q", r.key, r.value, want[r.key])
		case r.txn && !markers[g.markerOf[r.offset]]:
			t.Fatalf("record %s at %d kept without its marker at %d", r.key, r.offset, g.markerOf[r.offset])
		}
		seen[r.key] = true
	}
	if len(seen) != len(want) {
		t.Fatalf("%d keys kept, want %d", len(seen), len(want))
	}
}
