package test

import (
	"context"
	"fmt"
	"hash/crc32"
	"os"
	"strconv"
	"strings"
	"sync"
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
	// answers counts the minority's answers by error name; outcome is each
	// minority record's answer (-1: none).
	answers map[string]int
	outcome map[string]int16
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
// in the ISR) within a bound. A read_uncommitted and a read_committed
// consumer read throughout. At the end every acknowledged record is there
// exactly once, nothing a minority node refused outright is in the log
// (a write that timed out may commit later, as in Kafka), every record a
// consumer read is still at the offset it was read at, and every replica
// holds the same batches at the same offsets. SPOOL_NETNS_FAULTS
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
	s := &netScene{t: t, lab: lab, c: c, adm: clusterAdmin(t, c), acked: &ackedLog{acked: map[int]bool{}}, topic: "jepsen", answers: map[string]int{}, outcome: map[string]int16{}}
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
	readers := []*readLog{startReader(t, c.BootstrapAddrs(), s.topic, kgo.ReadUncommitted()),
		startReader(t, c.BootstrapAddrs(), s.topic, kgo.ReadCommitted())}
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
	for _, r := range readers {
		r.stop()
	}
	t.Logf("%d faults survived; %d records produced, %d acknowledged; %d sent to minority leaders, none acknowledged (%v); slowest recovery after a heal %v",
		s.faults, total, len(s.acked.acked), s.minor, s.answers, s.worst)
	checkAckedOnce(t, c.BootstrapAddrs()[0], s.topic, s.acked)
	final := s.checkFinalLog()
	for _, r := range readers {
		r.check(t, final)
	}
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
	value := fmt.Sprintf("minority-%d", s.minor)
	s.outcome[value] = -1
	rp.Records = rawBatch(time.Now().UnixMilli(), rawRecord{value: []byte(value)})
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
		s.outcome[value] = p.ErrorCode
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
	state := "no metadata"
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		meta, err := s.adm.Metadata(ctx, s.topic)
		cancel()
		if err == nil && len(meta.Topics[s.topic].Partitions) == 1 {
			p := meta.Topics[s.topic].Partitions[0]
			if p.Leader >= 0 && len(p.ISR) == 3 {
				return
			}
			state = fmt.Sprintf("leader %d, ISR %v, epoch %d, brokers %v", p.Leader, p.ISR, p.LeaderEpoch, meta.Brokers.NodeIDs())
		} else if err != nil {
			state = err.Error()
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster not whole %v after the network healed: %s", recoverWithin, state)
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

// checkFinalLog reads the whole partition and fails if a record sent to a
// minority node that refused it outright is in it. A write that timed out
// (or got no answer) has an unknown outcome, as in Kafka: a leader that
// was cut off for less than the broker session keeps its leadership, and
// what it appended meanwhile commits once the network heals. It returns
// each offset's value checksum.
func (s *netScene) checkFinalLog() map[int64]uint32 {
	s.t.Helper()
	ends, err := s.adm.ListEndOffsets(ctxT(s.t, time.Minute), s.topic)
	if err != nil {
		s.t.Fatal(err)
	}
	end, _ := ends.Lookup(s.topic, 0)
	final := map[int64]uint32{}
	late := 0
	// Offsets are contiguous from 0 here (no retention, no transactions).
	consumeAll(s.t, s.c.BootstrapAddrs()[0], s.topic, int(end.Offset), 2*time.Minute, func(r *kgo.Record) {
		final[r.Offset] = crc32.ChecksumIEEE(r.Value)
		v := string(r.Value)
		if !strings.HasPrefix(v, "minority-") {
			return
		}
		switch code := s.outcome[v]; code {
		case -1, kerr.RequestTimedOut.Code, kerr.NotEnoughReplicasAfterAppend.Code:
			late++
		default:
			s.t.Errorf("offset %d holds %q, which the minority node refused with %v", r.Offset, v, kerr.ErrorForCode(code))
		}
	})
	s.t.Logf("%d minority writes that timed out committed after the heal", late)
	return final
}

// readLog is what a consumer running through the faults read: a record a
// consumer saw must still be at its offset at the end (consumers read only
// below the high watermark, read_committed below the last stable offset).
type readLog struct {
	iso   string
	cl    *kgo.Client
	done  chan struct{}
	mu    sync.Mutex
	seen  map[int64]uint32
	clash []string
}

func startReader(t *testing.T, addrs []string, topic string, iso kgo.IsolationLevel) *readLog {
	name := "read_uncommitted"
	if iso == kgo.ReadCommitted() {
		name = "read_committed"
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(iso),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	r := &readLog{iso: name, cl: cl, done: make(chan struct{}), seen: map[int64]uint32{}}
	go func() {
		defer close(r.done)
		for {
			fs := cl.PollFetches(context.Background())
			if fs.IsClientClosed() {
				return
			}
			r.mu.Lock()
			fs.EachRecord(func(rec *kgo.Record) {
				sum := crc32.ChecksumIEEE(rec.Value)
				if prev, ok := r.seen[rec.Offset]; ok && prev != sum {
					r.clash = append(r.clash, fmt.Sprintf("offset %d read as two different records", rec.Offset))
				}
				r.seen[rec.Offset] = sum
			})
			r.mu.Unlock()
		}
	}()
	return r
}

func (r *readLog) stop() {
	r.cl.Close()
	<-r.done
}

// check fails if anything the consumer read is not what the final log
// holds at that offset.
func (r *readLog) check(t *testing.T, final map[int64]uint32) {
	t.Helper()
	for _, c := range r.clash {
		t.Errorf("%s consumer: %s", r.iso, c)
	}
	bad := 0
	for off, sum := range r.seen {
		if got, ok := final[off]; !ok || got != sum {
			if bad++; bad <= 5 {
				t.Errorf("%s consumer read a record at offset %d that is not there at the end", r.iso, off)
			}
		}
	}
	if len(r.seen) == 0 {
		t.Errorf("%s consumer read nothing", r.iso)
	}
	t.Logf("%s consumer read %d records during the faults; all still in place: %v", r.iso, len(r.seen), bad == 0)
}
