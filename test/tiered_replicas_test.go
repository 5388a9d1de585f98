package test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// TestTieredReplicas: on three brokers (and a controller) with a tiered topic of two
// replicas, the follower too keeps only its local tail once the leader's
// copies are in the bucket; a third replica added by reassignment starts
// at the leader's local log start instead of copying the whole log; with
// the first leader killed, the new leader serves the log from offset 0
// out of the bucket.
func TestTieredReplicas(t *testing.T) {
	t.Parallel()
	s3 := newS3Store(t)
	c := harness.NewCluster(t, []string{"controller", "broker", "broker", "broker"}, s3.props(nil))
	// Broker 4 joins later; its remote log manager does not run again
	// before the checks, so its disk shows what it fetched.
	c.Node(4).Props["remote.log.manager.task.interval.ms"] = "600000"
	c.Node(4).Rewrite()
	c.Start()
	adm := admin(t, c.Node(2).Addr)
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = tieredTopic, -1, -1
	a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
	a.Replicas = []int32{2, 3}
	rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
	for k, v := range map[string]string{"remote.storage.enable": "true", "internal.segment.bytes": "16384", "local.retention.bytes": "40000"} {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, kmsg.StringPtr(v)
		rt.Configs = append(rt.Configs, c)
	}
	req.Version, req.Topics, req.TimeoutMillis = 7, append(req.Topics, rt), 30000
	if resp, err := harness.Request(c.Node(2).Addr, req, time.Minute); err != nil || resp.(*kmsg.CreateTopicsResponse).Topics[0].ErrorCode != 0 {
		t.Fatalf("create: %v %+v", err, resp)
	}
	waitFullISR(t, adm, tieredTopic)
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.BootstrapAddrs()...), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	const total = 3000
	produceTiered(t, prod, 0, total)

	replicas, leader := tieredReplicas(t, adm)
	waitTiered(t, "every replica keeps only its local tail", time.Minute, c.Node(int(leader)), func() bool {
		ok := len(s3.keys(t, ".rsm-manifest")) >= 40
		for _, r := range replicas {
			ok = ok && localSegments(t, c.Node(int(r)), tieredTopic, 0) <= 6
		}
		return ok
	})

	const added = 4
	ctx := ctxT(t, 2*time.Minute)
	reassign(ctx, t, prod, map[string][][]int32{tieredTopic: {append(slices.Clone(replicas), added)}})
	waitNoReassignments(ctx, t, prod)
	waitFullISR(t, adm, tieredTopic)
	if segs := localSegments(t, c.Node(added), tieredTopic, 0); segs > 6 {
		t.Errorf("the added replica fetched %d segments; it should start at the leader's local log start", segs)
	}

	c.Node(int(leader)).Kill()
	waitTiered(t, "a new leader", time.Minute, c.Node(added), func() bool {
		_, l := tieredReplicas(t, admin(t, c.Node(added).Addr))
		return l >= 0 && l != leader
	})
	var addrs []string
	for _, n := range c.Brokers() {
		if int32(n.ID) != leader {
			addrs = append(addrs, n.Addr)
		}
	}
	next := 0
	consumeAll(t, addrs[0], tieredTopic, total, 2*time.Minute, func(r *kgo.Record) {
		if r.Offset != int64(next) || string(r.Value) != fmt.Sprintf("%08d-%0291d", next, next) {
			t.Fatalf("record at %d, want %d", r.Offset, next)
		}
		next++
	})
}

// tieredReplicas are the topic's replicas and leader (-1 if none).
func tieredReplicas(t *testing.T, adm *kadm.Client) ([]int32, int32) {
	t.Helper()
	meta, err := adm.Metadata(ctxT(t, 10*time.Second), tieredTopic)
	if err != nil {
		return nil, -1
	}
	p, ok := meta.Topics[tieredTopic].Partitions[0]
	if !ok {
		return nil, -1
	}
	return p.Replicas, p.Leader
}
