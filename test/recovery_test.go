package test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

// produceN writes n numbered records with timestamps 1000*i ms to topic.
func produceN(t *testing.T, addr, topic string, from, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(0), kgo.ProducerBatchMaxBytes(8192),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := ctxT(t, time.Minute)
	var recs []*kgo.Record
	for i := from; i < from+n; i++ {
		recs = append(recs, &kgo.Record{Value: counterValue(i, 300), Timestamp: time.UnixMilli(int64(1000 * (i + 1)))})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// segmentBase is the base offset in a segment file's name.
func segmentBase(t *testing.T, path string) int64 {
	t.Helper()
	base, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), 10, 64)
	if err != nil {
		t.Fatalf("segment name %s: %v", path, err)
	}
	return base
}

func segmentFiles(t *testing.T, dir, ext string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"+ext))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// Deleting every offset and time index while the broker is down, then
// restarting, rebuilds them: every record is readable and timestamp
// lookups still find the right offsets.
func TestIndexesRebuiltAfterDeletion(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, map[string]string{"log.segment.bytes": "65536", "log.index.interval.bytes": "1024"})
	n.Start()
	adm := admin(t, n.Addr)
	ctx := ctxT(t, 2*time.Minute)
	if _, err := adm.CreateTopics(ctx, 1, 1, nil, "indexed"); err != nil {
		t.Fatal(err)
	}
	produceN(t, n.Addr, "indexed", 0, 2000)
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(n.Dir, "indexed-0")
	idx := append(segmentFiles(t, dir, ".index"), segmentFiles(t, dir, ".timeindex")...)
	if len(idx) < 4 {
		t.Fatalf("expected several segments' indexes, found %v", idx)
	}
	for _, f := range idx {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	n.Start()
	if got := len(segmentFiles(t, dir, ".index")); got == 0 {
		t.Fatal("offset indexes were not rebuilt")
	}
	adm = admin(t, n.Addr)
	for _, i := range []int{0, 777, 1999} {
		offs, err := adm.ListOffsetsAfterMilli(ctx, int64(1000*(i+1)), "indexed")
		if err != nil {
			t.Fatal(err)
		}
		if o, _ := offs.Lookup("indexed", 0); o.Offset != int64(i) {
			t.Fatalf("timestamp of record %d found offset %d", i, o.Offset)
		}
	}
	seen := 0
	consumeAll(t, n.Addr, "indexed", 2000, time.Minute, func(r *kgo.Record) {
		if i, ok := counterOf(r.Value); !ok || int64(i) != r.Offset {
			t.Fatalf("offset %d holds record %d", r.Offset, i)
		}
		seen++
	})
	if seen != 2000 {
		t.Fatalf("read %d records", seen)
	}
}

// A torn tail (a partial batch and garbage after the last whole batch, as a
// crash mid-write leaves) is cut off at restart; the log goes on from the
// last whole batch.
func TestTornTailTruncated(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, nil)
	n.Start()
	adm := admin(t, n.Addr)
	ctx := ctxT(t, 2*time.Minute)
	if _, err := adm.CreateTopics(ctx, 1, 1, nil, "torn"); err != nil {
		t.Fatal(err)
	}
	produceN(t, n.Addr, "torn", 0, 100)
	n.Kill()
	segs := segmentFiles(t, filepath.Join(n.Dir, "torn-0"), ".log")
	last := segs[len(segs)-1]
	raw, err := os.ReadFile(last)
	if err != nil {
		t.Fatal(err)
	}
	// Half of the last batch again, then garbage.
	torn := append(append([]byte{}, raw[len(raw)/2:]...), []byte("garbage after a crash")...)
	f, err := os.OpenFile(last, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(torn[len(torn)/3:])
	f.Close()
	n.Start()
	if st, _ := os.Stat(last); st.Size() != int64(len(raw)) {
		t.Fatalf("segment is %d bytes after recovery, want the %d bytes of whole batches", st.Size(), len(raw))
	}
	produceN(t, n.Addr, "torn", 100, 10)
	seen := 0
	consumeAll(t, n.Addr, "torn", 110, time.Minute, func(r *kgo.Record) {
		if i, ok := counterOf(r.Value); !ok || int64(i) != r.Offset {
			t.Fatalf("offset %d holds record %d", r.Offset, i)
		}
		seen++
	})
	if seen != 110 {
		t.Fatalf("read %d records", seen)
	}
}

// A corrupt batch in the middle of a closed segment takes that partition
// offline with a message naming the file and position; the process and its
// other partitions keep serving.
func TestMidSegmentCorruptionTakesOnlyThePartitionOffline(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, map[string]string{"log.segment.bytes": "16384"})
	n.Start()
	adm := admin(t, n.Addr)
	ctx := ctxT(t, 2*time.Minute)
	if _, err := adm.CreateTopics(ctx, 1, 1, nil, "broken", "healthy"); err != nil {
		t.Fatal(err)
	}
	produceN(t, n.Addr, "broken", 0, 300)
	produceN(t, n.Addr, "healthy", 0, 10)
	n.Kill()
	segs := segmentFiles(t, filepath.Join(n.Dir, "broken-0"), ".log")
	if len(segs) < 3 {
		t.Fatalf("want several segments, have %v", segs)
	}
	first := segs[1]
	raw, _ := os.ReadFile(first)
	raw[len(raw)/4] ^= 0xff // inside some batch's records: its CRC no longer matches
	os.WriteFile(first, raw, 0o644)
	// The recovery point in the middle of the damaged segment: recovery
	// re-validates that segment, and the damage is below the point, in
	// data that was fsynced, so it refuses the partition. (Past the point
	// it would truncate the log there instead.)
	base1, base2 := segmentBase(t, segs[1]), segmentBase(t, segs[2])
	rp := fmt.Sprintf("%d\n", (base1+base2)/2)
	if err := os.WriteFile(filepath.Join(n.Dir, "broken-0", "recovery-point"), []byte(rp), 0o644); err != nil {
		t.Fatal(err)
	}
	n.Start()
	// Partitions open once the broker has replayed the metadata, which may
	// be after it answers its first request.
	named := func() bool {
		out := n.Output()
		return strings.Contains(out, "partition offline") && strings.Contains(out, first)
	}
	for deadline := time.Now().Add(30 * time.Second); !named() && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if !named() {
		t.Fatalf("no message names the corrupt segment:\n%s", n.Output())
	}
	consumeAll(t, n.Addr, "healthy", 10, time.Minute, func(*kgo.Record) {})
	meta, err := kadm.NewClient(kgoClient(t, n.Addr)).Metadata(ctx, "broken")
	if err != nil {
		t.Fatal(err)
	}
	if p := meta.Topics["broken"].Partitions[0]; p.Err == nil && p.Leader >= 0 {
		// Metadata may still name a leader; the partition itself must refuse.
		cl := kgoClient(t, n.Addr)
		fctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		cl.AddConsumeTopics("broken")
		fs := cl.PollFetches(fctx)
		if fs.NumRecords() > 0 {
			t.Fatal("records served from a partition with a corrupt segment")
		}
	}
}

func kgoClient(t *testing.T, addr string) *kgo.Client {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}
