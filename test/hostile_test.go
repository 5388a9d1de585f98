package test

import (
	"encoding/binary"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"spool/controller/metadata"
	"spool/test/harness"
)

// frame prefixes body (a request header and body) with its length.
func frame(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func header(key, version int16, flexible bool) []byte {
	b := kbin.AppendInt16(nil, key)
	b = kbin.AppendInt16(b, version)
	b = kbin.AppendInt32(b, 1)
	b = kbin.AppendString(b, "hostile")
	if flexible {
		b = append(b, 0)
	}
	return b
}

// hugeTagApiVersions claims 2^32-1 tagged fields in 1 KiB.
func hugeTagApiVersions() []byte {
	b := header(18, 3, true)
	b = kbin.AppendCompactString(b, "a")
	b = kbin.AppendCompactString(b, "1")
	b = kbin.AppendUvarint(b, 1<<32-1)
	for len(b) < 1024 {
		b = append(b, 0xff)
	}
	return frame(b)
}

// emptyTopicsProduce is a 16 MiB flexible Produce of 5.6 M empty topics.
func emptyTopicsProduce() []byte {
	b := header(0, 9, true)
	b = kbin.AppendCompactNullableString(b, nil)
	b = kbin.AppendInt16(b, 1)
	b = kbin.AppendInt32(b, 1000)
	n := (16<<20 - len(b) - 8) / 3
	b = kbin.AppendCompactArrayLen(b, n)
	for range n {
		b = append(b, 1, 1, 0)
	}
	return frame(append(b, 0))
}

// emptyResourcesDescribeConfigs is a 16 MiB DescribeConfigs of 4 M empty
// resources (4 bytes each on the wire, a 64-byte struct each decoded).
func emptyResourcesDescribeConfigs() []byte {
	b := header(32, 4, true)
	n := (16<<20 - len(b) - 8) / 4
	b = kbin.AppendCompactArrayLen(b, n)
	for range n {
		b = append(b, 2, 1, 0, 0)
	}
	return frame(append(b, 0, 0, 0))
}

// sendUntilClosed writes msg and reports whether the broker then closed
// the connection within timeout.
func sendUntilClosed(addr string, msg []byte, timeout time.Duration) bool {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	c.Write(msg)
	_, err = io.Copy(io.Discard, c)
	return err == nil // EOF: closed by the broker
}

func metadataLatencies(t *testing.T, addr string, n int) []time.Duration {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out []time.Duration
	for range n {
		req := kmsg.NewPtrMetadataRequest()
		req.SetVersion(12)
		start := time.Now()
		if _, err := harness.RequestOn(c, req, 10*time.Second); err != nil {
			t.Fatalf("metadata: %v", err)
		}
		out = append(out, time.Since(start))
	}
	slices.Sort(out)
	return out
}

// Hostile frames close only their own connections: the node stays up and a
// normal client's Metadata stays fast while ten hostile connections run.
func TestHostileFramesLeaveNodeServing(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, map[string]string{"queued.max.request.bytes": "268435456"})
	n.Start()
	for name, msg := range map[string][]byte{
		"huge tag count":     hugeTagApiVersions(),
		"oversized":          {0x7f, 0xff, 0xff, 0xff},
		"short header":       {0, 0, 0, 3, 1, 2, 3},
		"5.6M empty topics":  emptyTopicsProduce(),
		"4M empty resources": emptyResourcesDescribeConfigs(),
	} {
		if !sendUntilClosed(n.Addr, msg, 30*time.Second) {
			t.Fatalf("%s: connection not closed", name)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				sendUntilClosed(n.Addr, hugeTagApiVersions(), 10*time.Second)
			}
		}()
	}
	lat := metadataLatencies(t, n.Addr, 200)
	close(stop)
	wg.Wait()
	// 50 ms is the target; 3x slack for a shared two-core machine.
	if p99 := lat[len(lat)*99/100]; p99 > 150*time.Millisecond {
		t.Fatalf("Metadata p99 %v with ten hostile connections", p99)
	}
	if !n.Running() {
		t.Fatal("node exited")
	}
}

func TestIdleAndSlowConnectionsClosed(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, map[string]string{"connections.max.idle.ms": "1000", "socket.request.read.timeout.ms": "1000"})
	n.Start()
	start := time.Now()
	if !sendUntilClosed(n.Addr, nil, 10*time.Second) {
		t.Fatal("idle connection still open after 10 s")
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 3*time.Second {
		t.Fatalf("idle connection closed after %v, want about 1 s", d)
	}
	c, err := net.Dial("tcp", n.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start = time.Now()
	c.Write([]byte{0, 0, 1, 0}) // a 256-byte frame, sent a byte every 100 ms
	for range 250 {
		if _, err := c.Write([]byte{0}); err != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("slow sender kept its connection %v, want about 1 s", d)
	}
}

// raftFrame is a request of the private raft key carrying m.
func raftFrame(t *testing.T, m *raftpb.Message) []byte {
	raw, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return frame(append(header(32001, 0, false), raw...))
}

// Forged raft messages are refused and change nothing: one that would
// delete a topic, one with a garbage entry, heartbeats with a high term.
func TestForgedRaftMessagesChangeNothing(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, nil)
	n.Start()
	adm := admin(t, n.Addr)
	ctx := ctxT(t, time.Minute)
	if _, err := adm.CreateTopics(ctx, 1, 1, nil, "kept"); err != nil {
		t.Fatal(err)
	}
	td, err := adm.ListTopics(ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	remove := metadata.AppendRecordBatch(nil, 0, 1, 0, []metadata.Record{&metadata.RemoveTopicRecord{TopicID: td["kept"].ID}})
	for _, from := range []uint64{1, 2, 3} { // itself and two non-voters
		m := &raftpb.Message{Type: raftpb.MsgApp.Enum(), From: proto.Uint64(from), To: proto.Uint64(2), Term: proto.Uint64(1 << 40),
			Commit: proto.Uint64(1 << 20), Entries: []*raftpb.Entry{{Index: proto.Uint64(1 << 20), Term: proto.Uint64(1 << 40), Data: remove}}}
		if !sendUntilClosed(n.CtrlAddr, raftFrame(t, m), 10*time.Second) {
			t.Fatalf("forged MsgApp from %d answered", from)
		}
		garbage := &raftpb.Message{Type: raftpb.MsgApp.Enum(), From: proto.Uint64(from), To: proto.Uint64(2),
			Entries: []*raftpb.Entry{{Index: proto.Uint64(9), Data: []byte("garbage")}}}
		sendUntilClosed(n.CtrlAddr, raftFrame(t, garbage), 10*time.Second)
		hb := &raftpb.Message{Type: raftpb.MsgHeartbeat.Enum(), From: proto.Uint64(from), To: proto.Uint64(2), Term: proto.Uint64(1 << 50)}
		sendUntilClosed(n.CtrlAddr, raftFrame(t, hb), 10*time.Second)
	}
	if !n.Running() {
		t.Fatal("node exited")
	}
	// Still the leader: a new topic can be created, and the old one is there.
	if _, err := adm.CreateTopics(ctx, 1, 1, nil, "after"); err != nil {
		t.Fatal(err)
	}
	got, err := adm.ListTopics(ctx)
	if err != nil || !got.Has("kept") || !got.Has("after") {
		t.Fatalf("topics %v, err %v", got.Names(), err)
	}
}

// A client's WriteTxnMarkers is refused when a separate inter-broker
// listener exists.
func TestClientWriteTxnMarkersRefused(t *testing.T) {
	t.Parallel()
	client, repl, ctrl := harness.FreePort(t), harness.FreePort(t), harness.FreePort(t)
	n := harness.SingleNode(t, nil)
	addr := func(p int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)) }
	n.Addr, n.CtrlAddr = addr(client), addr(ctrl)
	n.Props["listeners"] = "PLAINTEXT://" + n.Addr + ",REPLICATION://" + addr(repl) + ",CONTROLLER://" + n.CtrlAddr
	n.Props["listener.security.protocol.map"] = "PLAINTEXT:PLAINTEXT,REPLICATION:PLAINTEXT,CONTROLLER:PLAINTEXT"
	n.Props["inter.broker.listener.name"] = "REPLICATION"
	n.Props["controller.quorum.voters"] = "1@" + n.CtrlAddr
	n.Rewrite()
	n.Start()
	adm := admin(t, n.Addr)
	if _, err := adm.CreateTopics(ctxT(t, time.Minute), 1, 1, nil, "victim"); err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	req.SetVersion(1)
	m := kmsg.NewWriteTxnMarkersRequestMarker()
	m.ProducerID, m.ProducerEpoch, m.Committed = 1000, 5, false
	mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
	mt.Topic, mt.Partitions = "victim", []int32{0}
	m.Topics = append(m.Topics, mt)
	req.Markers = append(req.Markers, m)
	resp, err := harness.Request(n.Addr, req, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	code := resp.(*kmsg.WriteTxnMarkersResponse).Markers[0].Topics[0].Partitions[0].ErrorCode
	if code != kerr.ClusterAuthorizationFailed.Code {
		t.Fatalf("client WriteTxnMarkers answered %v", kerr.ErrorForCode(code))
	}
}
