package test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

// longValue is record i's value: 1 KiB derived from i, so a read can be
// checked byte for byte without keeping what was sent.
func longValue(i int64) []byte {
	v := make([]byte, 1024)
	for j := 0; j < len(v); j += 8 {
		binary.BigEndian.PutUint64(v[j:], uint64(i)*0x9E3779B97F4A7C15+uint64(j))
	}
	return v
}

// dirBytes is the bytes of a partition's .log files.
func dirBytes(t *testing.T, dir string) int64 {
	m, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	var n int64
	for _, f := range m {
		if fi, err := os.Stat(f); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// TestTieredLong is the long mode (make test-tiered-long): 1 GiB to a
// topic with 1 MiB segments and 10 MiB local retention, the object store
// unavailable for a minute midway; produce never stops, local disk stays
// near the local retention except while the store is down, and the whole
// log reads back byte-identical from offset 0.
func TestTieredLong(t *testing.T) {
	if os.Getenv("SPOOL_TIERED_LONG") == "" {
		t.Skip("long mode: make test-tiered-long")
	}
	s3 := newS3Store(t)
	n := harness.SingleNode(t, s3.props(map[string]string{"remote.log.manager.task.interval.ms": "1000"}))
	n.Start()
	adm := admin(t, n.Addr)
	makeTopic(t, adm, tieredTopic, 1, map[string]string{
		"remote.storage.enable": "true", "segment.bytes": "1048576", "local.retention.bytes": "10485760",
	})
	dir := filepath.Join(n.Dir, tieredTopic+"-0")
	const total = 1 << 20 // 1 KiB records: 1 GiB
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(20000))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := ctxT(t, 20*time.Minute)
	var acked, failed atomic.Int64
	var maxDisk int64
	began := time.Now()
	for i := int64(0); i < total; i++ {
		switch i {
		case total / 3:
			s3.Down.Store(true)
			downAt := acked.Load()
			t.Logf("store down at %d records acked, %v", downAt, time.Since(began))
			go func() {
				time.Sleep(time.Minute)
				t.Logf("store up again: %d records acked during the outage", acked.Load()-downAt)
				s3.Down.Store(false)
			}()
		}
		cl.Produce(ctx, &kgo.Record{Topic: tieredTopic, Value: longValue(i)}, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.Add(1)
				return
			}
			acked.Add(1)
		})
		if i%65536 == 0 && !s3.Down.Load() {
			maxDisk = max(maxDisk, dirBytes(t, dir))
		}
	}
	if err := cl.Flush(ctx); err != nil || failed.Load() > 0 {
		t.Fatalf("flush: %v, %d records failed", err, failed.Load())
	}
	t.Logf("produced 1 GiB in %v; largest local log seen while the store was up: %d MiB", time.Since(began), maxDisk>>20)
	waitTiered(t, "local log back near local retention", 5*time.Minute, n, func() bool {
		return dirBytes(t, dir) < 16<<20
	})
	began = time.Now()
	next := int64(0)
	consumer, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.ConsumeTopics(tieredTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(32<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	progress := time.Now()
	for next < total && ctx.Err() == nil {
		fs := consumer.PollFetches(ctx)
		fs.EachError(func(_ string, _ int32, err error) { t.Logf("fetch at %d: %v", next, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset != next || !bytes.Equal(r.Value, longValue(next)) {
				t.Fatalf("record at %d differs (want offset %d)", r.Offset, next)
			}
			next++
			progress = time.Now()
		})
		if time.Since(progress) > time.Minute {
			t.Fatalf("no record past offset %d for a minute\n%s", next, n.Output())
		}
	}
	if next != total {
		t.Fatalf("read %d of %d records", next, total)
	}
	t.Logf("read 1 GiB back from offset 0 in %v (%.0f MB/s)", time.Since(began), float64(total*1024)/1e6/time.Since(began).Seconds())
}
