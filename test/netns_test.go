package test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// netFault is one kind of network fault the partition test injects.
type netFault struct {
	name string
	// apply cuts the network around the cluster; it returns the node
	// (0-based) left on the minority side.
	apply func(s *netScene) int
}

var netFaults = []netFault{
	{"leader isolated from the other brokers and the controllers", func(s *netScene) int {
		v := s.leader()
		s.lab.isolate(v)
		return v
	}},
	{"active controller isolated", func(s *netScene) int {
		v := s.activeController()
		s.lab.isolate(v)
		return v
	}},
	{"leader's outgoing packets to the others dropped (one-way cut)", func(s *netScene) int {
		v := s.leader()
		for b := range s.lab.ns {
			if b != v {
				s.lab.cut(v, b)
			}
		}
		return v
	}},
	{"leader's links flapping", func(s *netScene) int {
		v := s.leader()
		for range 6 {
			s.lab.isolate(v)
			time.Sleep(700 * time.Millisecond)
			s.lab.heal()
			time.Sleep(300 * time.Millisecond)
		}
		s.lab.isolate(v)
		return v
	}},
}

// netScene is a three-node cluster in a netLab with an idempotent acks=all
// producer running throughout.
type netScene struct {
	t     *testing.T
	lab   *netLab
	c     *harness.Cluster
	adm   *kadm.Client
	acked *ackedLog
	topic string
	minor int // records sent straight to a minority leader
	// answers counts the minority's answers by error name.
	answers map[string]int
	worst   time.Duration
	faults  int
}

// Three combined nodes, each in its own network namespace, keep a topic
// (RF=3, min.insync.replicas=2) written by an idempotent acks=all producer
// while the network is cut around them: the partition leader isolated from
// the other brokers and the controllers (Jepsen's 2013 Kafka scenario), the
// active controller isolated, a one-way cut, a flapping link. While cut,
// acks=all writes sent straight to the minority leader are never
// acknowledged; after each heal the cluster is whole again (every replica
// in the ISR) within a bound. At the end every acknowledged record is there
// exactly once, nothing sent to a minority leader survives, and every
// replica holds the same batches at the same offsets. SPOOL_NETNS_FAULTS
// sets the number of faults (make test-netns-long runs 100).
func TestNetworkPartitionsLoseNoAcknowledgedRecord(t *testing.T) {
	t.Parallel()
	faults := len(netFaults)
	if v := os.Getenv("SPOOL_NETNS_FAULTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("SPOOL_NETNS_FAULTS=%q: want a positive count", v)
		}
		faults = n
	}
	lab := newNetLab(t, 3)
	c := harness.NewClusterIn(t, []string{"broker,controller", "broker,controller", "broker,controller"}, lab.hosts(),
		map[string]string{"replica.lag.time.max.ms": "6000", "broker.session.timeout.ms": "6000",
			"broker.heartbeat.interval.ms": "500", "controller.quorum.fetch.timeout.ms": "2000"})
	c.Start()
	s := &netScene{t: t, lab: lab, c: c, adm: clusterAdmin(t, c), acked: &ackedLog{acked: map[int]bool{}}, topic: "jepsen", answers: map[string]int{}}
	defer logOnFailure(t, c.Nodes...)
	ctx := ctxT(t, 10*time.Minute+time.Duration(faults)*time.Minute)
	res, err := s.adm.CreateTopics(ctx, 1, 3, map[string]*string{"min.insync.replicas": strp("2")}, s.topic)
	if err != nil || res[s.topic].Err != nil {
		t.Fatalf("create: %v %v", err, res[s.topic].Err)
	}
	waitFullISR(t, s.adm, s.topic)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.BootstrapAddrs()...), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordRetries(1_000_000), kgo.RecordDeliveryTimeout(2*time.Minute), kgo.ProducerLinger(2*time.Millisecond),
		kgo.RequestTimeoutOverhead(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	stop, done := make(chan struct{}), make(chan int)
	go func() {
		from := 0
		for {
			select {
			case <-stop:
				done <- from
				return
			default:
			}
			produceRange(t, cl, s.topic, from, from+100, s.acked)
			from += 100
			time.Sleep(20 * time.Millisecond)
		}
	}()
	for i := 0; i < faults && !t.Failed(); i++ {
		s.inject(netFaults[i%len(netFaults)])
	}
	close(stop)
	total := <-done
	t.Logf("%d faults survived; %d records produced, %d acknowledged; %d sent to minority leaders, none acknowledged (%v); slowest recovery after a heal %v",
		s.faults, total, len(s.acked.acked), s.minor, s.answers, s.worst)
	checkAckedOnce(t, c.BootstrapAddrs()[0], s.topic, s.acked)
	s.checkNoMinorityRecord()
	waitSameReplicas(t, c, s.topic)
}

// recoverWithin bounds how long the cluster may take to have every replica
// back in the ISR once the network heals: a session timeout, a lag window
// and elections, with slack for a loaded machine.
const recoverWithin = 60 * time.Second

// inject applies one fault for a while, checks that the minority side
// acknowledges nothing, heals, and waits for the cluster to be whole.
func (s *netScene) inject(f netFault) {
	t := s.t
	time.Sleep(time.Second) // produce on a whole cluster first
	v := f.apply(s)
	t.Logf("fault %d: %s (node %d)", s.faults+1, f.name, v+1)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s.produceToMinority(v)
	}
	s.lab.heal()
	healed := time.Now()
	s.waitWhole()
	if d := time.Since(healed); d > s.worst {
		s.worst = d
	}
	s.faults++
}

// produceToMinority sends an acks=all write straight to node v, cut off
// from the others: whether it still thinks it leads or not, it must not
// acknowledge the write.
func (s *netScene) produceToMinority(v int) {
	t := s.t
	s.minor++
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	req.Acks, req.TimeoutMillis = -1, 2000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = s.topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = rawBatch(time.Now().UnixMilli(), rawRecord{value: fmt.Appendf(nil, "minority-%d", s.minor)})
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	raw, err := harness.Request(s.c.Nodes[v].Addr, req, 15*time.Second)
	if err != nil {
		s.answers["no answer"]++
		time.Sleep(200 * time.Millisecond)
		return // no answer is not an acknowledgement
	}
	resp := raw.(*kmsg.ProduceResponse)
	if len(resp.Topics) == 1 && len(resp.Topics[0].Partitions) == 1 {
		p := resp.Topics[0].Partitions[0]
		s.answers[kerr.ErrorForCode(p.ErrorCode).Error()]++
		if p.ErrorCode == 0 {
			t.Fatalf("node %d, cut off from the quorum, acknowledged an acks=all write at offset %d", v+1, p.BaseOffset)
		}
		if p.ErrorCode != kerr.RequestTimedOut.Code {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// waitWhole waits until the partition has a leader and all three replicas
// in its ISR, failing past recoverWithin.
func (s *netScene) waitWhole() {
	t := s.t
	deadline := time.Now().Add(recoverWithin)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		meta, err := s.adm.Metadata(ctx, s.topic)
		cancel()
		if err == nil && len(meta.Topics[s.topic].Partitions) == 1 {
			p := meta.Topics[s.topic].Partitions[0]
			if p.Leader >= 0 && len(p.ISR) == 3 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster not whole %v after the network healed", recoverWithin)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// leader is the partition's leader (0-based node index).
func (s *netScene) leader() int {
	meta := eventuallyMetadata(s.t, s.adm, s.topic, 1)
	return int(meta.Topics[s.topic].Partitions[0].Leader) - 1
}

// activeController asks the controllers who leads the quorum.
func (s *netScene) activeController() int {
	t := s.t
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, n := range s.c.Nodes {
			req := kmsg.NewPtrDescribeQuorumRequest()
			req.SetVersion(1)
			rt := kmsg.NewDescribeQuorumRequestTopic()
			rt.Topic = "__cluster_metadata"
			rt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
			req.Topics = append(req.Topics, rt)
			raw, err := harness.Request(n.CtrlAddr, req, 5*time.Second)
			if err != nil {
				continue
			}
			resp := raw.(*kmsg.DescribeQuorumResponse)
			if len(resp.Topics) == 1 && len(resp.Topics[0].Partitions) == 1 {
				if id := resp.Topics[0].Partitions[0].LeaderID; id > 0 {
					return int(id) - 1
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("no active controller found")
	return -1
}

// checkNoMinorityRecord fails if a record sent to a minority leader is in
// the log: it was never acknowledged, and the replica that took it must
// have truncated it when it rejoined.
func (s *netScene) checkNoMinorityRecord() {
	s.t.Helper()
	ends, err := s.adm.ListEndOffsets(ctxT(s.t, time.Minute), s.topic)
	if err != nil {
		s.t.Fatal(err)
	}
	end, _ := ends.Lookup(s.topic, 0)
	// Offsets are contiguous from 0 here (no retention, no transactions).
	consumeAll(s.t, s.c.BootstrapAddrs()[0], s.topic, int(end.Offset), 2*time.Minute, func(r *kgo.Record) {
		if strings.HasPrefix(string(r.Value), "minority-") {
			s.t.Errorf("offset %d holds %q, sent only to a minority leader", r.Offset, r.Value)
		}
	})
}
