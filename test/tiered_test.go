package test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

const tieredTopic = "tiered"

// produceTiered writes n records numbered from first, 300 bytes each.
func produceTiered(t *testing.T, cl *kgo.Client, first, n int) {
	t.Helper()
	recs := make([]*kgo.Record, 0, 40) // one batch stays under segment.bytes
	for i := first; i < first+n; i++ {
		recs = append(recs, &kgo.Record{Topic: tieredTopic, Value: []byte(fmt.Sprintf("%08d-%0291d", i, i))})
		if len(recs) == cap(recs) || i == first+n-1 {
			produceSync(t, cl, recs...)
			recs = recs[:0]
		}
	}
}

// consumeTiered reads the topic from offset 0 with franz-go and checks
// every record arrives once, in order, with its value.
func consumeTiered(t *testing.T, addr string, want int) { consumeTieredFrom(t, addr, 0, want) }

// consumeTieredFrom expects the records from offset from on.
func consumeTieredFrom(t *testing.T, addr string, from, want int) {
	t.Helper()
	next := from
	consumeAll(t, addr, tieredTopic, want-from, 2*time.Minute, func(r *kgo.Record) {
		if r.Offset != int64(next) || string(r.Value) != fmt.Sprintf("%08d-%0291d", next, next) {
			t.Fatalf("record at offset %d (value %.8s), want offset %d", r.Offset, r.Value, next)
		}
		next++
	})
}

// TestTieredStorage rolls many small segments on a tiered topic with a
// small local retention against a real S3 server: segments and their
// indexes appear in the bucket, local segments go once copied, franz-go
// reads everything from offset 0 across the tiers, before and after a
// restart; with the store down nothing local is deleted, remote reads
// fail with KAFKA_STORAGE_ERROR rather than hang, and uploads resume when
// it is back; deleting the topic empties the bucket.
func TestTieredStorage(t *testing.T) {
	t.Parallel()
	s3 := newS3Store(t)
	// Two chunks of cache: the first segments' chunks are long evicted
	// when the store goes down, so reading them needs the store.
	httpAddr := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	n := harness.SingleNode(t, s3.props(map[string]string{"rsm.config.fetch.chunk.cache.size": "131072", "http.listener": httpAddr}))
	n.Start()
	metric := func(name string) float64 {
		v, ok := value(scrape(t, "http://"+httpAddr), name, nil)
		if !ok {
			t.Fatalf("no %s on /metrics", name)
		}
		return v
	}
	adm := admin(t, n.Addr)
	makeTopic(t, adm, tieredTopic, 1, map[string]string{
		"remote.storage.enable": "true", "internal.segment.bytes": "16384", "local.retention.bytes": "40000",
	})
	prod := syncProducer(t, n.Addr)
	const first = 3000 // about 1 MB: some 60 segments
	produceTiered(t, prod, 0, first)

	waitTiered(t, "segments copied and local ones deleted", time.Minute, n, func() bool {
		local, _ := listSpecialOffset(t, n.Addr, tieredTopic, -4)
		return len(s3.keys(t, ".rsm-manifest")) >= 40 && local > 2000 && localSegments(t, n, tieredTopic, 0) <= 6
	})
	for _, suffix := range []string{".log", ".index", ".timeindex", ".leader-epoch-checkpoint"} {
		if k := s3.keys(t, suffix); len(k) < 40 {
			t.Errorf("%d %s objects in the bucket, want one per copied segment", len(k), suffix)
		}
	}
	if start, code := listSpecialOffset(t, n.Addr, tieredTopic, -2); start != 0 || code != 0 {
		t.Errorf("earliest offset %d (code %d), want the remote log start 0", start, code)
	}
	out, exit := harness.Run(t, "topic", "describe", tieredTopic, "--bootstrap-server", n.Addr)
	if exit != 0 || !strings.Contains(out, "TIERED") || !strings.Contains(out, "REMOTE-OFFSETS") || !regexp.MustCompile(`\n0 +0-\d+ +[\d,]+ `).MatchString(out) {
		t.Errorf("topic describe (exit %d) does not show the tiers:\n%s", exit, out)
	}
	t.Logf("spool topic describe:\n%s", out)
	if off, code := listSpecialOffset(t, n.Addr, tieredTopic, 0); off != 0 || code != 0 {
		t.Errorf("offset for timestamp 0 is %d (code %d), want 0 from the remote segments", off, code)
	}
	end, _ := listSpecialOffset(t, n.Addr, tieredTopic, -5)
	if end < 2000 {
		t.Errorf("latest tiered offset %d, want past 2000", end)
	}
	// A copy may finish between the two lookups, so the pending offset
	// lies after the first answer of -5 and no further than the second.
	pending, code := listSpecialOffset(t, n.Addr, tieredTopic, -6)
	if end2, _ := listSpecialOffset(t, n.Addr, tieredTopic, -5); pending < end+1 || pending > end2+1 || code != 0 {
		t.Errorf("earliest pending upload offset %d (code %d), want the offset after the latest tiered one (%d..%d)", pending, code, end+1, end2+1)
	}
	consumeTiered(t, n.Addr, first)
	if metric("spool_remote_copy_bytes_total") < 500_000 || metric("spool_remote_fetch_bytes_total") < 500_000 ||
		metric("spool_remote_cache_hits_total") == 0 || metric("spool_remote_log_segments") < 40 {
		t.Errorf("remote metrics do not show the copies and reads")
	}

	if err := n.Stop(); err != nil {
		t.Fatalf("stop: %v\n%s", err, n.Output())
	}
	n.Start()
	if start, _ := listSpecialOffset(t, n.Addr, tieredTopic, -2); start != 0 {
		t.Errorf("after restart the earliest offset is %d, want 0", start)
	}
	consumeTiered(t, n.Addr, first)

	// The store goes down: local segments not copied stay, however many
	// roll.
	s3.Down.Store(true)
	tieredEnd, _ := listSpecialOffset(t, n.Addr, tieredTopic, -5)
	segsBefore := localSegments(t, n, tieredTopic, 0)
	const more = 1000
	produceTiered(t, prod, first, more)
	time.Sleep(3 * time.Second) // ten task intervals
	if local, _ := listSpecialOffset(t, n.Addr, tieredTopic, -4); local > tieredEnd+1 {
		t.Errorf("local log start moved to %d, past the last copied offset %d, while the store was down", local, tieredEnd)
	}
	if lag := metric("spool_remote_copy_lag_segments"); lag < 10 || metric("spool_remote_copy_errors_total") == 0 {
		t.Errorf("the outage does not show: copy lag %v segments, copy errors %v", lag, metric("spool_remote_copy_errors_total"))
	}
	if segs := localSegments(t, n, tieredTopic, 0); segs < segsBefore+10 {
		t.Errorf("%d local segments with the store down (%d before %d more records), want them all kept", segs, segsBefore, more)
	}
	// A remote read fails with a retriable error, within the call timeout.
	began := time.Now()
	code, _, err := fetchAt(t, n.Addr, tieredTopic, 0, 30*time.Second)
	if err != nil || code != kerr.KafkaStorageError.Code {
		t.Errorf("fetch at 0 with the store down: code %d err %v, want KAFKA_STORAGE_ERROR", code, err)
	}
	t.Logf("failed remote read answered in %v", time.Since(began))
	// Local reads are unaffected.
	if code, size, err := fetchAt(t, n.Addr, tieredTopic, int64(first), 10*time.Second); err != nil || code != 0 || size == 0 {
		t.Errorf("local fetch with the store down: code %d, %d bytes, err %v", code, size, err)
	}

	s3.Down.Store(false)
	waitTiered(t, "copies resumed after the outage", time.Minute, n, func() bool {
		return localSegments(t, n, tieredTopic, 0) <= 6
	})
	consumeTiered(t, n.Addr, first+more)

	// DeleteRecords below the local start moves the log start in the
	// bucket: reads below it are out of range, and the remote segments
	// wholly below it go.
	manifests := len(s3.keys(t, ".rsm-manifest"))
	deleted, err := adm.DeleteRecords(ctxT(t, time.Minute), kadm.Offsets{tieredTopic: {0: {Topic: tieredTopic, Partition: 0, At: 1000}}})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := deleted.Lookup(tieredTopic, 0); d.Err != nil || d.LowWatermark != 1000 {
		t.Errorf("DeleteRecords: low watermark %d, err %v; want 1000", d.LowWatermark, d.Err)
	}
	if start, _ := listSpecialOffset(t, n.Addr, tieredTopic, -2); start != 1000 {
		t.Errorf("earliest offset %d after DeleteRecords, want 1000", start)
	}
	if code, _, err := fetchAt(t, n.Addr, tieredTopic, 500, 10*time.Second); err != nil || code != kerr.OffsetOutOfRange.Code {
		t.Errorf("fetch below the new log start: code %d err %v, want OFFSET_OUT_OF_RANGE", code, err)
	}
	waitTiered(t, "remote segments below the log start deleted", time.Minute, n, func() bool {
		return len(s3.keys(t, ".rsm-manifest")) <= manifests-15
	})
	consumeTieredFrom(t, n.Addr, 1000, first+more)

	resp, err := adm.DeleteTopics(ctxT(t, time.Minute), tieredTopic)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	waitTiered(t, "remote objects removed with the topic", time.Minute, n, func() bool {
		return len(s3.keys(t, "")) == 0
	})
}

// TestTieredTopicConfigs: Kafka's rules for tiered topics, on a broker
// with tiered storage and on one without.
func TestTieredTopicConfigs(t *testing.T) {
	t.Parallel()
	s3 := newS3Store(t)
	n := harness.SingleNode(t, s3.props(map[string]string{"log.retention.bytes": "1000000"}))
	n.Start()
	adm := admin(t, n.Addr)
	refused := func(name string, cfg map[string]string, want string) {
		t.Helper()
		c := map[string]*string{}
		for k, v := range cfg {
			c[k] = &v
		}
		resp, err := adm.CreateTopic(ctxT(t, time.Minute), 1, 1, c, name)
		if err == nil {
			err = resp.Err
		}
		if err == nil || !strings.Contains(err.Error(), "INVALID_CONFIG") {
			t.Errorf("%s: got %v, want INVALID_CONFIG (%s)", name, err, want)
		} else if resp.ErrMessage == "" || !strings.Contains(resp.ErrMessage, want) {
			t.Errorf("%s: message %q, want %q", name, resp.ErrMessage, want)
		}
	}
	refused("compacted", map[string]string{"remote.storage.enable": "true", "cleanup.policy": "compact"}, "compacted")
	refused("local-over-total", map[string]string{"remote.storage.enable": "true", "local.retention.bytes": "2000000"}, "must not be more than retention.bytes")
	refused("local-unbounded", map[string]string{"remote.storage.enable": "true", "retention.ms": "100000", "local.retention.ms": "-1"}, "must not be -1")
	makeTopic(t, adm, "tiered-ok", 1, map[string]string{"remote.storage.enable": "true", "local.retention.bytes": "500000"})

	// Turning tiering off, or compaction on, is refused later too.
	for _, kv := range [][2]string{{"remote.storage.enable", "false"}, {"cleanup.policy", "compact"}} {
		v := kv[1]
		res, err := adm.AlterTopicConfigs(ctxT(t, time.Minute), []kadm.AlterConfig{{Name: kv[0], Value: &v}}, "tiered-ok")
		if err == nil {
			err = res[0].Err
		}
		if err == nil {
			t.Errorf("altering %s=%s on a tiered topic was accepted", kv[0], kv[1])
		}
	}

	on := "true"
	plain := harness.SingleNode(t, nil)
	plain.Start()
	resp, err := admin(t, plain.Addr).CreateTopic(ctxT(t, time.Minute), 1, 1, map[string]*string{"remote.storage.enable": &on}, "t")
	if err == nil {
		err = resp.Err
	}
	if err == nil || !strings.Contains(resp.ErrMessage, "Tiered Storage functionality is disabled") {
		t.Errorf("tiered topic on a broker without tiered storage: %v %q", err, resp.ErrMessage)
	}
}
