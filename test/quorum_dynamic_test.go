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

type dynNode struct {
	*harness.Node
	props string
}

// dynamicNode writes a properties file for a node of a dynamic quorum
// found through bootstrap (a controller listener's host:port).
func dynamicNode(t *testing.T, dir string, id int, roles, bootstrap string) *dynNode {
	t.Helper()
	n := harness.NewProcess(t, "")
	n.ID, n.Dir, n.ClusterID = id, filepath.Join(dir, fmt.Sprintf("node%d", id)), testClusterID
	var listeners []string
	if strings.Contains(roles, "broker") {
		n.Addr = fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
		listeners = append(listeners, "PLAINTEXT://"+n.Addr)
	}
	if strings.Contains(roles, "controller") {
		n.CtrlAddr = fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
		listeners = append(listeners, "CONTROLLER://"+n.CtrlAddr)
		if bootstrap == "" {
			bootstrap = n.CtrlAddr
		}
	}
	props := fmt.Sprintf("process.roles=%s\nnode.id=%d\ncontroller.quorum.bootstrap.servers=%s\nlisteners=%s\ncontroller.listener.names=CONTROLLER\nlog.dirs=%s\n",
		roles, id, bootstrap, strings.Join(listeners, ","), n.Dir)
	n.ConfigFile = filepath.Join(dir, fmt.Sprintf("node%d.properties", id))
	if err := os.WriteFile(n.ConfigFile, []byte(props), 0o644); err != nil {
		t.Fatal(err)
	}
	return &dynNode{Node: n, props: props}
}

func (n *dynNode) format(t *testing.T, flags ...string) {
	t.Helper()
	args := append([]string{"storage", "format", "--config", n.ConfigFile, "--cluster-id", testClusterID}, flags...)
	if out, code := harness.Run(t, args...); code != 0 {
		t.Fatalf("format node %d: exit %d\n%s", n.ID, code, out)
	}
}

func (n *dynNode) start(t *testing.T) {
	t.Helper()
	n.StartArgs("--config", n.ConfigFile)
	if n.Addr != "" {
		n.WaitServing(60 * time.Second)
		return
	}
	waitAnswers(t, n.CtrlAddr, 60*time.Second)
}

// dirID is the directory.id of the node's (metadata) log dir.
func (n *dynNode) dirID(t *testing.T) [16]byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(n.Dir, "meta.properties"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "directory.id="); ok {
			b, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(v))
			if err != nil || len(b) != 16 {
				t.Fatalf("directory.id %q", v)
			}
			return [16]byte(b)
		}
	}
	t.Fatalf("no directory.id in %s", raw)
	return [16]byte{}
}

func waitAnswers(t *testing.T, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := harness.Request(addr, kmsg.NewPtrApiVersionsRequest(), 2*time.Second); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s does not answer ApiVersions after %v", addr, timeout)
}

// describeQuorumAt sends DescribeQuorum v2 to addr (a broker forwards it).
func describeQuorumAt(addr string) (*kmsg.DescribeQuorumResponse, error) {
	req := kmsg.NewPtrDescribeQuorumRequest()
	req.SetVersion(2)
	rt := kmsg.NewDescribeQuorumRequestTopic()
	rt.Topic = "__cluster_metadata"
	rt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
	req.Topics = append(req.Topics, rt)
	raw, err := harness.Request(addr, req, 10*time.Second)
	if err != nil {
		return nil, err
	}
	resp := raw.(*kmsg.DescribeQuorumResponse)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return nil, fmt.Errorf("unexpected DescribeQuorum answer %+v", resp)
	}
	if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 {
		return nil, fmt.Errorf("DescribeQuorum partition error %d", p.ErrorCode)
	}
	return resp, nil
}

// waitVoters waits until DescribeQuorum through addr lists exactly want as
// voters, and returns the answer.
func waitVoters(t *testing.T, addr string, want []int32) *kmsg.DescribeQuorumResponse {
	t.Helper()
	var last string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := describeQuorumAt(addr)
		if err != nil {
			last = err.Error()
			continue
		}
		var got []int32
		for _, v := range resp.Topics[0].Partitions[0].CurrentVoters {
			got = append(got, v.ReplicaID)
		}
		slices.Sort(got)
		if slices.Equal(got, want) {
			return resp
		}
		last = fmt.Sprintf("voters %v", got)
	}
	t.Fatalf("voters never became %v through %s: %s", want, addr, last)
	return nil
}

func produceAcked(t *testing.T, addr, topic string, values ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.DefaultProduceTopic(topic),
		kgo.AllowAutoTopicCreation(), kgo.RecordRetries(1000), kgo.RetryTimeout(90*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	for _, v := range values {
		if err := cl.ProduceSync(ctx, kgo.StringRecord(v)).FirstErr(); err != nil {
			t.Fatalf("produce %q to %s: %v", v, topic, err)
		}
	}
}

func consumeValues(t *testing.T, addr, topic string, n int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got []string
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %v of %d records from %s", got, n, topic)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got
}

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

func waitExit(n *harness.Node, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if !n.Running() {
			return true
		}
	}
	return false
}

// A static quorum (controller.quorum.voters) cannot change its voters:
// AddRaftVoter and RemoveRaftVoter answer UNSUPPORTED_VERSION, as Kafka's
// controllers do at kraft.version 0.
func TestStaticQuorumRefusesVoterChanges(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, nil)
	n.Start()
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
