package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"spool/record"
)

// appendMarker appends a transaction marker for pid and returns its offset.
func appendMarker(t testing.TB, l *Log, pid int64, commit bool, ts int64) int64 {
	t.Helper()
	res, err := l.Append(record.AppendMarker(nil, pid, 0, commit, 5, ts), 1, -1)
	if err != nil {
		t.Fatal(err)
	}
	return res.FirstOffset
}

// abortTxn appends a few data batches for pid and an abort marker, indexes
// the abort and returns its entry.
func abortTxn(t testing.TB, l *Log, pid int64, batches int) AbortedTxn {
	t.Helper()
	first := int64(-1)
	for range batches {
		res, err := l.Append(makeBatch(t, batchSpec{records: 2, valueSize: 40, firstTs: 1000}), 1, -1)
		if err != nil {
			t.Fatal(err)
		}
		if first < 0 {
			first = res.FirstOffset
		}
	}
	last := appendMarker(t, l, pid, false, 1000)
	if first < 0 {
		first = last
	}
	e := AbortedTxn{ProducerID: pid, FirstOffset: first, LastOffset: last, LastStableOffset: last + 1}
	if err := l.AddAbortedTxn(e); err != nil {
		t.Fatal(err)
	}
	return e
}

func txnFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+txnIndexSuffix))
	if err != nil {
		t.Fatal(err)
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	return m
}

func allAborted(t testing.TB, l *Log) []AbortedTxn {
	t.Helper()
	got, err := l.AbortedTxns(nil, l.LogStartOffset(), l.LogEndOffset())
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestTxnIndexRoundTrip(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, smallConfig(), Options{})
	appendN(t, l, 40, 2, 400, tsIdentity) // several segments without aborts
	if got := txnFiles(t, dir); len(got) != 0 {
		t.Fatalf("index files before any abort: %v", got)
	}
	var want []AbortedTxn
	for pid := int64(1); pid <= 3; pid++ {
		want = append(want, abortTxn(t, l, pid, 2))
	}
	got := allAborted(t, l)
	if !slices.Equal(got, want) {
		t.Fatalf("aborted %v, want %v", got, want)
	}
	files := txnFiles(t, dir)
	wantName := fmt.Sprintf("%020d%s", l.segs[l.segmentIndex(want[0].LastOffset)].base, txnIndexSuffix)
	if len(files) != 1 || files[0] != wantName {
		t.Fatalf("index files %v, want [%s]", files, wantName)
	}
	// Kafka's layout: 34-byte big-endian entries, version 0.
	raw, err := os.ReadFile(filepath.Join(dir, files[0]))
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 3*txnEntrySize {
		t.Fatalf("index of %d bytes", len(raw))
	}
	be := binary.BigEndian
	if e := raw[txnEntrySize:]; be.Uint16(e) != 0 || int64(be.Uint64(e[2:])) != 2 ||
		int64(be.Uint64(e[10:])) != want[1].FirstOffset || int64(be.Uint64(e[18:])) != want[1].LastOffset ||
		int64(be.Uint64(e[26:])) != want[1].LastStableOffset {
		t.Fatalf("entry bytes %x", e[:txnEntrySize])
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openTestLog(t, dir, smallConfig(), Options{})
	defer l.Close()
	if got := allAborted(t, l); !slices.Equal(got, want) {
		t.Fatalf("after reopen %v, want %v", got, want)
	}
}

func TestTxnIndexIdempotentAdd(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, smallConfig(), Options{})
	e1 := abortTxn(t, l, 7, 1)
	e2 := abortTxn(t, l, 8, 1)
	// A replay after a crash adds both again, in order.
	for _, e := range []AbortedTxn{e1, e2, e1} {
		if err := l.AddAbortedTxn(e); err != nil {
			t.Fatal(err)
		}
	}
	crash(l)
	l = openTestLog(t, dir, smallConfig(), Options{})
	defer l.Close()
	for _, e := range []AbortedTxn{e1, e2} {
		if err := l.AddAbortedTxn(e); err != nil {
			t.Fatal(err)
		}
	}
	if got := allAborted(t, l); !slices.Equal(got, []AbortedTxn{e1, e2}) {
		t.Fatalf("aborted %v", got)
	}
	if st, err := os.Stat(filepath.Join(dir, txnFiles(t, dir)[0])); err != nil || st.Size() != 2*txnEntrySize {
		t.Fatalf("index size %v %v", st, err)
	}
	// The same marker from another producer is another entry; a marker
	// not yet in the log is refused.
	other := e2
	other.ProducerID = 9
	if err := l.AddAbortedTxn(other); err != nil {
		t.Fatal(err)
	}
	beyond := AbortedTxn{ProducerID: 1, FirstOffset: 0, LastOffset: l.LogEndOffset()}
	if err := l.AddAbortedTxn(beyond); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("entry beyond the log end: %v", err)
	}
}

func TestTxnIndexTornTailCutOnReopen(t *testing.T) {
	for _, clean := range []bool{true, false} {
		t.Run(fmt.Sprint("clean=", clean), func(t *testing.T) {
			dir := t.TempDir()
			l := openTestLog(t, dir, smallConfig(), Options{})
			e1 := abortTxn(t, l, 1, 1)
			e2 := abortTxn(t, l, 2, 1)
			path := filepath.Join(dir, txnFiles(t, dir)[0])
			if clean {
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
			} else {
				crash(l)
			}
			// Half of a third entry, as a crash mid-append leaves it.
			appendToFile(t, path, make([]byte, txnEntrySize/2))
			l = openTestLog(t, dir, smallConfig(), Options{})
			if got := allAborted(t, l); !slices.Equal(got, []AbortedTxn{e1, e2}) {
				t.Fatalf("after reopen %v", got)
			}
			if st, _ := os.Stat(path); st.Size() != 2*txnEntrySize {
				t.Fatalf("torn tail left: %d bytes", st.Size())
			}
			e3 := abortTxn(t, l, 3, 1)
			l.Close()
			l = openTestLog(t, dir, smallConfig(), Options{})
			defer l.Close()
			if got := allAborted(t, l); !slices.Equal(got, []AbortedTxn{e1, e2, e3}) {
				t.Fatalf("after the next append %v", got)
			}
		})
	}
}

// segmentWithAborts fills a segment with aborted transactions of pids and
// rolls, returning their entries.
func segmentWithAborts(t *testing.T, l *Log, pids ...int64) []AbortedTxn {
	t.Helper()
	var out []AbortedTxn
	for _, pid := range pids {
		out = append(out, abortTxn(t, l, pid, 1))
	}
	l.mu.Lock()
	err := l.roll(l.leo)
	l.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAbortedTxnsAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, smallConfig(), Options{})
	defer l.Close()
	var all []AbortedTxn
	for s := range 4 {
		appendN(t, l, 3, 1, 10, tsIdentity)
		all = append(all, segmentWithAborts(t, l, int64(10*s+1), int64(10*s+2))...)
	}
	if err := l.Close(); err != nil { // forget the cached entries
		t.Fatal(err)
	}
	l = openTestLog(t, dir, smallConfig(), Options{})
	overlapping := func(from, upTo int64) []AbortedTxn {
		var out []AbortedTxn
		for _, e := range all {
			if e.LastOffset >= from && e.FirstOffset < upTo {
				out = append(out, e)
			}
		}
		return out
	}
	for _, r := range [][2]int64{
		{0, l.LogEndOffset()},
		{all[1].FirstOffset, all[1].LastOffset},    // inside one transaction
		{all[2].LastOffset, all[2].LastOffset + 1}, // just the marker
		{all[3].LastOffset + 1, all[6].FirstOffset + 1},
		{all[7].LastOffset + 1, l.LogEndOffset()}, // after the last abort
		{5, 5},
	} {
		got, err := l.AbortedTxns(nil, r[0], r[1])
		if err != nil {
			t.Fatal(err)
		}
		if want := overlapping(r[0], r[1]); !slices.Equal(got, want) {
			t.Fatalf("[%d, %d): %v, want %v", r[0], r[1], got, want)
		}
	}
	// dst is appended to.
	dst := []AbortedTxn{{ProducerID: -5}}
	dst, _ = l.AbortedTxns(dst, all[0].FirstOffset, all[0].LastOffset+1)
	if len(dst) != 2 || dst[0].ProducerID != -5 || dst[1] != all[0] {
		t.Fatalf("dst %v", dst)
	}
	l.Close()
}

// The lookup stops at the first entry whose last stable offset reaches the
// end of the range: later segments are not even loaded, and an entry past
// the stop is not returned even if its offsets would overlap.
func TestAbortedTxnsStopsEarly(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, smallConfig(), Options{})
	first := segmentWithAborts(t, l, 1)[0] // LSO = marker+1
	appendN(t, l, 3, 1, 10, tsIdentity)
	segmentWithAborts(t, l, 2)
	appendN(t, l, 3, 1, 10, tsIdentity)
	// An entry no real broker would write, placed past the stop: its
	// first offset claims the start of the log.
	marker := appendMarker(t, l, 3, false, 1000)
	trap := AbortedTxn{ProducerID: 3, FirstOffset: 0, LastOffset: marker, LastStableOffset: 0}
	if err := l.AddAbortedTxn(trap); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l = openTestLog(t, dir, smallConfig(), Options{})
	defer l.Close()
	got, err := l.AbortedTxns(nil, 0, first.LastStableOffset)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []AbortedTxn{first}) {
		t.Fatalf("got %v, want only %v", got, first)
	}
	l.mu.RLock()
	loaded := 0
	for _, s := range l.segs {
		if s.txn.loaded.Load() {
			loaded++
		}
	}
	l.mu.RUnlock()
	// The active segment is loaded at open only after an unclean shutdown.
	if loaded != 1 {
		t.Fatalf("%d segment indexes loaded, want the first only", loaded)
	}
	// Without the stop, the trap overlaps.
	got, _ = l.AbortedTxns(nil, marker, marker+1)
	if len(got) != 1 || got[0] != trap {
		t.Fatalf("at the trap's marker: %v", got)
	}
}

func TestTxnIndexTruncation(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, smallConfig(), Options{})
	appendN(t, l, 2, 1, 10, tsIdentity)
	a := segmentWithAborts(t, l, 1, 2, 3)
	b := segmentWithAborts(t, l, 4)
	appendN(t, l, 2, 1, 10, tsIdentity)
	// Cut between the second and third transactions of the first segment:
	// the third entry and the whole later segment's index go.
	if err := l.TruncateTo(a[2].FirstOffset); err != nil {
		t.Fatal(err)
	}
	if got := allAborted(t, l); !slices.Equal(got, a[:2]) {
		t.Fatalf("after truncation %v, want %v", got, a[:2])
	}
	if files := txnFiles(t, dir); len(files) != 1 {
		t.Fatalf("index files %v", files)
	}
	// New records take the cut offsets; no stale entry covers them, even
	// after a restart.
	appendN(t, l, 10, 2, 10, tsIdentity)
	if l.LogEndOffset() <= b[0].LastOffset {
		t.Fatal("log did not grow past the old entries")
	}
	crash(l)
	l = openTestLog(t, dir, smallConfig(), Options{})
	if got := allAborted(t, l); !slices.Equal(got, a[:2]) {
		t.Fatalf("after reopen %v, want %v", got, a[:2])
	}
	// Cutting every entry of a segment removes its file.
	if err := l.TruncateTo(a[0].FirstOffset); err != nil {
		t.Fatal(err)
	}
	if files := txnFiles(t, dir); len(files) != 0 || len(allAborted(t, l)) != 0 {
		t.Fatalf("index files %v after truncating every abort", files)
	}
	l.Close()
}

// A crash can leave an entry whose marker the recovered log no longer
// holds: it must not come back once new records reach its offsets.
func TestTxnIndexStaleEntryDroppedAtRecovery(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, smallConfig(), Options{})
	e := abortTxn(t, l, 1, 1)
	end := l.LogEndOffset()
	crash(l)
	stale := AbortedTxn{ProducerID: 2, FirstOffset: end, LastOffset: end + 3, LastStableOffset: end + 4}
	var buf [txnEntrySize]byte
	putTxnEntry(buf[:], stale)
	appendToFile(t, filepath.Join(dir, txnFiles(t, dir)[0]), buf[:])
	l = openTestLog(t, dir, smallConfig(), Options{})
	appendN(t, l, 5, 2, 10, tsIdentity)
	l.Close()
	l = openTestLog(t, dir, smallConfig(), Options{})
	defer l.Close()
	if got := allAborted(t, l); !slices.Equal(got, []AbortedTxn{e}) {
		t.Fatalf("aborted %v, want %v", got, e)
	}
}

func TestTxnIndexDeletedWithSegment(t *testing.T) {
	clk := newFakeClock()
	dir := t.TempDir()
	cfg := smallConfig()
	cfg.RetentionMs = 60_000
	l := openTestLog(t, dir, cfg, Options{Now: clk.Now})
	defer l.Close()
	old := segmentWithAborts(t, l, 1)
	clk.Advance(30 * time.Minute)
	ts := clk.Now().UnixMilli()
	appendN(t, l, 3, 1, 10, func(int) int64 { return ts })
	kept := segmentWithAborts(t, l, 2)
	appendN(t, l, 3, 1, 10, func(int) int64 { return ts })
	if n := len(txnFiles(t, dir)); n != 2 {
		t.Fatalf("%d index files", n)
	}
	// The first segment's records are a thousand-odd seconds old.
	n, err := l.ApplyRetention()
	if err != nil || n == 0 {
		t.Fatalf("retention deleted %d segments (%v)", n, err)
	}
	if files, got := txnFiles(t, dir), allAborted(t, l); len(files) != 1 || !slices.Equal(got, kept) {
		t.Fatalf("index files %v, entries %v after retention (old entry %v)", files, got, old)
	}
	if _, err := l.DeleteRecordsBefore(l.LogEndOffset()); err != nil {
		t.Fatal(err)
	}
	if files := txnFiles(t, dir); len(files) != 0 {
		t.Fatalf("index files %v after DeleteRecords", files)
	}
}

// An index file with no segment (left by a crash during a delete) is
// removed at open, and a new segment never inherits a stale one.
func TestTxnIndexOrphansRemoved(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, smallConfig(), Options{})
	abortTxn(t, l, 1, 1)
	l.Close()
	orphan := txnIndexPath(dir, 1<<40)
	stale := txnIndexPath(dir, 1<<41)
	for _, p := range []string{orphan, stale} {
		if err := os.WriteFile(p, make([]byte, txnEntrySize), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l = openTestLog(t, dir, smallConfig(), Options{})
	defer l.Close()
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("orphan index left: %v", err)
	}
	if err := os.WriteFile(stale, make([]byte, txnEntrySize), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l.Reset(1 << 41); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("new segment kept a stale index: %v", err)
	}
}

// Lookups run beside appends, rolls and index additions: every answer must
// be a prefix, in order, of what was added, and never name a marker the
// log did not hold when the lookup returned.
func TestAbortedTxnsWhileAppending(t *testing.T) {
	l := openTestLog(t, t.TempDir(), smallConfig(), Options{})
	defer l.Close()
	var mu sync.Mutex
	var added []AbortedTxn
	stop := make(chan struct{})
	errs := make(chan error, 3)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var dst []AbortedTxn
			for {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				dst, err = l.AbortedTxns(dst[:0], 0, 1<<62)
				end := l.LogEndOffset()
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				// The writer records an entry just after adding it.
				n := min(len(dst), len(added))
				ok := len(dst) <= len(added)+1 && slices.Equal(dst[:n], added[:n])
				mu.Unlock()
				if !ok {
					errs <- fmt.Errorf("lookup of %d entries is not a prefix of the additions", len(dst))
					return
				}
				for _, e := range dst {
					if e.LastOffset >= end {
						errs <- fmt.Errorf("entry %v beyond the log end %d", e, end)
						return
					}
				}
			}
		}()
	}
	for i := range 300 {
		e := abortTxn(t, l, int64(i%7), 1+i%3)
		mu.Lock()
		added = append(added, e)
		mu.Unlock()
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := allAborted(t, l); !slices.Equal(got, added) || l.NumSegments() < 3 {
		t.Fatalf("%d entries over %d segments, want %d", len(got), l.NumSegments(), len(added))
	}
}
