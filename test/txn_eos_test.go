package test

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"spool/test/harness"
)

const (
	eosInputs = 20000
	eosGroup  = "etl"
)

// eosRun is one consume-transform-produce job: input fed in steps to three
// worker processes, and a disruption while they work.
type eosRun struct {
	t       *testing.T
	brokers []string
	adm     *kadm.Client
	nodes   []*harness.Node
	workers []*txnWorker
}

func (r *eosRun) start(slot int) *txnWorker {
	// Names tell a replacement from the worker it replaced.
	name := fmt.Sprintf("worker-%d#%d", slot, len(r.workers))
	w := startTxnWorker(r.t, name, r.brokers, eosGroup, fmt.Sprintf("%s-%d", eosGroup, slot))
	r.workers = append(r.workers, w)
	return w
}

// waitCommitted waits until the workers together committed at least n
// records.
func (r *eosRun) waitCommitted(n int64, timeout time.Duration) {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for committedTotal(r.workers) < n {
		if time.Now().After(deadline) {
			r.t.Fatalf("workers committed %d of %d records within %v: %s", committedTotal(r.workers), n, timeout, workersProgress(r.workers))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// run starts three workers, feeds the input, calls disrupt once the work
// is under way, and checks that topic out then holds every input exactly
// once for read_committed readers.
func (r *eosRun) run(disrupt func()) {
	t := r.t
	waitTxnCoordinators(t, r.adm, time.Minute, eosGroup+"-0", eosGroup+"-1", eosGroup+"-2")
	for slot := range 3 {
		r.start(slot)
	}
	fed := make(chan error, 1)
	ctx := ctxT(t, 3*time.Minute)
	go func() { fed <- feedInput(ctx, r.brokers, eosInputs, 500, 100*time.Millisecond) }()
	disrupt()
	if err := <-fed; err != nil {
		t.Fatal(err)
	}
	waitConsumed(t, r.adm, eosGroup, 3*time.Minute, func() string { return workersProgress(r.workers) })
	for _, w := range r.workers {
		if !w.exited() {
			w.stop(t)
		}
	}
	t.Logf("workers: %s", workersProgress(r.workers))
	// A worker that gave up while the others finished the job does not
	// fail the test, but what the brokers said then is worth a look.
	for _, w := range r.workers {
		if w.failedOnItsOwn() {
			for _, n := range r.nodes {
				t.Logf("%s failed on its own; node %d output (tail):\n%s", w.name, n.ID, lastLines(n.Output(), 60))
			}
			break
		}
	}
	got := readCommittedAll(t, r.brokers, "out", 6, 2*time.Minute)
	checkTransformedOnce(t, got, eosInputs)

	// The log also holds the aborted attempts; log how many, as evidence
	// that the disruption cut transactions short.
	ends, err := r.adm.ListEndOffsets(ctxT(t, time.Minute), "out")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	t.Logf("topic out: %d offsets for %d committed records (the rest are markers and aborted records)", total, len(got))
}

// Three worker processes run a GroupTransactSession consume-transform-
// produce job over 20,000 records; one is killed with SIGKILL mid-stream
// and a replacement with the same transactional id takes its place. A
// read_committed reader of the output then sees every input exactly once.
func TestTxnExactlyOnceWorkerKilled(t *testing.T) {
	t.Parallel()
	n := txnNode(t, nil)
	adm := admin(t, n.Addr)
	txnTopics(t, adm, 6, 1, nil, "in", "out")
	r := &eosRun{t: t, brokers: []string{n.Addr}, adm: adm, nodes: []*harness.Node{n}}
	r.run(func() {
		r.waitCommitted(4000, 2*time.Minute)
		victim := r.workers[1]
		before := victim.committed.Load()
		victim.kill()
		t.Logf("killed %s after it committed %d records (all workers: %d)", victim.name, before, committedTotal(r.workers))
		time.Sleep(500 * time.Millisecond)
		r.start(1)
		r.waitCommitted(committedTotal(r.workers)+2000, 2*time.Minute)
	})
}

// The same job on three brokers, topics with replication factor 3 and
// min.insync.replicas=2, while the broker coordinating the workers'
// transactions is killed with SIGKILL and later restarted.
func TestTxnExactlyOnceCoordinatorKilled(t *testing.T) {
	t.Parallel()
	props := maps.Clone(txnProps)
	props["broker.session.timeout.ms"] = "4000"
	props["broker.heartbeat.interval.ms"] = "500"
	props["replica.lag.time.max.ms"] = "10000"
	c := harness.NewCluster(t, []string{"broker,controller", "broker,controller", "broker,controller"}, props)
	c.Start()
	logOnFailure(t, c.Nodes...)
	adm := clusterAdmin(t, c)
	txnTopics(t, adm, 6, 3, map[string]*string{"min.insync.replicas": strp("2")}, "in", "out")
	waitFullISR(t, adm, "in")
	waitFullISR(t, adm, "out")

	r := &eosRun{t: t, brokers: c.BootstrapAddrs(), adm: adm, nodes: c.Nodes}
	r.run(func() {
		r.waitCommitted(3000, 2*time.Minute)
		coords := waitTxnCoordinators(t, adm, time.Minute, eosGroup+"-0", eosGroup+"-1", eosGroup+"-2")
		count := map[int32]int{}
		for _, node := range coords {
			count[node]++
		}
		victim := int32(-1)
		for id, k := range count {
			if victim < 0 || k > count[victim] {
				victim = id
			}
		}
		t.Logf("transaction coordinators %v; killing broker %d", count, victim)
		c.Node(int(victim)).Kill()
		// Work goes on while the coordinator is down: its transaction
		// log partitions move to the surviving replicas.
		r.waitCommitted(committedTotal(r.workers)+3000, 2*time.Minute)
		c.Node(int(victim)).Start()
		r.waitCommitted(committedTotal(r.workers)+1000, 2*time.Minute)
	})
	waitFullISR(t, adm, "out")
}
