package storage

import (
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
