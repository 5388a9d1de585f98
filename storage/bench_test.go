package storage

import (
	"path/filepath"
	"strconv"
	"testing"
)

func benchLog(b *testing.B, cfg Config) *Log {
	b.Helper()
	l := openTestLog(b, b.TempDir(), cfg, Options{})
	b.Cleanup(func() { _ = l.Close() })
	return l
}

// BenchmarkAppend appends batches of 16 one-KiB records.
func BenchmarkAppend(b *testing.B) {
	cfg := DefaultConfig()
	l := benchLog(b, cfg)
	batch := makeBatch(b, batchSpec{records: 16, valueSize: 1024, firstTs: 1})
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := l.Append(batch, 1, -1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIndexLookup(b *testing.B) {
	cfg := DefaultConfig()
	cfg.IndexIntervalBytes = 128
	l := benchLog(b, cfg)
	batch := makeBatch(b, batchSpec{records: 1, valueSize: 100, firstTs: 1})
	for range 100_000 {
		if _, err := l.Append(batch, 1, -1); err != nil {
			b.Fatal(err)
		}
	}
	s := l.activeSeg()
	b.ReportMetric(float64(s.idxN), "entries")
	b.ReportAllocs()
	b.ResetTimer()
	i := int64(0)
	for b.Loop() {
		i = (i + 7919) % 100_000
		if _, err := l.lookupPosition(s, i); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead locates 64 KiB regions at scattered offsets.
func BenchmarkRead(b *testing.B) {
	l := benchLog(b, DefaultConfig())
	batch := makeBatch(b, batchSpec{records: 4, valueSize: 256, firstTs: 1})
	for range 50_000 {
		if _, err := l.Append(batch, 1, -1); err != nil {
			b.Fatal(err)
		}
	}
	end := l.LogEndOffset()
	b.ReportAllocs()
	b.ResetTimer()
	off := int64(0)
	for b.Loop() {
		off = (off + 104729) % end
		sl, err := l.Read(off, 64<<10, end, true)
		if err != nil || sl.Empty() {
			b.Fatal(err)
		}
		sl.Release()
	}
}

// BenchmarkCreateLog opens a new, empty log in a fresh directory, as a
// broker does for every partition of a new topic: what it costs is file
// creation, so the figure is partitions per second on this file system.
func BenchmarkCreateLog(b *testing.B) {
	root := b.TempDir()
	files := NewFileCache(DefaultFileCacheSize)
	cfg := DefaultConfig()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		l, err := Open(filepath.Join(root, strconv.Itoa(i)), cfg, Options{Files: files})
		if err != nil {
			b.Fatal(err)
		}
		l.releaseFiles()
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "logs/s")
}
