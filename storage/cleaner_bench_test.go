package storage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"spool/record"
)

// BenchmarkCleaner cleans a dirty log of SPOOL_CLEANER_BENCH_MB megabytes
// (default 256; the figure is 1024) holding updates to 100,000 keys,
// and reports the throughput over the dirty bytes and the peak heap in use
// while cleaning. Run it with -benchtime=1x: each iteration builds its log
// again, untimed.
func BenchmarkCleaner(b *testing.B) {
	mb := int64(256)
	if v, err := strconv.ParseInt(os.Getenv("SPOOL_CLEANER_BENCH_MB"), 10, 64); err == nil && v > 0 {
		mb = v
	}
	const keys, perBatch, valueSize = 100_000, 10, 200
	cfg := DefaultConfig()
	cfg.Compact, cfg.Delete = true, false
	cfg.SegmentBytes = 128 << 20
	for b.Loop() {
		b.StopTimer()
		clk := newFakeClock()
		l := openTestLog(b, b.TempDir(), cfg, Options{Now: clk.Now})
		fillDirty(b, l, clk, mb<<20, keys, perBatch, valueSize)
		runtime.GC()
		c := NewCleaner(CleanerOptions{})
		peak, stop := sampleHeap()
		b.StartTimer()
		res, err := c.Clean(context.Background(), l, 1<<62)
		b.StopTimer()
		stop()
		if err != nil {
			b.Fatal(err)
		}
		mbps := float64(res.DirtyBytes) / (1 << 20) / res.Duration.Seconds()
		b.ReportMetric(mbps, "dirtyMB/s")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peakHeapMB")
		fmt.Printf("cleaner: %d MiB dirty, %d keys: %.0f MB/s, %d -> %d bytes in %v, peak heap in use %.1f MiB\n",
			res.DirtyBytes>>20, keys, mbps, res.BytesBefore, res.BytesAfter, res.Duration.Round(time.Millisecond),
			float64(peak.Load())/(1<<20))
		l.Close()
		b.StartTimer()
	}
}

// fillDirty appends random updates until the log holds size bytes, then
// rolls so all of it is cleanable.
func fillDirty(b *testing.B, l *Log, clk *fakeClock, size int64, keys, per, valueSize int) {
	rng := rand.New(rand.NewPCG(3, 4))
	val := make([]byte, valueSize)
	kvs := make([]kv, per)
	for l.Size() < size {
		for i := range kvs {
			kvs[i] = kv{fmt.Sprintf("key-%06d", rng.IntN(keys)), val}
		}
		if _, err := l.Append(keyedBatch(b, record.CompressionNone, clk.Now().UnixMilli(), noProducer, kvs...), 1, -1); err != nil {
			b.Fatal(err)
		}
	}
	rollNow(b, l, clk)
}

// sampleHeap tracks the largest HeapInuse until stop is called.
func sampleHeap() (*atomic.Uint64, func()) {
	var peak atomic.Uint64
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-quit:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return &peak, func() { close(quit); <-done }
}
