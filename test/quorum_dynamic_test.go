package test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// The dynamic controller quorum (KIP-853) through the front door: real
// processes formatted with spool storage format --standalone and
// --no-initial-controllers, voters added and removed with spool cluster
// metadata-quorum add-controller/remove-controller, and the quorum read
// back with DescribeQuorum v2.

// One controller formatted --standalone grows to three with add-controller
// (through a controller and through a broker), loses the original (the
// broker, which knew only the original as its bootstrap server, keeps
// serving), drops it with remove-controller, and keeps that membership
// across restarts of the remaining controllers.
func TestDynamicQuorumGrowFailoverShrinkRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c1 := dynamicNode(t, dir, 1, "controller", "")
	c2 := dynamicNode(t, dir, 2, "controller", c1.CtrlAddr)
	c3 := dynamicNode(t, dir, 3, "controller", c1.CtrlAddr)
	b4 := dynamicNode(t, dir, 4, "broker", c1.CtrlAddr)

	if out, code := harness.Run(t, "storage", "format", "--config", c2.ConfigFile, "--cluster-id", testClusterID); code != 2 || !strings.Contains(out, "--no-initial-controllers") {
		t.Fatalf("format of a dynamic controller without a quorum flag: exit %d\n%s", code, out)
	}
	c1.format(t, "--standalone")
	c2.format(t, "--no-initial-controllers")
	c3.format(t, "-N")
	b4.format(t)
	for _, n := range []*dynNode{c1, c2, c3, b4} {
		n.start(t)
	}
	produceAcked(t, b4.Addr, "before", "a")

	if out, code := harness.Run(t, "cluster", "metadata-quorum", "add-controller", "--config", c2.ConfigFile, "--bootstrap-controller", c1.CtrlAddr, "--timeout", "60s"); code != 0 {
		t.Fatalf("add controller 2: exit %d\n%s", code, out)
	}
	if out, code := harness.Run(t, "--bootstrap-server", b4.Addr, "cluster", "metadata-quorum", "add-controller", "--config", c3.ConfigFile, "--timeout", "60s"); code != 0 {
		t.Fatalf("add controller 3 through the broker: exit %d\n%s", code, out)
	}
	if out, code := harness.Run(t, "--bootstrap-server", b4.Addr, "cluster", "metadata-quorum", "add-controller", "--config", c3.ConfigFile); code == 0 || !strings.Contains(out, "DUPLICATE_VOTER") {
		t.Fatalf("adding a voter twice: exit %d\n%s", code, out)
	}
	resp := waitVoters(t, b4.Addr, []int32{1, 2, 3})
	dirs := map[int32][16]byte{1: c1.dirID(t), 2: c2.dirID(t), 3: c3.dirID(t)}
	for _, v := range resp.Topics[0].Partitions[0].CurrentVoters {
		if v.ReplicaDirectoryID != dirs[v.ReplicaID] {
			t.Fatalf("voter %d directory id %x, meta.properties says %x", v.ReplicaID, v.ReplicaDirectoryID, dirs[v.ReplicaID])
		}
	}
	endpoints := map[int32]string{}
	for _, n := range resp.Nodes {
		for _, l := range n.Listeners {
			endpoints[n.NodeID] = fmt.Sprintf("%s://%s:%d", l.Name, l.Host, l.Port)
		}
	}
	if endpoints[3] != "CONTROLLER://"+c3.CtrlAddr || len(endpoints) != 3 {
		t.Fatalf("DescribeQuorum nodes %v", endpoints)
	}

	// A controller that is not running cannot catch up: the change times
	// out and the learner it became is removed again.
	c5 := dynamicNode(t, dir, 5, "controller", c1.CtrlAddr)
	c5.format(t, "--no-initial-controllers")
	if out, code := harness.Run(t, "--bootstrap-server", b4.Addr, "cluster", "metadata-quorum", "add-controller", "--config", c5.ConfigFile, "--timeout", "8s"); code == 0 || !strings.Contains(out, "REQUEST_TIMED_OUT") {
		t.Fatalf("adding a controller that is not running: exit %d\n%s", code, out)
	}
	if resp := waitVoters(t, b4.Addr, []int32{1, 2, 3}); len(resp.Topics[0].Partitions[0].Observers) != 0 {
		t.Fatalf("observers after a failed add: %+v", resp.Topics[0].Partitions[0].Observers)
	}

	c1.Kill()
	produceAcked(t, b4.Addr, "after-failover", "b", "c")
	if out, code := harness.Run(t, "--bootstrap-server", b4.Addr, "cluster", "metadata-quorum", "remove-controller", "--controller-id", "1", "--timeout", "60s"); code != 0 {
		t.Fatalf("remove controller 1: exit %d\n%s", code, out)
	}
	waitVoters(t, b4.Addr, []int32{2, 3})

	for _, n := range []*dynNode{c2, c3} {
		if err := n.Stop(); err != nil {
			t.Fatalf("stop node %d: %v", n.ID, err)
		}
	}
	for _, n := range []*dynNode{c2, c3} {
		n.start(t)
	}
	waitVoters(t, b4.Addr, []int32{2, 3})
	produceAcked(t, b4.Addr, "after-failover", "d")
	if got := consumeValues(t, b4.Addr, "after-failover", 3); !slices.Equal(got, []string{"b", "c", "d"}) {
		t.Fatalf("consumed %v", got)
	}
}

// Kafka 4.0's shipped config/server.properties (combined mode, dynamic
// quorum) formats with --standalone and starts unchanged but for its
// ports and log dir, as a packager's smoke test would change them.
func TestKafkaServerPropertiesStartsUnchanged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	port, cport := harness.FreePort(t), harness.FreePort(t)
	raw, err := os.ReadFile("testdata/kafka-4.0-server.properties")
	if err != nil {
		t.Fatal(err)
	}
	props := strings.NewReplacer(":9092", fmt.Sprintf(":%d", port), ":9093", fmt.Sprintf(":%d", cport),
		"/tmp/kraft-combined-logs", filepath.Join(dir, "kraft-combined-logs")).Replace(string(raw))
	file := filepath.Join(dir, "server.properties")
	if err := os.WriteFile(file, []byte(props), 0o644); err != nil {
		t.Fatal(err)
	}
	n := harness.NewProcess(t, fmt.Sprintf("localhost:%d", port))
	n.StartArgs("--config", file)
	if !waitExit(n, 30*time.Second) || !strings.Contains(n.Output(), "--standalone") {
		t.Fatalf("an unformatted dynamic controller must refuse to start and name the format flags:\n%s", n.Output())
	}
	if out, code := harness.Run(t, "storage", "format", "--standalone", "-t", testClusterID, "-c", file); code != 0 {
		t.Fatalf("format --standalone: exit %d\n%s", code, out)
	}
	n.StartArgs("--config", file)
	n.WaitServing(60 * time.Second)
	produceAcked(t, n.Addr, "quickstart-events", "hello")
	if got := consumeValues(t, n.Addr, "quickstart-events", 1); got[0] != "hello" {
		t.Fatalf("consumed %v", got)
	}
	resp := waitVoters(t, fmt.Sprintf("localhost:%d", cport), []int32{1})
	if v := resp.Topics[0].Partitions[0].CurrentVoters[0]; v.ReplicaDirectoryID == [16]byte{} {
		t.Fatal("the standalone voter has no directory id")
	}
}

// A static quorum (controller.quorum.voters) cannot change its voters:
// AddRaftVoter and RemoveRaftVoter answer UNSUPPORTED_VERSION, as Kafka's
// controllers do at kraft.version 0. Bootstrap servers set beside static
// voters are not used, and the log says so.
func TestStaticQuorumRefusesVoterChanges(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, map[string]string{"controller.quorum.bootstrap.servers": "127.0.0.1:1"})
	n.Start()
	if !strings.Contains(n.Output(), "controller.quorum.bootstrap.servers is not used") {
		t.Fatalf("static voters and bootstrap servers together: no warning\n%s", n.Output())
	}
	add := kmsg.NewPtrAddRaftVoterRequest()
	add.VoterID, add.TimeoutMillis = 2, 5000
	l := kmsg.NewAddRaftVoterRequestListener()
	l.Name, l.Host, l.Port = "CONTROLLER", "127.0.0.1", 1
	add.Listeners = append(add.Listeners, l)
	for _, addr := range []string{n.CtrlAddr, n.Addr} {
		raw, err := harness.Request(addr, add, 40*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if r := raw.(*kmsg.AddRaftVoterResponse); r.ErrorCode != 35 || r.ErrorMessage == nil || !strings.Contains(*r.ErrorMessage, "static") {
			t.Fatalf("AddRaftVoter at %s on a static quorum: %+v", addr, r)
		}
	}
	rm := kmsg.NewPtrRemoveRaftVoterRequest()
	rm.VoterID = 1
	raw, err := harness.Request(n.CtrlAddr, rm, 40*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if r := raw.(*kmsg.RemoveRaftVoterResponse); r.ErrorCode != 35 {
		t.Fatalf("RemoveRaftVoter on a static quorum: %+v", r)
	}
}

// A voter that restarts on another controller port tells the quorum
// (UpdateRaftVoter, as Kafka's voters do at start-up): DescribeQuorum
// shows the new endpoint, and once the original controller is gone the
// two others still form a majority, which they can only do by reaching
// the moved one at its new address.
func TestDynamicQuorumVoterMovesAddress(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c1 := dynamicNode(t, dir, 1, "controller", "")
	c2 := dynamicNode(t, dir, 2, "controller", c1.CtrlAddr)
	c3 := dynamicNode(t, dir, 3, "controller", c1.CtrlAddr)
	b4 := dynamicNode(t, dir, 4, "broker", c1.CtrlAddr)
	c1.format(t, "--standalone")
	c2.format(t, "-N")
	c3.format(t, "-N")
	b4.format(t)
	for _, n := range []*dynNode{c1, c2, c3, b4} {
		n.start(t)
	}
	for _, n := range []*dynNode{c2, c3} {
		if out, code := harness.Run(t, "--bootstrap-server", b4.Addr, "cluster", "metadata-quorum", "add-controller", "--config", n.ConfigFile, "--timeout", "60s"); code != 0 {
			t.Fatalf("add controller %d: exit %d\n%s", n.ID, code, out)
		}
	}
	waitVoters(t, b4.Addr, []int32{1, 2, 3})

	if err := c3.Stop(); err != nil {
		t.Fatal(err)
	}
	moved := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	c3.props = strings.ReplaceAll(c3.props, "CONTROLLER://"+c3.CtrlAddr, "CONTROLLER://"+moved)
	c3.CtrlAddr = moved
	if err := os.WriteFile(c3.ConfigFile, []byte(c3.props), 0o644); err != nil {
		t.Fatal(err)
	}
	c3.start(t)
	var last string
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		resp, err := describeQuorumAt(b4.Addr)
		if err == nil {
			last = fmt.Sprint(resp.Nodes)
			if slices.ContainsFunc(resp.Nodes, func(n kmsg.DescribeQuorumResponseNode) bool {
				return n.NodeID == 3 && len(n.Listeners) == 1 && fmt.Sprintf("%s:%d", n.Listeners[0].Host, n.Listeners[0].Port) == moved
			}) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node 3's endpoint never became %s: %s\n%s", moved, last, c3.Output())
		}
	}
	c1.Kill()
	produceAcked(t, b4.Addr, "moved", "x")
}

// Three controllers formatted with --initial-controllers take a fourth
// and lose one (the active controller) while an acks=all producer runs:
// the quorum never loses its majority, so every acknowledged record is
// read back.
func TestDynamicQuorumChangesUnderLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c1 := dynamicNode(t, dir, 1, "controller", "")
	c2 := dynamicNode(t, dir, 2, "controller", c1.CtrlAddr)
	c3 := dynamicNode(t, dir, 3, "controller", c1.CtrlAddr)
	c5 := dynamicNode(t, dir, 5, "controller", c1.CtrlAddr+","+c2.CtrlAddr)
	b4 := dynamicNode(t, dir, 4, "broker", c1.CtrlAddr+","+c2.CtrlAddr+","+c3.CtrlAddr)
	var initial []string
	for _, n := range []*dynNode{c1, c2, c3} {
		id := make([]byte, 16)
		id[0], id[15] = byte(n.ID), 0x5a
		initial = append(initial, fmt.Sprintf("%d@%s:%s", n.ID, n.CtrlAddr, base64.RawURLEncoding.EncodeToString(id)))
	}
	for _, n := range []*dynNode{c1, c2, c3} {
		n.format(t, "--initial-controllers", strings.Join(initial, ","))
	}
	c5.format(t, "--no-initial-controllers")
	b4.format(t)
	for _, n := range []*dynNode{c1, c2, c3, c5, b4} {
		n.start(t)
	}
	resp := waitVoters(t, b4.Addr, []int32{1, 2, 3})
	for _, v := range resp.Topics[0].Partitions[0].CurrentVoters {
		if v.ReplicaDirectoryID[0] != byte(v.ReplicaID) || v.ReplicaDirectoryID != dirIDIn(t, filepath.Join(dir, fmt.Sprintf("node%d", v.ReplicaID))) {
			t.Fatalf("voter %d has directory id %x, not the one --initial-controllers gave", v.ReplicaID, v.ReplicaDirectoryID)
		}
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(b4.Addr), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.DefaultProduceTopic("load"),
		kgo.AllowAutoTopicCreation(), kgo.RecordRetries(1000), kgo.RetryTimeout(90*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	stop := make(chan struct{})
	acked := make(chan []string, 1)
	go func() {
		var ok []string
		for i := 0; ; i++ {
			select {
			case <-stop:
				acked <- ok
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			v := fmt.Sprint(i)
			if cl.ProduceSync(ctx, kgo.StringRecord(v)).FirstErr() == nil {
				ok = append(ok, v)
			}
			cancel()
		}
	}()
	time.Sleep(time.Second)
	if out, code := harness.Run(t, "--bootstrap-server", b4.Addr, "cluster", "metadata-quorum", "add-controller", "--config", c5.ConfigFile, "--timeout", "60s"); code != 0 {
		t.Fatalf("add controller 5: exit %d\n%s", code, out)
	}
	leader := waitVoters(t, b4.Addr, []int32{1, 2, 3, 5}).Topics[0].Partitions[0].LeaderID
	if out, code := harness.Run(t, "--bootstrap-server", b4.Addr, "cluster", "metadata-quorum", "remove-controller", "--controller-id", fmt.Sprint(leader), "--timeout", "60s"); code != 0 {
		t.Fatalf("remove the active controller %d: exit %d\n%s", leader, code, out)
	}
	var rest []int32
	for _, id := range []int32{1, 2, 3, 5} {
		if id != leader {
			rest = append(rest, id)
		}
	}
	waitVoters(t, b4.Addr, rest)
	time.Sleep(time.Second)
	close(stop)
	ok := <-acked
	if len(ok) < 10 {
		t.Fatalf("only %d records acknowledged while the quorum changed", len(ok))
	}
	got := consumeValues(t, b4.Addr, "load", len(ok))
	have := map[string]bool{}
	for _, v := range got {
		have[v] = true
	}
	for _, v := range ok {
		if !have[v] {
			t.Fatalf("acknowledged record %s lost (%d acknowledged, %d read)", v, len(ok), len(got))
		}
	}
}

// A controller added after the leader compacted its log into a snapshot
// catches up by installing the snapshot (fetched from the leader, which
// it found through the bootstrap servers), and both controllers keep the
// membership, which snapshots now carry, across a restart.
func TestDynamicQuorumLearnerInstallsSnapshot(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c1 := dynamicNode(t, dir, 1, "broker,controller", "")
	c2 := dynamicNode(t, dir, 2, "controller", c1.CtrlAddr)
	for _, n := range []*dynNode{c1, c2} {
		n.set(t, "metadata.log.max.record.bytes.between.snapshots", "2048")
	}
	c1.format(t, "--standalone")
	c2.format(t, "--no-initial-controllers")
	c1.start(t)
	adm := admin(t, c1.Addr)
	ctx := ctxT(t, 2*time.Minute)
	want := map[string]int{}
	for i := 0; i < 40; i++ {
		name := fmt.Sprintf("dyn-snap-%02d", i)
		if _, err := adm.CreateTopics(ctx, 1, 1, nil, name); err != nil {
			t.Fatal(err)
		}
		want[name] = 1
	}
	for deadline := time.Now().Add(30 * time.Second); !hasSnapshot(t, filepath.Join(c1.Dir, "__cluster_metadata-0")); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot written\n%s", c1.Output())
		}
	}
	c2.start(t)
	if out, code := harness.Run(t, "cluster", "metadata-quorum", "add-controller", "--config", c2.ConfigFile, "--bootstrap-controller", c1.CtrlAddr, "--timeout", "60s"); code != 0 {
		t.Fatalf("add controller 2: exit %d\n%s\n%s", code, out, c2.Output())
	}
	waitVoters(t, c1.Addr, []int32{1, 2})
	if !strings.Contains(c2.Output(), "installed metadata snapshot from the leader") {
		t.Fatalf("controller 2 did not catch up from a snapshot:\n%s", c2.Output())
	}
	for _, n := range []*dynNode{c1, c2} {
		if err := n.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []*dynNode{c2, c1} {
		n.StartArgs("--config", n.ConfigFile)
	}
	c1.WaitServing(60 * time.Second)
	waitVoters(t, c1.Addr, []int32{1, 2})
	wantTopics(t, admin(t, c1.Addr), want)
}
