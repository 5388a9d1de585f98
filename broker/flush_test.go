package broker

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap"

	"spool/storage"
)

// flush.ms makes the scheduled check fsync a log whose last flush is older;
// without it nothing is flushed by time.
func TestMaybeFlushHonoursFlushMs(t *testing.T) {
	now := time.Unix(1000, 0)
	for _, flushMs := range []int64{50, 1<<63 - 1} {
		cfg := storage.DefaultConfig()
		cfg.FlushIntervalMs = flushMs
		l, err := storage.Open(t.TempDir(), cfg, storage.Options{Logger: zap.NewNop(), Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		batch := testBatch(3, 10, 1000, 1)
		if _, err := l.Append(batch, 0, -1); err != nil {
			t.Fatal(err)
		}
		now = now.Add(200 * time.Millisecond)
		if err := l.MaybeFlush(context.Background()); err != nil {
			t.Fatal(err)
		}
		flushed := l.FlushedOffset() == l.LogEndOffset()
		if flushed != (flushMs == 50) {
			t.Fatalf("flush.ms=%d: flushed=%v", flushMs, flushed)
		}
		l.Close()
	}
}
