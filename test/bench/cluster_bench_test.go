package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func clusterAdmin(b *testing.B, c *harness.Cluster) *kadm.Client {
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.BootstrapAddrs()...), kgo.RetryTimeout(time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// activeController asks the controllers who leads the quorum.
func activeController(c *harness.Cluster) int32 {
	for _, n := range c.Nodes {
		if n.CtrlAddr == "" || !n.Running() {
			continue
		}
		req := kmsg.NewPtrDescribeQuorumRequest()
		req.SetVersion(1)
		rt := kmsg.NewDescribeQuorumRequestTopic()
		rt.Topic = "__cluster_metadata"
		rt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
		req.Topics = append(req.Topics, rt)
		raw, err := harness.Request(n.CtrlAddr, req, 2*time.Second)
		if err != nil {
			continue
		}
		resp := raw.(*kmsg.DescribeQuorumResponse)
		if len(resp.Topics) == 1 && len(resp.Topics[0].Partitions) == 1 && resp.Topics[0].Partitions[0].LeaderID > 0 {
			return resp.Topics[0].Partitions[0].LeaderID
		}
	}
	return -1
}

// BenchmarkControllerFailover: kill -9 the active controller of three and
// time until a CreateTopics succeeds again.
func BenchmarkControllerFailover(b *testing.B) {
	var total time.Duration
	const rounds = 3
	for i := 0; i < rounds; i++ {
		c := harness.NewCluster(b, []string{"controller", "controller", "controller", "broker"}, nil)
		c.Start()
		adm := clusterAdmin(b, c)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		if _, err := adm.CreateTopics(ctx, 1, 1, nil, "warm"); err != nil {
			b.Fatal(err)
		}
		active := activeController(c)
		t0 := time.Now()
		c.Node(int(active)).Kill()
		for {
			res, err := adm.CreateTopics(ctx, 1, 1, nil, fmt.Sprintf("after-%d", time.Now().UnixNano()))
			if err == nil && len(res) == 1 {
				ok := true
				for _, r := range res {
					ok = r.Err == nil
				}
				if ok {
					break
				}
			}
			if ctx.Err() != nil {
				b.Fatal("no CreateTopics succeeded after the controller was killed")
			}
		}
		total += time.Since(t0)
		cancel()
		for _, n := range c.Nodes {
			n.Kill()
		}
	}
	table.add(row{Section: sectionClusterOps, Workload: "controller failover: kill -9 the active of 3 controllers -> next CreateTopics succeeds (mean of 3, small metadata)",
		Unit: "ms", Lower: true, Spool: float64(total.Microseconds()) / 1e3 / rounds})
}

const sectionClusterOps = "Cluster operations"

// BenchmarkBrokerLeadershipMove: three brokers, 3000 partitions of RF 3,
// so each leads about 1000; kill -9 one and time until none of its
// partitions is led by it (the session timeout dominates; it is reported),
// then the same after SIGTERM (controlled shutdown).
func BenchmarkBrokerLeadershipMove(b *testing.B) {
	partitions := int32(envInt("SPOOL_BENCH_MOVE_PARTITIONS", 1500))
	session := 6000
	for _, how := range []string{"kill-9", "sigterm"} {
		b.Run(how, func(b *testing.B) {
			var total time.Duration
			var led int
			for i := 0; i < 1; i++ {
				c := harness.NewCluster(b, []string{"broker,controller", "broker,controller", "broker,controller"},
					map[string]string{"broker.session.timeout.ms": strconv.Itoa(session), "broker.heartbeat.interval.ms": "500"})
				c.Start()
				adm := clusterAdmin(b, c)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				for done := int32(0); done < partitions; done += 500 {
					if _, err := adm.CreateTopics(ctx, 500, 3, nil, fmt.Sprintf("move-%d", done)); err != nil {
						b.Fatal(err)
					}
				}
				victim := int32(2)
				// Ask a broker that stays up: the victim may answer from its
				// own view while it stops.
				led = ledBy(c.Node(1).Addr, victim)
				t0 := time.Now()
				if how == "kill-9" {
					c.Node(int(victim)).Kill()
				} else {
					go c.Node(int(victim)).Stop()
				}
				for ledBy(c.Node(1).Addr, victim) > 0 {
					time.Sleep(20 * time.Millisecond)
				}
				total += time.Since(t0)
				cancel()
				for _, n := range c.Nodes {
					n.Kill()
				}
			}
			what := "kill -9 of a broker: until every leadership it held has moved (broker.session.timeout.ms=6000)"
			if how == "sigterm" {
				what = "SIGTERM (controlled shutdown) of a broker: until every leadership it held has moved"
			}
			table.add(row{Section: sectionClusterOps, Workload: fmt.Sprintf("%s; 3 brokers, %d partitions RF=3, it led %d", what, partitions, led),
				Unit: "ms", Lower: true, Spool: float64(total.Microseconds()) / 1e3})
		})
	}
}
