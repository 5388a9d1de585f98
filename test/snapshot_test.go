package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spool/test/harness"
)

// With a tiny snapshot interval the controller snapshots the metadata log
// and moves its start past the snapshot; after SIGTERM and kill -9 the
// controller starts from the snapshot and the broker catches up through
// FetchSnapshot, and every topic is still there.
func TestMetadataSnapshotsSurviveRestart(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, map[string]string{"metadata.log.max.record.bytes.between.snapshots": "2048"})
	n.Start()
	adm := admin(t, n.Addr)
	ctx := ctxT(t, 2*time.Minute)
	want := map[string]int{}
	for i := 0; i < 40; i++ {
		name := fmt.Sprintf("snap-%02d", i)
		if _, err := adm.CreateTopics(ctx, 2, 1, nil, name); err != nil {
			t.Fatal(err)
		}
		want[name] = 2
	}
	metaDir := filepath.Join(n.Dir, "__cluster_metadata-0")
	deadline := time.Now().Add(30 * time.Second)
	for !hasSnapshot(t, metaDir) {
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot written in %s\n%s", metaDir, n.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	n.Start()
	wantTopics(t, admin(t, n.Addr), want)
	if !strings.Contains(n.Output(), "loaded metadata snapshot") {
		t.Fatalf("the broker did not catch up from a snapshot:\n%s", n.Output())
	}

	adm = admin(t, n.Addr)
	if _, err := adm.DeleteTopics(ctx, "snap-00"); err != nil {
		t.Fatal(err)
	}
	delete(want, "snap-00")
	n.Kill()
	n.Start()
	wantTopics(t, admin(t, n.Addr), want)
}

func hasSnapshot(t *testing.T, dir string) bool {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".checkpoint") {
			return true
		}
	}
	return false
}
