package test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// mountTmpfs mounts a tmpfs of size bytes at a fresh directory and
// unmounts it when the test ends. It needs root.
func mountTmpfs(t *testing.T, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: mounting a small tmpfs to fill needs root")
	}
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	// Registered after TempDir's removal, so it runs before it.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes path until the file system has no space left.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", path, err)
			}
			break
		}
	}
	// The last pages too, so that even a small append finds none.
	for {
		if _, err := f.Write(chunk[:512]); err != nil {
			return
		}
	}
}

// createTopicRaw sends CreateTopics for one topic and returns its result.
func createTopicRaw(t *testing.T, addr, topic string) kmsg.CreateTopicsResponseTopic {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.SetVersion(7)
	req.TimeoutMillis = 20000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, 1, 1
	req.Topics = append(req.Topics, rt)
	resp, err := harness.Request(addr, req, 40*time.Second)
	if err != nil {
		t.Fatalf("CreateTopics %s: %v", topic, err)
	}
	return resp.(*kmsg.CreateTopicsResponse).Topics[0]
}

// The metadata log has a 16 MiB tmpfs of its own (metadata.log.dir) that
// fills up: the node refuses metadata changes with KAFKA_STORAGE_ERROR and a message
// naming the full disk, keeps serving fetches of what it has, and accepts
// changes again by itself once space is freed. Stopped and started again
// on the full disk, it stays up and comes back once space is freed.
func TestFullMetadataDiskRefusesChangesAndRecovers(t *testing.T) {
	t.Parallel()
	disk := mountTmpfs(t, 16<<20)
	httpAddr := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	n := harness.SingleNode(t, map[string]string{"metadata.log.dir": filepath.Join(disk, "meta"), "http.listener": httpAddr})
	n.Start()
	fullGauge := func() float64 {
		v, ok := value(scrape(t, "http://"+httpAddr), "spool_metadata_log_full", nil)
		if !ok {
			t.Fatal("no spool_metadata_log_full on /metrics")
		}
		return v
	}
	if v := fullGauge(); v != 0 {
		t.Fatalf("spool_metadata_log_full %v before the disk filled", v)
	}
	if r := createTopicRaw(t, n.Addr, "before"); r.ErrorCode != 0 {
		t.Fatalf("create before: %v", kerr.ErrorForCode(r.ErrorCode))
	}
	produceN(t, n.Addr, "before", 0, 100)

	filler := filepath.Join(disk, "filler")
	fillDisk(t, filler)
	// An append fits into the segment's last page until it is full: create
	// topics until one needs a page the disk does not have.
	var r kmsg.CreateTopicsResponseTopic
	for i := 0; i < 500; i++ {
		if r = createTopicRaw(t, n.Addr, fmt.Sprintf("during-%d", i)); r.ErrorCode != 0 {
			break
		}
	}
	if r.ErrorCode != kerr.KafkaStorageError.Code || r.ErrorMessage == nil || !strings.Contains(*r.ErrorMessage, "out of space") {
		t.Fatalf("create on a full disk: %v %v, want KAFKA_STORAGE_ERROR naming the full disk", kerr.ErrorForCode(r.ErrorCode), strp2(r.ErrorMessage))
	}
	if !n.Running() {
		t.Fatalf("node exited on a full metadata disk:\n%s", tail(n.Output(), 4000))
	}
	waitOutput(t, n, "metadata log dir is out of space")
	if v := fullGauge(); v != 1 {
		t.Fatalf("spool_metadata_log_full %v on a full disk, want 1", v)
	}
	if code, body := httpGet(t, "http://"+httpAddr+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "out of space") {
		t.Fatalf("/readyz on a full metadata disk: %d %q, want 503 naming the full disk", code, body)
	}
	consumeAll(t, n.Addr, "before", 100, time.Minute, func(*kgo.Record) {})

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitCreated(t, n.Addr, "after")
	produceN(t, n.Addr, "after", 0, 50)
	waitOutput(t, n, "metadata log dir has space again")
	if v := fullGauge(); v != 0 {
		t.Fatalf("spool_metadata_log_full %v once space was freed", v)
	}
	waitFor(t, 60*time.Second, func() bool { code, _ := httpGet(t, "http://"+httpAddr+"/readyz"); return code == http.StatusOK })

	// Start again on a full disk: the node stays up, then serves once
	// space is freed.
	if err := n.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	fillDisk(t, filler)
	n.StartArgs("--config", n.ConfigFile, "--cluster-id", n.ClusterID)
	waitOutput(t, n, "metadata log dir is out of space")
	time.Sleep(3 * time.Second)
	if !n.Running() {
		t.Fatalf("node exited on a full disk:\n%s", tail(n.Output(), 4000))
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	n.WaitServing(60 * time.Second)
	consumeAll(t, n.Addr, "before", 100, time.Minute, func(*kgo.Record) {})
	consumeAll(t, n.Addr, "after", 50, time.Minute, func(*kgo.Record) {})
}

// waitOutput waits until the node has printed want, failing if it exits.
func waitOutput(t *testing.T, n *harness.Node, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(n.Output(), want) {
		if !n.Running() {
			t.Fatalf("node exited:\n%s", tail(n.Output(), 4000))
		}
		if time.Now().After(deadline) {
			t.Fatalf("node never printed %q:\n%s", want, tail(n.Output(), 4000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitCreated retries CreateTopics until the topic is created.
func waitCreated(t *testing.T, addr, topic string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := createTopicRaw(t, addr, topic)
		if r.ErrorCode == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("create %s after space was freed: %v %s", topic, kerr.ErrorForCode(r.ErrorCode), strp2(r.ErrorMessage))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func strp2(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// The data has a 16 MiB tmpfs and the metadata log a disk of its own: when
// the data disk fills, produce answers KAFKA_STORAGE_ERROR, everything
// acknowledged stays readable, metadata changes go on, and produce works
// again once space is freed.
func TestFullDataDiskLeavesTheMetadataLogAlone(t *testing.T) {
	t.Parallel()
	disk := mountTmpfs(t, 16<<20)
	n := harness.SingleNode(t, map[string]string{"log.dirs": filepath.Join(disk, "data"),
		"metadata.log.dir": filepath.Join(t.TempDir(), "meta")})
	n.Start()
	if r := createTopicRaw(t, n.Addr, "full"); r.ErrorCode != 0 {
		t.Fatalf("create: %v", kerr.ErrorForCode(r.ErrorCode))
	}
	produceN(t, n.Addr, "full", 0, 100)
	filler := filepath.Join(disk, "filler")
	fillDisk(t, filler)
	// An append fits into the segment's last page until it is full.
	var code int16
	for i := 0; i < 500 && code == 0; i++ {
		code = produceOne(t, n.Addr, "full", make([]byte, 1000))
	}
	if code != kerr.KafkaStorageError.Code {
		t.Fatalf("produce on a full data disk: %v, want KAFKA_STORAGE_ERROR", kerr.ErrorForCode(code))
	}
	consumeAll(t, n.Addr, "full", 100, time.Minute, func(*kgo.Record) {})
	adm := admin(t, n.Addr)
	ctx := ctxT(t, time.Minute)
	res, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: strp("3600000")}}, "full")
	if err == nil && len(res) == 1 {
		err = res[0].Err
	}
	if err != nil {
		t.Fatalf("a metadata change with the data disk full: %v", err)
	}
	if !n.Running() || strings.Contains(n.Output(), "metadata log dir is out of space") {
		t.Fatalf("a full data disk reached the metadata log:\n%s", tail(n.Output(), 4000))
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	produceN(t, n.Addr, "full", 100, 50)
}

// produceOne sends one acks=all record (Produce v9) and returns the
// partition's error code.
func produceOne(t *testing.T, addr, topic string, value []byte) int16 {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	req.Acks, req.TimeoutMillis = -1, 10000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = rawBatch(time.Now().UnixMilli(), rawRecord{value: value})
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	raw, err := harness.Request(addr, req, 30*time.Second)
	if err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
	return raw.(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode
}

// One of three controllers has its metadata log on a 16 MiB tmpfs that
// fills: the quorum goes on without it (topics are still created through
// any broker), the full node says so and stays up, and once space is freed
// it catches up with the quorum by itself.
func TestFullMetadataDiskOnOneControllerLeavesTheQuorumWorking(t *testing.T) {
	t.Parallel()
	c := harness.NewCluster(t, []string{"broker,controller", "broker,controller", "broker,controller"}, nil)
	disk := mountTmpfs(t, 16<<20)
	full := c.Node(1)
	full.Props["metadata.log.dir"] = filepath.Join(disk, "meta")
	full.Rewrite()
	c.Start()
	adm := clusterAdmin(t, c)
	ctx := ctxT(t, 4*time.Minute)
	filler := filepath.Join(disk, "filler")
	fillDisk(t, filler)
	for i := 0; i < 60; i++ {
		name := fmt.Sprintf("q-%d", i)
		res, err := adm.CreateTopics(ctx, 1, 3, nil, name)
		if err == nil {
			err = res[name].Err
		}
		// A request in flight when the active controller stalls is failed
		// with NOT_CONTROLLER though its record may still commit, as in any
		// controller failover: the client's retry then finds the topic.
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			t.Fatalf("create %s with one controller's metadata disk full: %v", name, err)
		}
	}
	waitOutput(t, full, "metadata log dir is out of space")
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, full, "metadata log dir has space again")
	// The node's controller catches up: the leader reports its log end at
	// the high watermark.
	deadline := time.Now().Add(60 * time.Second)
	for {
		hw, end := voterProgress(t, c, 1)
		if end >= hw && hw > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("controller 1 at %d, high watermark %d, a minute after space was freed", end, hw)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// voterProgress asks the active controller for the metadata log's high
// watermark and voter id's log end offset.
func voterProgress(t *testing.T, c *harness.Cluster, id int32) (hw, end int64) {
	t.Helper()
	for _, n := range c.Nodes {
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
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
			continue
		}
		p := resp.Topics[0].Partitions[0]
		for _, v := range p.CurrentVoters {
			if v.ReplicaID == id {
				return p.HighWatermark, v.LogEndOffset
			}
		}
	}
	return -1, -1
}
