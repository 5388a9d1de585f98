package storage

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"spool/record"
)

// writeUpdates appends n updates over keys keys in batches of per records
// and returns the latest value of each key.
func writeUpdates(t testing.TB, l *Log, clk *fakeClock, codec int8, n, keys, per int) map[string]string {
	t.Helper()
	latest := map[string]string{}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < n; i += per {
		var kvs []kv
		for j := i; j < min(i+per, n); j++ {
			k := fmt.Sprintf("key-%05d", rng.IntN(keys))
			kvs = append(kvs, kv{k, value(k, j)})
			latest[k] = string(value(k, j))
		}
		if _, err := l.Append(keyedBatch(t, codec, clk.Now().UnixMilli(), noProducer, kvs...), 1, -1); err != nil {
			t.Fatal(err)
		}
	}
	return latest
}

// checkExactlyLatest checks the log holds exactly one record per key, the
// latest, besides the sentinel in the active segment.
func checkExactlyLatest(t testing.TB, l *Log, latest map[string]string) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range readRecords(t, l) {
		if r.key == "~sentinel" {
			continue
		}
		if seen[r.key] {
			t.Fatalf("key %s kept twice (again at offset %d)", r.key, r.offset)
		}
		seen[r.key] = true
		if r.value != latest[r.key] {
			t.Fatalf("key %s: kept %q, latest is %q", r.key, r.value, latest[r.key])
		}
	}
	if len(seen) != len(latest) {
		t.Fatalf("%d keys kept, want %d", len(seen), len(latest))
	}
}

func TestCleanKeepsLatestPerKey(t *testing.T) {
	clk := newFakeClock()
	dir := t.TempDir()
	l := openTestLog(t, dir, compactConfig(), Options{Now: clk.Now})
	latest := writeUpdates(t, l, clk, record.CompressionNone, 100_000, 1_000, 20)
	rollNow(t, l, clk)
	before := l.Size()
	c := NewCleaner(CleanerOptions{})
	res := cleanAll(t, c, l)
	checkExactlyLatest(t, l, latest)
	checkReadsAtEveryBatch(t, l)
	if l.Size() >= before/10 {
		t.Fatalf("log %d -> %d bytes", before, l.Size())
	}
	if len(res) != 1 || res[0].RecordsRead != 100_000 || res[0].RecordsDropped != 99_000 {
		t.Fatalf("results %+v", res)
	}
	// The next clean merges the shrunk segments up to segment.bytes.
	if _, err := c.Clean(context.Background(), l, 1<<62); err != nil || l.NumSegments() != 2 {
		t.Fatalf("%d segments after the merging clean (%v)", l.NumSegments(), err)
	}
	checkExactlyLatest(t, l, latest)
	checkReadsAtEveryBatch(t, l)
	st := l.CleanerStats()
	if st.LastCleanMs == 0 || st.DirtyRatio != 0 || st.FirstDirtyOffset != l.LogEndOffset()-1 {
		t.Fatalf("stats after clean: %+v", st)
	}
	// Reopened, the log is the same and the checkpoint remembered.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openTestLog(t, dir, compactConfig(), Options{Now: clk.Now})
	defer l.Close()
	checkExactlyLatest(t, l, latest)
	if st := l.CleanerStats(); st.FirstDirtyOffset != l.LogEndOffset()-1 {
		t.Fatalf("first dirty offset after reopen: %d", st.FirstDirtyOffset)
	}
}

func TestCleanInSeveralPasses(t *testing.T) {
	clk := newFakeClock()
	l := openTestLog(t, t.TempDir(), compactConfig(), Options{Now: clk.Now})
	defer l.Close()
	latest := writeUpdates(t, l, clk, record.CompressionNone, 20_000, 1_000, 10)
	rollNow(t, l, clk)
	// 300 keys fit the map: the dirty section needs several passes.
	c := NewCleaner(CleanerOptions{DedupeBufferSize: 400 * mapEntrySize})
	res := cleanAll(t, c, l)
	if len(res) < 3 {
		t.Fatalf("%d passes, want several", len(res))
	}
	checkExactlyLatest(t, l, latest)
	checkReadsAtEveryBatch(t, l)
}

func TestCleanCompressedBatches(t *testing.T) {
	for _, codec := range []int8{record.CompressionGzip, record.CompressionSnappy, record.CompressionLZ4, record.CompressionZstd} {
		t.Run(fmt.Sprint(codec), func(t *testing.T) {
			clk := newFakeClock()
			l := openTestLog(t, t.TempDir(), compactConfig(), Options{Now: clk.Now})
			defer l.Close()
			latest := writeUpdates(t, l, clk, codec, 5_000, 200, 25)
			rollNow(t, l, clk)
			cleanAll(t, NewCleaner(CleanerOptions{}), l)
			checkExactlyLatest(t, l, latest)
			for _, b := range readAllBatches(t, l) {
				if h, _ := record.ParseHeader(b); h.NumRecords > 0 && h.Compression() != codec && record.BaseOffsetOf(b) < l.LogEndOffset()-1 {
					t.Fatalf("batch at %d has codec %d, want %d", h.BaseOffset, h.Compression(), codec)
				}
			}
		})
	}
}

// TestCleanKeepsXerialFraming checks that a rebuilt snappy batch keeps the
// xerial framing it arrived in: some Java clients read only what they write.
func TestCleanKeepsXerialFraming(t *testing.T) {
	clk := newFakeClock()
	l := openTestLog(t, t.TempDir(), compactConfig(), Options{Now: clk.Now})
	defer l.Close()
	for i := 0; i < 200; i++ {
		plain := keyedBatch(t, record.CompressionNone, clk.Now().UnixMilli(), noProducer,
			kv{fmt.Sprintf("key-%d", i%10), value("v", i)}, kv{fmt.Sprintf("key-%d", (i+1)%10), value("w", i)})
		h, _ := record.ParseHeader(plain)
		h.Attributes |= int16(record.CompressionSnappy)
		z, err := record.Compress(nil, record.CompressionSnappy, plain[record.HeaderLen:], true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Append(record.AppendBatch(nil, h, z), 1, -1); err != nil {
			t.Fatal(err)
		}
	}
	rollNow(t, l, clk)
	cleanAll(t, NewCleaner(CleanerOptions{}), l)
	rebuilt := 0
	for _, b := range readAllBatches(t, l) {
		h, _ := record.ParseHeader(b)
		if h.Compression() != record.CompressionSnappy || h.NumRecords == 0 {
			continue
		}
		if !record.IsXerial(b[record.HeaderLen:]) {
			t.Fatalf("batch at %d lost its xerial framing", h.BaseOffset)
		}
		if h.NumRecords == 1 {
			rebuilt++
		}
	}
	if rebuilt == 0 {
		t.Fatal("the clean rebuilt no batch")
	}
}

func TestCleanTombstonesAfterDeleteRetention(t *testing.T) {
	clk := newFakeClock()
	cfg := compactConfig()
	cfg.DeleteRetentionMs = 60_000
	l := openTestLog(t, t.TempDir(), cfg, Options{Now: clk.Now})
	defer l.Close()
	ts := clk.Now().UnixMilli()
	for i := range 10 {
		k := fmt.Sprintf("k%d", i)
		appendBatch(t, l, keyedBatch(t, 0, ts, noProducer, kv{k, value(k, 0)}))
	}
	appendBatch(t, l, keyedBatch(t, 0, ts, noProducer, kv{"k1", nil}, kv{"k2", nil}))
	rollNow(t, l, clk)
	c := NewCleaner(CleanerOptions{})
	tombstones := func() int {
		n := 0
		for _, r := range readRecords(t, l) {
			if r.tombstone {
				n++
			}
		}
		return n
	}
	cleanAll(t, c, l)
	if n := tombstones(); n != 2 {
		t.Fatalf("%d tombstones after the first clean, want 2", n)
	}
	if l.CleanerStats().TombstonesDue {
		t.Fatal("tombstones due right after the first clean")
	}
	clk.Advance(59_999 * time.Millisecond)
	cleanAll(t, c, l)
	if n := tombstones(); n != 2 {
		t.Fatalf("%d tombstones before delete.retention.ms passed, want 2", n)
	}
	clk.Advance(time.Millisecond)
	if st := l.CleanerStats(); !st.TombstonesDue || PickLog([]CleanerStats{st}) != 0 {
		t.Fatalf("tombstones not reported due: %+v", st)
	}
	cleanAll(t, c, l)
	if n := tombstones(); n != 0 {
		t.Fatalf("%d tombstones after delete.retention.ms, want 0", n)
	}
	recs := latestByKey(readRecords(t, l))
	if _, ok := recs["k1"]; ok || len(recs) != 9 {
		t.Fatalf("records after tombstones went: %v", recs)
	}
	for _, r := range recs {
		if r.ts != ts && r.key != "~sentinel" {
			t.Fatalf("record %s timestamp %d, want %d", r.key, r.ts, ts)
		}
	}
}

func appendBatch(t testing.TB, l *Log, b []byte) {
	t.Helper()
	if _, err := l.Append(b, 1, -1); err != nil {
		t.Fatal(err)
	}
}

func TestCleanKeepsLastBatchOfProducer(t *testing.T) {
	clk := newFakeClock()
	l := openTestLog(t, t.TempDir(), compactConfig(), Options{Now: clk.Now})
	defer l.Close()
	ts := clk.Now().UnixMilli()
	p7 := producerFields{pid: 7, epoch: 3, seq: 0}
	appendBatch(t, l, keyedBatch(t, 0, ts, p7, kv{"a", []byte("1")}, kv{"b", []byte("1")}))
	p7.seq = 2
	last := keyedBatch(t, record.CompressionZstd, ts, p7, kv{"a", []byte("2")}, kv{"b", []byte("2")}, kv{"c", []byte("2")})
	appendBatch(t, l, last)
	appendBatch(t, l, keyedBatch(t, 0, ts, noProducer, kv{"a", []byte("3")}, kv{"b", []byte("3")}, kv{"c", []byte("3")}))
	rollNow(t, l, clk)
	cleanAll(t, NewCleaner(CleanerOptions{}), l)
	var found bool
	for _, b := range readAllBatches(t, l) {
		h, _ := record.ParseHeader(b)
		switch {
		case h.ProducerID == 7 && h.BaseOffset == 0:
			t.Fatal("producer's earlier batch kept")
		case h.ProducerID == 7:
			found = true
			if h.BaseOffset != 2 || h.LastOffsetDelta != 2 || h.NumRecords != 0 || h.ProducerEpoch != 3 || h.BaseSequence != 2 {
				t.Fatalf("producer's last batch kept as %+v", h)
			}
		}
	}
	if !found {
		t.Fatal("producer's last batch dropped")
	}
	if got := latestByKey(readRecords(t, l)); got["a"].value != "3" || got["c"].value != "3" {
		t.Fatalf("records %v", got)
	}
}

func TestCleanReaderKeepsSliceAcrossSwap(t *testing.T) {
	clk := newFakeClock()
	l := openTestLog(t, t.TempDir(), compactConfig(), Options{Now: clk.Now})
	defer l.Close()
	writeUpdates(t, l, clk, record.CompressionNone, 5_000, 50, 10)
	rollNow(t, l, clk)
	sl, err := l.Read(0, 1<<20, 1<<62, true)
	if err != nil {
		t.Fatal(err)
	}
	want, err := sl.ReadAll(nil)
	if err != nil {
		t.Fatal(err)
	}
	cleanAll(t, NewCleaner(CleanerOptions{}), l)
	if left := leftovers(t, l.Dir()); len(left) != 1 {
		t.Fatalf("files left while a Slice pins the old segment: %v, want its .log.deleted", left)
	}
	got, err := sl.ReadAll(nil)
	if err != nil || string(got) != string(want) {
		t.Fatalf("slice changed under its reader (err %v)", err)
	}
	if err := record.Split(got, func(b []byte, _ record.Header) error { _, err := record.Validate(b); return err }); err != nil {
		t.Fatal(err)
	}
	sl.Release()
	if left := leftovers(t, l.Dir()); len(left) != 0 {
		t.Fatalf("files left after the Slice was released: %v", left)
	}
}

func TestCleanRespectsLagsAndActiveSegment(t *testing.T) {
	clk := newFakeClock()
	cfg := compactConfig()
	cfg.MinCompactionLagMs = 10_000
	l := openTestLog(t, t.TempDir(), cfg, Options{Now: clk.Now})
	defer l.Close()
	writeUpdates(t, l, clk, record.CompressionNone, 5_000, 50, 10)
	c := NewCleaner(CleanerOptions{})
	if res, err := c.Clean(context.Background(), l, 1<<62); err != nil || res.Segments != 0 {
		t.Fatalf("cleaned records younger than min.compaction.lag.ms: %+v %v", res, err)
	}
	clk.Advance(time.Minute)
	res, err := c.Clean(context.Background(), l, 1<<62)
	if err != nil || res.Segments == 0 || res.Segments != l.NumSegments()-1 {
		t.Fatalf("clean after the lag: %+v (segments %d) %v", res, l.NumSegments(), err)
	}
	// Nothing at or above the high watermark bound is touched.
	writeUpdates(t, l, clk, record.CompressionNone, 2_000, 50, 10)
	clk.Advance(time.Minute)
	upTo := res.EndOffset
	if res, err := c.Clean(context.Background(), l, upTo); err != nil || res.DirtyBytes != 0 || res.EndOffset != upTo {
		t.Fatalf("cleaned above upTo %d: %+v %v", upTo, res, err)
	}
}

func TestCleanMaxCompactionLagForcesClean(t *testing.T) {
	clk := newFakeClock()
	cfg := compactConfig()
	cfg.MinCleanableDirtyRatio = 0.99
	cfg.MaxCompactionLagMs = 5_000
	l := openTestLog(t, t.TempDir(), cfg, Options{Now: clk.Now})
	defer l.Close()
	writeUpdates(t, l, clk, record.CompressionNone, 3_000, 50, 10)
	rollNow(t, l, clk)
	cleanAll(t, NewCleaner(CleanerOptions{}), l)
	writeUpdates(t, l, clk, record.CompressionNone, 20, 50, 10)
	rollNow(t, l, clk) // the clock moved past max.compaction.lag.ms
	st := l.CleanerStats()
	if st.DirtyRatio >= 0.99 || !st.MustClean || PickLog([]CleanerStats{st}) != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestCompactOnlyLogSkipsRetention(t *testing.T) {
	clk := newFakeClock()
	for _, del := range []bool{false, true} {
		cfg := compactConfig()
		cfg.Delete, cfg.RetentionMs = del, 1000
		l := openTestLog(t, t.TempDir(), cfg, Options{Now: clk.Now})
		writeUpdates(t, l, clk, record.CompressionNone, 3_000, 50, 10)
		rollNow(t, l, clk)
		n, err := l.ApplyRetention()
		if err != nil || (n > 0) != del {
			t.Fatalf("delete=%v: retention removed %d segments (%v)", del, n, err)
		}
		l.Close()
	}
}

func TestPickLog(t *testing.T) {
	st := func(ratio float64, cleanable int64) CleanerStats {
		return CleanerStats{Compact: true, DirtyRatio: ratio, MinDirtyRatio: 0.5, CleanableBytes: cleanable}
	}
	forced := st(0.1, 10)
	forced.MustClean = true
	due := st(0, 0)
	due.TombstonesDue = true
	notCompact := st(0.9, 10)
	notCompact.Compact = false
	for _, tc := range []struct {
		name  string
		stats []CleanerStats
		want  int
	}{
		{"none", nil, -1},
		{"below ratio", []CleanerStats{st(0.5, 10), st(0.2, 10)}, -1},
		{"dirtiest", []CleanerStats{st(0.6, 10), st(0.8, 10), st(0.7, 10)}, 1},
		{"nothing cleanable", []CleanerStats{st(0.9, 0)}, -1},
		{"forced by max lag", []CleanerStats{st(0.2, 10), forced}, 1},
		{"tombstones due", []CleanerStats{st(0.2, 10), due}, 1},
		{"ratio before tombstones", []CleanerStats{due, st(0.6, 10)}, 1},
		{"not compacted", []CleanerStats{notCompact}, -1},
	} {
		if got := PickLog(tc.stats); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestOffsetMapGrowsAndBounds(t *testing.T) {
	m := newOffsetMap(100_000 * mapEntrySize)
	for i := range m.capacity() {
		if !m.room(1) {
			t.Fatalf("full after %d keys", i)
		}
		m.put([]byte(fmt.Sprint(i)), int64(i))
	}
	if m.room(1) || len(m.slots) != 100_000 {
		t.Fatalf("room left at capacity %d, %d slots", m.capacity(), len(m.slots))
	}
	for i := range m.capacity() {
		if off, ok := m.get([]byte(fmt.Sprint(i))); !ok || off != int64(i) {
			t.Fatalf("key %d: %d %v", i, off, ok)
		}
	}
	if _, ok := m.get([]byte("absent")); ok {
		t.Fatal("absent key found")
	}
	m.reset()
	if _, ok := m.get([]byte("1")); ok || m.n != 0 {
		t.Fatal("reset kept keys")
	}
}

var errCrash = errors.New("crash")

// TestCleanWhileAppendingAndReading runs cleans while a writer appends and
// readers scan from the start: every scan must see each key's latest value
// as of when it began, and no read may fail because of a swap.
func TestCleanWhileAppendingAndReading(t *testing.T) {
	clk := newFakeClock()
	cfg := compactConfig()
	cfg.SegmentBytes = 16 << 10
	l := openTestLog(t, t.TempDir(), cfg, Options{Now: clk.Now})
	defer l.Close()
	latest := writeUpdates(t, l, clk, record.CompressionNone, 5_000, 100, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() {
		c := NewCleaner(CleanerOptions{})
		for ctx.Err() == nil {
			if _, err := c.Clean(ctx, l, 1<<62); err != nil && !errors.Is(err, context.Canceled) {
				done <- err
				return
			}
		}
		done <- nil
	}()
	base := latestByKey(readRecords(t, l))
	go func() {
		for ctx.Err() == nil {
			got := latestByKey(readRecords(t, l))
			for k, r := range base {
				if got[k].offset < r.offset {
					done <- fmt.Errorf("key %s: latest read at %d, was at %d before", k, got[k].offset, r.offset)
					return
				}
			}
		}
		done <- nil
	}()
	more := writeUpdates(t, l, clk, record.CompressionNone, 20_000, 100, 10)
	cancel()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range more {
		latest[k] = v
	}
	checkLatestPresent(t, l, latest)
}
