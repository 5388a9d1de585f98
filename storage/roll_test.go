package storage

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
)

func TestRollByTime(t *testing.T) {
	cfg := smallConfig()
	cfg.SegmentMs = 1000
	l := openTestLog(t, t.TempDir(), cfg, Options{})
	defer l.Close()
	for _, ts := range []int64{10_000, 10_900, 11_000} {
		appendN(t, l, 1, 1, 10, func(int) int64 { return ts })
	}
	if n := l.NumSegments(); n != 1 {
		t.Fatalf("rolled too early: %d segments", n)
	}
	appendN(t, l, 1, 1, 10, func(int) int64 { return 11_001 })
	if n := l.NumSegments(); n != 2 || l.activeSeg().base != 3 {
		t.Fatalf("no time roll: %d segments", n)
	}
}

func TestRollWhenIndexFull(t *testing.T) {
	cfg := smallConfig()
	cfg.IndexIntervalBytes = 0 // every batch indexed
	cfg.MaxIndexBytes = 2 * timeEntrySize
	l := openTestLog(t, t.TempDir(), cfg, Options{})
	defer l.Close()
	appendN(t, l, 12, 1, 10, func(i int) int64 { return int64(i) })
	if n := l.NumSegments(); n < 5 {
		t.Fatalf("index capacity ignored: %d segments", n)
	}
	for _, s := range l.segs {
		if s.idxN > 3 || s.timeN > 3 {
			t.Fatalf("segment %d has %d/%d entries", s.base, s.idxN, s.timeN)
		}
	}
	if got := readAllBatches(t, l); len(got) != 12 {
		t.Fatalf("%d batches", len(got))
	}
}

// An idle partition must stay cheap: a broker holds 100,000 of them.
func TestIdleLogMemory(t *testing.T) {
	fc := NewFileCache(64)
	root := t.TempDir()
	const n = 200
	logs := make([]*Log, 0, n)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i++ {
		l := openTestLog(t, filepath.Join(root, fmt.Sprint("p", i)), smallConfig(), Options{Files: fc})
		logs = append(logs, l)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	t.Logf("%d bytes of heap per idle log", per)
	if per > 20<<10 {
		t.Fatalf("%d bytes per idle log", per)
	}
	for _, l := range logs {
		_ = l.Close()
	}
}
