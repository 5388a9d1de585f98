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

// Helpers of the dynamic quorum's process tests (quorum_dynamic_test.go).

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

// set adds a property to the node's file.
func (n *dynNode) set(t *testing.T, key, value string) {
	t.Helper()
	n.props += key + "=" + value + "\n"
	if err := os.WriteFile(n.ConfigFile, []byte(n.props), 0o644); err != nil {
		t.Fatal(err)
	}
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
func (n *dynNode) dirID(t *testing.T) [16]byte { return dirIDIn(t, n.Dir) }

// dirIDIn reads directory.id from dir's meta.properties.
func dirIDIn(t *testing.T, dir string) [16]byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "meta.properties"))
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

func waitExit(n *harness.Node, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if !n.Running() {
			return true
		}
	}
	return false
}
