package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"spool/record"
)

func txnCompactConfig() Config {
	c := compactConfig()
	c.DeleteRetentionMs = 60_000
	return c
}

func dataByKey(v txnView) map[string]string {
	m := map[string]string{}
	for _, r := range v.recs {
		m[r.key] = r.value
	}
	return m
}

func TestCleanDropsAbortedRecords(t *testing.T) {
	clk := newFakeClock()
	dir := t.TempDir()
	l := openTestLog(t, dir, txnCompactConfig(), Options{Now: clk.Now})
	ts := clk.Now().UnixMilli()
	appendBatch(t, l, keyedBatch(t, 0, ts, noProducer, kv{"a", []byte("old")}, kv{"b", []byte("old")}))
	p5 := producerFields{pid: 5, seq: 0}
	appendBatch(t, l, txnBatch(t, record.CompressionLZ4, ts, p5, kv{"a", []byte("aborted")}, kv{"c", []byte("aborted")})) // 2-3
	marker := appendMarker(t, l, 5, false, ts)
	abort := AbortedTxn{ProducerID: 5, FirstOffset: 2, LastOffset: marker, LastStableOffset: marker + 1}
	if err := l.AddAbortedTxn(abort); err != nil {
		t.Fatal(err)
	}
	// The producer's last batch is a later one, so the marker is not kept
	// for the producer's state.
	appendBatch(t, l, keyedBatch(t, 0, ts, producerFields{pid: 5, seq: 2}, kv{"d", []byte("1")}))
	rollNow(t, l, clk)
	res := cleanAll(t, NewCleaner(CleanerOptions{}), l)
	v := readTxnView(t, l)
	// An aborted record in the offset map would have shadowed a=old.
	if got := dataByKey(v); got["a"] != "old" || got["b"] != "old" || got["d"] != "1" || len(got) != 4 {
		t.Fatalf("records after clean: %v", got)
	}
	if res[0].RecordsDropped != 2 {
		t.Fatalf("dropped %d records, want the 2 aborted", res[0].RecordsDropped)
	}
	// The marker stays until its delete horizon, and so does its entry,
	// carried into the cleaned segment's index.
	if len(v.markers) != 1 || v.markers[0].offset != marker || !v.markers[0].horizon {
		t.Fatalf("markers after the first clean: %+v", v.markers)
	}
	if got := allAborted(t, l); !slices.Equal(got, []AbortedTxn{abort}) {
		t.Fatalf("index after the first clean: %v", got)
	}
	if files := txnFiles(t, dir); !slices.Equal(files, []string{fmt.Sprintf("%020d.txnindex", 0)}) {
		t.Fatalf("index files %v", files)
	}
	if l.CleanerStats().TombstonesDue {
		t.Fatal("marker due before delete.retention.ms")
	}
	clk.Advance(60 * time.Second)
	if !l.CleanerStats().TombstonesDue {
		t.Fatal("marker not due after delete.retention.ms")
	}
	cleanAll(t, NewCleaner(CleanerOptions{}), l)
	v = readTxnView(t, l)
	if len(v.markers) != 0 || len(allAborted(t, l)) != 0 || len(txnFiles(t, dir)) != 0 {
		t.Fatalf("after the horizon: markers %+v, index files %v", v.markers, txnFiles(t, dir))
	}
	if got := dataByKey(v); got["a"] != "old" || len(got) != 4 {
		t.Fatalf("records after the horizon: %v", got)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCleanCommittedTxnMarkers(t *testing.T) {
	clk := newFakeClock()
	l := openTestLog(t, t.TempDir(), txnCompactConfig(), Options{Now: clk.Now})
	defer l.Close()
	ts := clk.Now().UnixMilli()
	p7 := producerFields{pid: 7}
	appendBatch(t, l, txnBatch(t, 0, ts, p7, kv{"a", []byte("1")}, kv{"b", []byte("1")})) // 0-1
	m1 := appendMarker(t, l, 7, true, ts)                                                 // 2
	appendBatch(t, l, txnBatch(t, 0, ts, p7, kv{"a", []byte("2")}))                       // 3
	m2 := appendMarker(t, l, 7, true, ts)                                                 // 4
	appendBatch(t, l, keyedBatch(t, 0, ts, noProducer, kv{"b", []byte("3")}))             // 5
	appendBatch(t, l, txnBatch(t, 0, ts, p7, kv{"d", []byte("1")}))                       // 6
	m3 := appendMarker(t, l, 7, true, ts)                                                 // 7
	rollNow(t, l, clk)
	markersOf := func(v txnView) map[int64]bool {
		m := map[int64]bool{}
		for _, mk := range v.markers {
			m[mk.offset] = mk.horizon
		}
		return m
	}
	c := NewCleaner(CleanerOptions{})
	cleanAll(t, c, l)
	v := readTxnView(t, l)
	if got := dataByKey(v); got["a"] != "2" || got["b"] != "3" || got["d"] != "1" || len(got) != 4 {
		t.Fatalf("committed records not compacted as plain ones: %v", got)
	}
	// m1's records are all superseded: it gets a horizon. m2 and m3 keep
	// records; m3 is also the producer's last batch.
	if got := markersOf(v); len(got) != 3 || !got[m1] || got[m2] || got[m3] {
		t.Fatalf("markers (offset -> horizon) %v", got)
	}
	clk.Advance(60 * time.Second)
	cleanAll(t, c, l)
	if got := markersOf(readTxnView(t, l)); len(got) != 2 || got[m2] || got[m3] {
		t.Fatalf("after the horizon: markers %v, want %d and %d without horizons", got, m2, m3)
	}
	// Supersede the rest: m2 goes a horizon later, m3 stays for the
	// producer's state however long it waits.
	appendBatch(t, l, keyedBatch(t, 0, clk.Now().UnixMilli(), noProducer, kv{"a", []byte("4")}, kv{"d", []byte("2")}))
	rollNow(t, l, clk)
	cleanAll(t, c, l)
	if got := markersOf(readTxnView(t, l)); len(got) != 2 || !got[m2] || got[m3] {
		t.Fatalf("after superseding: markers %v", got)
	}
	clk.Advance(60 * time.Second)
	cleanAll(t, c, l)
	if got := markersOf(readTxnView(t, l)); len(got) != 1 || got[m3] {
		t.Fatalf("at the end: markers %v, want only %d", got, m3)
	}
	clk.Advance(time.Hour)
	if st := l.CleanerStats(); st.TombstonesDue {
		t.Fatal("a marker kept for its producer counts as due: the cleaner would spin on it")
	}
	if got := dataByKey(readTxnView(t, l)); got["a"] != "4" || got["d"] != "2" {
		t.Fatalf("records %v", got)
	}
}

// A random mix of committed and aborted transactions over several
// segments, cleaned in several passes: exactly the latest committed record
// per key remains, every marker with records left stays, and once the
// horizon passes only markers with records or producers to serve remain.
func TestCleanTxnWorkload(t *testing.T) {
	clk := newFakeClock()
	dir := t.TempDir()
	l := openTestLog(t, dir, txnCompactConfig(), Options{Now: clk.Now})
	defer l.Close()
	g := newTxnGen(t, l, clk, 1, 6, 300)
	g.run(3000)
	rollNow(t, l, clk)
	if l.NumSegments() < 5 {
		t.Fatalf("%d segments", l.NumSegments())
	}
	c := NewCleaner(CleanerOptions{DedupeBufferSize: 200 * mapEntrySize})
	if res := cleanAll(t, c, l); len(res) < 2 {
		t.Fatalf("%d passes, want several", len(res))
	}
	v := readTxnView(t, l)
	checkCleanTxnLog(t, g, v)
	checkTxnIndexMatchesMarkers(t, l, v)
	if len(v.markers) != g.markers {
		t.Fatalf("%d of %d markers left before any horizon passed", len(v.markers), g.markers)
	}
	clk.Advance(60 * time.Second)
	cleanAll(t, c, l)
	v = readTxnView(t, l)
	checkCleanTxnLog(t, g, v)
	checkTxnIndexMatchesMarkers(t, l, v)
	withData := map[int64]bool{}
	for _, r := range v.recs {
		if r.txn {
			withData[g.markerOf[r.offset]] = true
		}
	}
	for _, m := range v.markers {
		if !withData[m.offset] && v.lastOf[m.pid] != m.offset {
			t.Fatalf("marker %d of producer %d outlived its horizon with no records", m.offset, m.pid)
		}
	}
	if len(v.markers) >= g.markers {
		t.Fatalf("no marker went: %d of %d left", len(v.markers), g.markers)
	}
	// Reopened, the cleaned indexes are what the lookups see.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openTestLog(t, dir, txnCompactConfig(), Options{Now: clk.Now})
	checkTxnIndexMatchesMarkers(t, l, readTxnView(t, l))
}

func TestCleanTxnCrashAtEachStep(t *testing.T) {
	steps := []string{StepMapped, StepCleaned, StepSwap, StepDeleted, StepSwapped, StepFinished}
	for _, step := range steps {
		for _, nth := range []int{1, 2} {
			if nth == 2 && (step == StepMapped || step == StepFinished) {
				continue
			}
			t.Run(fmt.Sprintf("%s#%d", step, nth), func(t *testing.T) {
				txnCrashAt(t, step, nth)
			})
		}
	}
}

func txnCrashAt(t *testing.T, step string, nth int) {
	clk := newFakeClock()
	dir := t.TempDir()
	cfg := txnCompactConfig()
	l := openTestLog(t, dir, cfg, Options{Now: clk.Now})
	g := newTxnGen(t, l, clk, 2, 5, 200)
	g.run(1500)
	rollNow(t, l, clk)
	// A second round over cleaned, merged segments exercises swaps that
	// merge several indexes into one.
	cleanAll(t, NewCleaner(CleanerOptions{}), l)
	g.run(1500)
	rollNow(t, l, clk)
	seen := 0
	c := NewCleaner(CleanerOptions{Hook: func(s string) error {
		if s == step {
			if seen++; seen == nth {
				return errCrash
			}
		}
		return nil
	}})
	if _, err := c.Clean(context.Background(), l, 1<<62); !errors.Is(err, errCrash) {
		t.Fatalf("clean did not stop at %s: %v", step, err)
	}
	l = openTestLog(t, dir, cfg, Options{Now: clk.Now})
	defer l.Close()
	if left := leftovers(t, dir); len(left) > 0 {
		t.Fatalf("leftovers after recovery: %v", left)
	}
	v := readTxnView(t, l)
	checkTxnIndexMatchesMarkers(t, l, v)
	if got, want := committedLatest(t, l, v), g.latest(); !mapsEqual(got, want) {
		t.Fatalf("read_committed view after recovery differs: %d keys, want %d", len(got), len(want))
	}
	cleanAll(t, NewCleaner(CleanerOptions{}), l)
	v = readTxnView(t, l)
	checkCleanTxnLog(t, g, v)
	checkTxnIndexMatchesMarkers(t, l, v)
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// The state a crash leaves between renaming the new index into place and
// renaming the .log.swap: the .txnindex under the final name is the new
// one, and the old segments it replaced still stand.
func TestRecoveryKeepsRenamedTxnIndexOfSwap(t *testing.T) {
	clk := newFakeClock()
	dir := t.TempDir()
	cfg := txnCompactConfig()
	l := openTestLog(t, dir, cfg, Options{Now: clk.Now})
	g := newTxnGen(t, l, clk, 3, 4, 100)
	g.run(1500)
	rollNow(t, l, clk)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	copyDir(t, dir, other)
	ol := openTestLog(t, other, cfg, Options{Now: clk.Now})
	cleanAll(t, NewCleaner(CleanerOptions{}), ol)
	if _, err := NewCleaner(CleanerOptions{}).Clean(context.Background(), ol, 1<<62); err != nil || ol.NumSegments() != 2 {
		t.Fatalf("merge: %d segments, %v", ol.NumSegments(), err)
	}
	ol.Close()
	// The cleaned log's first segment, as a .log.swap, with its index
	// already renamed over the old first segment's.
	for _, suffix := range []string{logSuffix, txnIndexSuffix} {
		name := fmt.Sprintf("%020d%s", 0, suffix)
		data, err := os.ReadFile(filepath.Join(other, name))
		if err != nil {
			t.Fatal(err)
		}
		to := name
		if suffix == logSuffix {
			to += swapSuffix
		}
		if err := os.WriteFile(filepath.Join(dir, to), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove(filepath.Join(dir, cleanShutdownFile))
	l = openTestLog(t, dir, cfg, Options{Now: clk.Now})
	defer l.Close()
	if l.NumSegments() != 2 {
		t.Fatalf("%d segments after completing the swap", l.NumSegments())
	}
	v := readTxnView(t, l)
	checkTxnIndexMatchesMarkers(t, l, v)
	checkCleanTxnLog(t, g, v)
}

// The broker bounds a clean by the last stable offset; the stats it ranks
// logs by must use the same bound, or a log held back by an open
// transaction would be picked again and again for nothing.
func TestCleanerStatsBelowStableOffset(t *testing.T) {
	clk := newFakeClock()
	l := openTestLog(t, t.TempDir(), txnCompactConfig(), Options{Now: clk.Now})
	defer l.Close()
	writeUpdates(t, l, clk, record.CompressionNone, 2_000, 50, 10)
	ts := clk.Now().UnixMilli()
	res, err := l.Append(txnBatch(t, 0, ts, producerFields{pid: 3}, kv{"key-00001", []byte("open")}), 1, -1)
	if err != nil {
		t.Fatal(err)
	}
	lso := res.FirstOffset // the open transaction's first offset
	writeUpdates(t, l, clk, record.CompressionNone, 2_000, 50, 10)
	rollNow(t, l, clk)
	all, below := l.CleanerStats(), l.CleanerStatsBelow(lso)
	if below.CleanableBytes == 0 || below.CleanableBytes >= all.CleanableBytes {
		t.Fatalf("cleanable bytes %d below the stable offset, %d in all", below.CleanableBytes, all.CleanableBytes)
	}
	if st := l.CleanerStatsBelow(0); st.CleanableBytes != 0 || st.Cleanable() {
		t.Fatalf("stats below offset 0: %+v", st)
	}
	if _, err := NewCleaner(CleanerOptions{}).Clean(context.Background(), l, lso); err != nil {
		t.Fatal(err)
	}
	// The open transaction's record is untouched though superseded.
	v := readTxnView(t, l)
	if !slices.ContainsFunc(v.recs, func(r viewRecord) bool { return r.offset == lso && r.value == "open" }) {
		t.Fatal("a record of the open transaction was cleaned")
	}
}

// An abort indexed while a clean is under way, in a segment the clean is
// rewriting, must not be lost with the old segment: the swap is refused
// and the next clean sees the entry.
func TestCleanAbortsWhenIndexChangesMeanwhile(t *testing.T) {
	clk := newFakeClock()
	l := openTestLog(t, t.TempDir(), txnCompactConfig(), Options{Now: clk.Now})
	defer l.Close()
	ts := clk.Now().UnixMilli()
	appendBatch(t, l, keyedBatch(t, 0, ts, noProducer, kv{"a", []byte("old")}))
	appendBatch(t, l, txnBatch(t, 0, ts, producerFields{pid: 4}, kv{"a", []byte("aborted")}))
	marker := appendMarker(t, l, 4, false, ts)
	appendBatch(t, l, keyedBatch(t, 0, ts, producerFields{pid: 4, seq: 1}, kv{"b", []byte("1")}))
	rollNow(t, l, clk)
	abort := AbortedTxn{ProducerID: 4, FirstOffset: 1, LastOffset: marker, LastStableOffset: marker + 1}
	c := NewCleaner(CleanerOptions{Hook: func(step string) error {
		if step == StepMapped {
			return l.AddAbortedTxn(abort)
		}
		return nil
	}})
	if _, err := c.Clean(context.Background(), l, 1<<62); !errors.Is(err, ErrCleanAborted) {
		t.Fatalf("clean over a changed index: %v", err)
	}
	if left := leftovers(t, l.Dir()); len(left) > 0 {
		t.Fatalf("leftovers: %v", left)
	}
	cleanAll(t, NewCleaner(CleanerOptions{}), l)
	if got := dataByKey(readTxnView(t, l)); got["a"] != "old" {
		t.Fatalf("records %v", got)
	}
	if got := allAborted(t, l); !slices.Equal(got, []AbortedTxn{abort}) {
		t.Fatalf("index %v", got)
	}
}
