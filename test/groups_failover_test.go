package test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"spool/test/harness"
)

// Committed offsets live in the replicated __consumer_offsets: killing the
// group's coordinator moves the group to another broker that still has
// every commit.
func TestGroupOffsetsSurviveCoordinatorKill(t *testing.T) {
	t.Parallel()
	c := harness.NewCluster(t, []string{"broker,controller", "broker,controller", "broker,controller"},
		map[string]string{"broker.session.timeout.ms": "4000", "broker.heartbeat.interval.ms": "500"})
	c.Start()
	adm := clusterAdmin(t, c)
	ctx := ctxT(t, 3*time.Minute)
	if _, err := adm.CreateTopics(ctx, 3, 3, nil, "tracked"); err != nil {
		t.Fatal(err)
	}
	eventuallyMetadata(t, adm, "tracked", 3)
	offsets := kadm.Offsets{}
	for p := int32(0); p < 3; p++ {
		offsets.AddOffset("tracked", p, int64(100+p), -1)
	}
	var resp kadm.OffsetResponses
	var err error
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err = adm.CommitOffsets(ctx, "survivors", offsets)
		if err == nil && resp.Error() == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("commit: %v %v", err, resp.Error())
		}
		time.Sleep(200 * time.Millisecond)
	}
	coords := adm.FindGroupCoordinators(ctx, "survivors")
	coord := coords["survivors"]
	if coord.Err != nil {
		t.Fatal(coord.Err)
	}
	c.Node(int(coord.NodeID)).Kill()

	deadline = time.Now().Add(90 * time.Second)
	for {
		// A fresh client each time: the old one remembers the dead
		// coordinator.
		fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		fresh := clusterAdmin(t, c)
		got, err := fresh.FetchOffsets(fctx, "survivors")
		cancel()
		ok := err == nil && got.Error() == nil
		for p := int32(0); ok && p < 3; p++ {
			o, found := got.Lookup("tracked", p)
			ok = found && o.At == int64(100+p)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("offsets after the coordinator died: %v %+v", err, got)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if newCoord := clusterAdmin(t, c).FindGroupCoordinators(ctx, "survivors")["survivors"]; newCoord.NodeID == coord.NodeID {
		t.Fatalf("coordinator still %d after it was killed", coord.NodeID)
	}
}
