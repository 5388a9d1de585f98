package test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

// Losing a majority of the controllers stops metadata writes with a clear
// error, while data already on the brokers stays readable; a lagging
// controller catches up from a snapshot when it returns.
func TestControllerMajorityLoss(t *testing.T) {
	t.Parallel()
	c := harness.NewCluster(t, []string{"controller", "controller", "controller", "broker"},
		map[string]string{"metadata.log.max.record.bytes.between.snapshots": "4096"})
	c.Start()
	adm := clusterAdmin(t, c)
	ctx := ctxT(t, 3*time.Minute)
	if _, err := adm.CreateTopics(ctx, 1, 1, nil, "kept"); err != nil {
		t.Fatal(err)
	}
	eventuallyMetadata(t, adm, "kept", 1)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.BootstrapAddrs()...), kgo.DefaultProduceTopic("kept"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("before")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	// Controller 3 misses many metadata changes (and snapshots).
	c.Node(3).Kill()
	for i := 0; i < 30; i++ {
		if _, err := adm.CreateTopics(ctx, 1, 1, nil, "t"+strings.Repeat("x", i)); err != nil {
			t.Fatal(err)
		}
	}

	// Now only controller 1 is left of three.
	c.Node(2).Kill()
	short, err := kgo.NewClient(kgo.SeedBrokers(c.BootstrapAddrs()...), kgo.RetryTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer short.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	res, err := kadm.NewClient(short).CreateTopics(sctx, 1, 1, nil, "impossible")
	cancel()
	if err != nil || res["impossible"].Err != kerr.RequestTimedOut || !strings.Contains(res["impossible"].ErrMessage, "a majority of controllers may be down") {
		t.Fatalf("create without a majority: %v %v %q", err, res["impossible"].Err, res["impossible"].ErrMessage)
	}
	// Data already on the broker is still readable.
	consumeAll(t, c.BootstrapAddrs()[0], "kept", 1, time.Minute, func(r *kgo.Record) {
		if string(r.Value) != "before" {
			t.Fatalf("read %q", r.Value)
		}
	})

	// Controller 3 comes back; with 1 and 3 up there is a majority again,
	// and 3 must catch up from a snapshot it never had.
	c.Node(3).StartArgs("--config", c.Node(3).ConfigFile)
	deadline := time.Now().Add(60 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		res, err := adm.CreateTopics(cctx, 1, 1, nil, "after-recovery")
		cancel()
		if err == nil && res["after-recovery"].Err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metadata writes did not resume: %v %v\n%s", err, res["after-recovery"].Err, c.Node(3).Output())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(c.Node(3).Output(), "installed metadata snapshot from the leader") {
		t.Fatalf("controller 3 did not catch up from a snapshot:\n%s", c.Node(3).Output())
	}
}
