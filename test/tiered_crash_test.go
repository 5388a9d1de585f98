package test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

// bucketState sorts the bucket's objects: manifests by state, and data
// objects whose segment has no manifest at all (orphans).
func (f *s3Store) bucketState(t *testing.T) (states map[string]int, orphans []string) {
	t.Helper()
	states = map[string]int{}
	ids := map[string]bool{}
	for _, k := range f.keys(t, ".rsm-manifest") {
		var m struct {
			State string `json:"state"`
		}
		b, ok := f.Lookup(t, k)
		if !ok {
			// Deleted since the listing: its data objects, if listed
			// below, show as orphans until the delete finishes.
			continue
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("manifest %s: %v", k, err)
		}
		states[m.State]++
		ids[strings.TrimSuffix(k, ".rsm-manifest")] = true
	}
	for _, k := range f.keys(t, "") {
		if strings.HasSuffix(k, ".rsm-manifest") {
			continue
		}
		if !ids[k[:strings.LastIndex(k, ".")]] {
			orphans = append(orphans, k)
		}
	}
	return states, orphans
}

// TestTieredKillDuringCopiesAndDeletes kills the broker with SIGKILL while
// it copies segments and remote retention deletes old ones, three times;
// after each restart the bucket settles with every manifest finished and
// no object without one, and the log reads back contiguously from its
// start.
func TestTieredKillDuringCopiesAndDeletes(t *testing.T) {
	t.Parallel()
	s3 := newS3Store(t)
	n := harness.SingleNode(t, s3.props(nil))
	n.Start()
	adm := admin(t, n.Addr)
	makeTopic(t, adm, tieredTopic, 1, map[string]string{
		"remote.storage.enable": "true", "internal.segment.bytes": "16384",
		"local.retention.bytes": "40000", "retention.bytes": "400000",
	})
	produced := 0
	for round := range 3 {
		prod := syncProducer(t, n.Addr)
		produceTiered(t, prod, produced, 1500)
		produced += 1500
		prod.Close()
		// Kill once a few segments of this round are copied, with the
		// rest (and remote retention's deletes) still to do.
		waitTiered(t, "copies under way", time.Minute, n, func() bool {
			end, _ := listSpecialOffset(t, n.Addr, tieredTopic, -5)
			return end > int64(produced-1500+150)
		})
		n.Kill()
		n.Start()
		waitTiered(t, fmt.Sprintf("round %d: bucket consistent after restart", round), time.Minute, n, func() bool {
			states, orphans := s3.bucketState(t)
			return len(orphans) == 0 && states["COPY_SEGMENT_STARTED"] == 0 && states["DELETE_SEGMENT_STARTED"] == 0 &&
				localSegments(t, n, tieredTopic, 0) <= 6
		})
	}
	start, _ := listSpecialOffset(t, n.Addr, tieredTopic, -2)
	if start == 0 {
		t.Errorf("remote retention deleted nothing: earliest offset still 0")
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.ConsumeTopics(tieredTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// Remote retention may still be moving the start while this reads:
	// the first record may be past start, and from there on the log is
	// contiguous.
	next := int64(-1)
	ctx := ctxT(t, 2*time.Minute)
	for next < int64(produced) && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if next < 0 && r.Offset >= start {
				next = r.Offset
			}
			if r.Offset != next || string(r.Value) != fmt.Sprintf("%08d-%0291d", next, next) {
				t.Fatalf("record at %d, want %d", r.Offset, next)
			}
			next++
		})
	}
	if next != int64(produced) {
		t.Fatalf("read %d..%d of %d records\n%s", start, next, produced, n.Output())
	}
}
