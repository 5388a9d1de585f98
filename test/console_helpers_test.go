package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// consoleJSON GETs a console endpoint and decodes its JSON answer into
// out; it returns the status.
func consoleJSON(t *testing.T, base, path string, out any) int {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("GET %s: Content-Type %q, want application/json (%d %s)", path, ct, resp.StatusCode, body)
	}
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("GET %s: %v in %s", path, err, body)
		}
	}
	return resp.StatusCode
}

// consoleScene is a node with what every console page shows: topics (one
// with a topic config), records of every kind, a running group with lag
// and an open transaction.
type consoleScene struct {
	node     *harness.Node
	base     string
	adm      *kadm.Client
	cl       *kgo.Client // produces and administers
	group    *kgo.Client // the running group's member
	txn      *kgo.Client // holds the open transaction
	baseTime time.Time
}

const (
	sceneTopic  = "orders"
	sceneGroup  = "console-group"
	sceneTxnID  = "console-txn"
	scenePerPar = 10 // records produced to each partition
	sceneBehind = 4  // the group commits this far behind the end of each partition
)

func newConsoleScene(t *testing.T, ctx context.Context) *consoleScene {
	t.Helper()
	httpAddr := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	n := harness.SingleNode(t, map[string]string{"http.listener": httpAddr, "group.initial.rebalance.delay.ms": "0"})
	n.Start()
	t.Cleanup(func() { n.Stop() })
	s := &consoleScene{node: n, base: "http://" + httpAddr, baseTime: time.UnixMilli(time.Now().Add(-time.Hour).UnixMilli())}
	waitReady(t, s.base)
	var err error
	if s.cl, err = kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.RecordPartitioner(kgo.ManualPartitioner())); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.cl.Close)
	s.adm = kadm.NewClient(s.cl)
	retention := "3600000"
	if _, err := s.adm.CreateTopic(ctx, 3, 1, map[string]*string{"retention.ms": &retention}, sceneTopic); err != nil {
		t.Fatal(err)
	}
	if _, err := s.adm.CreateTopic(ctx, 1, 1, nil, "empty"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < scenePerPar; i++ {
		ts := s.baseTime.Add(time.Duration(i) * time.Second)
		recs := []*kgo.Record{
			{Partition: 0, Timestamp: ts, Key: []byte(fmt.Sprintf("k-%d", i)), Value: []byte(fmt.Sprintf(`{"n":%d,"tags":["a","b"]}`, i)),
				Headers: []kgo.RecordHeader{{Key: "source", Value: []byte("console-test")}}},
			{Partition: 1, Timestamp: ts, Value: []byte{0x00, 0xff, byte(i)}},
			{Partition: 2, Timestamp: ts, Value: []byte(fmt.Sprintf("line %d", i))},
		}
		for _, r := range recs {
			r.Topic = sceneTopic
		}
		if err := s.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	s.startGroup(t, ctx)
	s.openTransaction(t, ctx)
	return s
}

// startGroup runs a member that consumes everything and commits
// sceneBehind short of each partition's end, then keeps heartbeating.
func (s *consoleScene) startGroup(t *testing.T, ctx context.Context) {
	t.Helper()
	var err error
	s.group, err = kgo.NewClient(kgo.SeedBrokers(s.node.Addr), kgo.ConsumerGroup(sceneGroup), kgo.ConsumeTopics(sceneTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.group.Close)
	for got := 0; got < 3*scenePerPar; {
		fs := s.group.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("group consumed %d of %d records", got, 3*scenePerPar)
		}
		got += fs.NumRecords()
	}
	commit := map[string]map[int32]kgo.EpochOffset{sceneTopic: {}}
	for p := int32(0); p < 3; p++ {
		commit[sceneTopic][p] = kgo.EpochOffset{Epoch: -1, Offset: scenePerPar - sceneBehind}
	}
	var cerr error
	s.group.CommitOffsetsSync(ctx, commit, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) { cerr = err })
	if cerr != nil {
		t.Fatal(cerr)
	}
}

// openTransaction writes one record to partition 1 in a transaction it
// leaves open.
func (s *consoleScene) openTransaction(t *testing.T, ctx context.Context) {
	t.Helper()
	var err error
	s.txn, err = kgo.NewClient(kgo.SeedBrokers(s.node.Addr), kgo.TransactionalID(sceneTxnID), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.TransactionTimeout(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.txn.Close)
	if err := s.txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := s.txn.ProduceSync(ctx, &kgo.Record{Topic: sceneTopic, Partition: 1, Value: []byte("in flight")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
}
