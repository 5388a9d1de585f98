package tiered

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"spool/record"
	"spool/storage"
	"spool/test/s3server"
)

// testTier is a Tier on a real S3-compatible server (versitygw) the test
// starts.
func testTier(t *testing.T, cacheBytes int64) (*Tier, *s3server.Server) {
	tr, srv, _ := testTierSwitch(t, cacheBytes)
	return tr, srv
}

// testTierSwitch is testTier with a switch that makes the server answer
// every request 503.
func testTierSwitch(t *testing.T, cacheBytes int64) (*Tier, *s3server.Server, *atomic.Bool) {
	t.Helper()
	srv := s3server.Start(t, "spool-unit")
	tr, err := New(context.Background(), Settings{
		Enabled: true, Bucket: srv.Bucket, Endpoint: srv.URL, Region: s3server.Region, PathStyle: true,
		AccessKeyID: s3server.AccessKey, SecretAccessKey: s3server.SecretKey, Prefix: "p/", PartSize: 5 << 20, CallTimeout: 10 * time.Second,
		ChunkSize: 1024, CacheBytes: cacheBytes, Workers: 1, Readers: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tr, srv, &srv.Down
}

// testLog writes n one-record batches to a log of small segments.
func testLog(t *testing.T, n int) *storage.Log {
	t.Helper()
	cfg := storage.DefaultConfig()
	cfg.SegmentBytes, cfg.IndexIntervalBytes = 2048, 200
	l, err := storage.Open(t.TempDir(), cfg, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	for i := range n {
		rec := record.AppendRecord(nil, record.Record{Value: []byte(fmt.Sprintf("value-%05d", i))})
		b := record.AppendBatch(nil, record.Header{FirstTimestamp: int64(1000 + i), MaxTimestamp: int64(1000 + i), ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, NumRecords: 1}, rec)
		if _, err := l.Append(b, 1, -1); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func copyAll(t *testing.T, p *Partition, l *storage.Log) []storage.ClosedSegment {
	t.Helper()
	segs, err := l.ClosedSegments()
	if err != nil {
		t.Fatal(err)
	}
	for _, cs := range segs {
		if _, err := p.Copy(context.Background(), CopyInput{Segment: cs, Epochs: []EpochStart{{1, 0}}, BrokerID: 1}); err != nil {
			t.Fatal(err)
		}
	}
	return segs
}

// TestReadEveryOffset copies a log's closed segments, loads them as a new
// broker would, and reads from every offset: the first batch returned
// holds the offset, batches are whole, at most maxBytes unless one batch
// is larger and minOne, and they equal the local bytes.
func TestReadEveryOffset(t *testing.T) {
	tr, _ := testTier(t, 8192)
	l := testLog(t, 300)
	key := PartitionKey{Topic: "t", TopicID: [16]byte{1}, Partition: 0}
	segs := copyAll(t, tr.Partition(key), l)
	if len(segs) < 10 {
		t.Fatalf("only %d closed segments", len(segs))
	}
	tr.Forget(key)
	p := tr.Partition(key)
	if err := p.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	start, end, _, ok := p.Bounds()
	last := segs[len(segs)-1].Next - 1
	if !ok || start != 0 || end != last {
		t.Fatalf("bounds %d-%d ok=%v, want 0-%d", start, end, ok, last)
	}
	ctx := context.Background()
	for off := int64(0); off <= last; off++ {
		got, err := tr.Read(ctx, p, off, 100, true)
		if err != nil {
			t.Fatalf("read %d: %v", off, err)
		}
		h, err := record.ParseHeader(got)
		if err != nil || h.BaseOffset > off || h.LastOffset() < off || h.TotalSize() != len(got) {
			t.Fatalf("read %d: batch %+v (%d bytes), err %v", off, h, len(got), err)
		}
		sl, err := l.Read(off, 100, off+1, true)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := sl.ReadAll(nil)
		sl.Release()
		if !bytes.Equal(got, want) {
			t.Fatalf("read %d: remote bytes differ from local", off)
		}
	}
	for off := int64(0); off <= last; off += 7 {
		got, ts, ok, err := tr.OffsetForTimestamp(ctx, p, 0, 1000+off)
		if err != nil || !ok || got != off || ts != 1000+off {
			t.Fatalf("offset for timestamp %d: %d %d %v %v, want %d", 1000+off, got, ts, ok, err, off)
		}
	}
	if _, _, ok, _ := tr.OffsetForTimestamp(ctx, p, 0, 1000+last+1); ok {
		t.Errorf("a timestamp past the remote records was found remotely")
	}
	if got, _ := tr.Read(ctx, p, 0, 1000, false); len(got) > 1000 || len(got) < 500 {
		t.Errorf("read of 1000 bytes returned %d", len(got))
	}
	if _, err := tr.Read(ctx, p, last+1, 100, true); err != ErrNotRemote {
		t.Errorf("read past the remote end: %v, want ErrNotRemote", err)
	}
	if s := tr.Stats(); s.CacheHits.Load() == 0 || tr.Cache().Used() > 8192 {
		t.Errorf("cache hits %d, used %d of 8192", s.CacheHits.Load(), tr.Cache().Used())
	}
}

// TestInterruptedCopyAndDelete: a copy that stopped after its STARTED
// manifest and a delete that stopped after DELETE_SEGMENT_STARTED are
// invisible to readers, and CleanPending removes every object they left.
func TestInterruptedCopyAndDelete(t *testing.T) {
	tr, be := testTier(t, 1<<20)
	l := testLog(t, 100)
	key := PartitionKey{Topic: "t", TopicID: [16]byte{2}, Partition: 3}
	p := tr.Partition(key)
	segs := copyAll(t, p, l)
	ctx := context.Background()

	// A copy that died after uploading its .log: STARTED manifest + data.
	half := &Segment{ID: "dead", StartOffset: segs[len(segs)-1].Next, EndOffset: 999, SizeBytes: 10, BrokerID: 1}
	if err := p.putManifest(ctx, half, CopyStarted); err != nil {
		t.Fatal(err)
	}
	if err := tr.store.PutBytes(ctx, p.key.object(half, sufLog), []byte("partial")); err != nil {
		t.Fatal(err)
	}
	// Another broker's, too recent to be called abandoned.
	other := &Segment{ID: "other", StartOffset: 5000, EndOffset: 5001, BrokerID: 2}
	if err := p.putManifest(ctx, other, CopyStarted); err != nil {
		t.Fatal(err)
	}
	// A delete that died after marking the first segment.
	first := p.Segments()[0]
	marked := *first
	if err := p.putManifest(ctx, &marked, DeleteStarted); err != nil {
		t.Fatal(err)
	}

	fresh := &Partition{key: p.key, store: p.store}
	if err := fresh.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(fresh.Segments()); got != len(segs)-1 {
		t.Fatalf("%d readable segments after load, want %d (the half copy and the marked one hidden)", got, len(segs)-1)
	}
	if _, err := tr.Read(ctx, fresh, first.StartOffset, 100, true); err != ErrNotRemote {
		t.Errorf("read of a segment being deleted: %v", err)
	}
	if err := fresh.CleanPending(ctx, 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	keys := bucketKeys(t, be)
	for _, k := range keys {
		if strings.Contains(k, "-dead.") || strings.Contains(k, "-"+first.ID+".") {
			t.Errorf("%s left after CleanPending", k)
		}
	}
	if !containsSuffix(keys, "-other"+sufManifest) {
		t.Errorf("another broker's recent copy was removed")
	}
	if err := fresh.DeleteAll(ctx); err != nil {
		t.Fatal(err)
	}
	if keys := bucketKeys(t, be); len(keys) != 0 {
		t.Errorf("%d objects after DeleteAll: %v", len(keys), keys)
	}
}

func bucketKeys(t *testing.T, srv *s3server.Server) []string {
	t.Helper()
	return srv.Keys(t, "")
}

func containsSuffix(keys []string, suffix string) bool {
	for _, k := range keys {
		if strings.HasSuffix(k, suffix) {
			return true
		}
	}
	return false
}

// TestFailedCleanupOfACopyKeepsItHidden: an unfinished copy whose cleanup
// fails (the store is down) stays pending, never readable, so the segment
// is neither read from its partial objects nor taken as copied.
func TestFailedCleanupOfACopyKeepsItHidden(t *testing.T) {
	tr, _, down := testTierSwitch(t, 1<<20)
	l := testLog(t, 100)
	p := tr.Partition(PartitionKey{Topic: "t", TopicID: [16]byte{3}})
	segs := copyAll(t, p, l)
	ctx := context.Background()
	half := &Segment{ID: "half", StartOffset: segs[len(segs)-1].Next, EndOffset: 9999, BrokerID: 1}
	if err := p.putManifest(ctx, half, CopyStarted); err != nil {
		t.Fatal(err)
	}
	p.notePending(half)
	_, endBefore, _, _ := p.Bounds()
	down.Store(true)
	if err := p.CleanPending(ctx, 1, time.Hour); err == nil {
		t.Fatal("cleanup succeeded with the store down")
	}
	if _, end, _, _ := p.Bounds(); end != endBefore {
		t.Fatalf("remote end moved from %d to %d: the unfinished copy became readable", endBefore, end)
	}
	down.Store(false)
	if err := p.CleanPending(ctx, 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, end, _, _ := p.Bounds(); end != endBefore {
		t.Fatalf("remote end %d after cleanup, want %d", end, endBefore)
	}
}
