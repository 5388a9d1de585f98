package broker

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"spool/config"
	"spool/controller/metadata"
	"spool/protocol"
	"spool/record"
	"spool/storage"
)

// dataEnv is a broker without a controller: tests publish images to it
// directly and append to its logs, to exercise the read-side handlers.
type dataEnv struct {
	t    testing.TB
	b    *Broker
	port uint16 // of the PLAINTEXT endpoint advertised in the image
}

func newDataEnv(t testing.TB, props map[string]string) *dataEnv {
	t.Helper()
	all := map[string]string{"process.roles": "broker", "node.id": "1"}
	for k, v := range props {
		all[k] = v
	}
	var lg *zap.Logger
	if tt, ok := t.(*testing.T); ok {
		lg = zaptest.NewLogger(tt, zaptest.Level(zap.WarnLevel))
	} else {
		lg = zap.NewNop()
	}
	b, err := New(Config{
		NodeID: 1, ClusterID: "test", Static: config.MustNew(all),
		Node:    &config.Node{NodeID: 1, Voters: []config.Voter{{ID: 9, Host: "127.0.0.1", Port: 1}}},
		LogDirs: []string{t.TempDir()}, Files: storage.NewFileCache(0), Logger: lg,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	e := &dataEnv{t: t, b: b, port: 9092}
	e.apply(func(d *metadata.Delta) {
		for _, id := range []int32{1, 2} {
			e.replay(d, &metadata.RegisterBrokerRecord{BrokerID: id, BrokerEpoch: 1, EndPoints: []metadata.BrokerEndpoint{
				{Name: "PLAINTEXT", Host: "127.0.0.1", Port: e.port + uint16(id) - 1},
			}})
		}
	})
	return e
}

func (e *dataEnv) replay(d *metadata.Delta, r metadata.Record) {
	e.t.Helper()
	if err := d.Replay(r); err != nil {
		e.t.Fatal(err)
	}
}

// apply publishes the image fn builds, as the metadata follower would.
func (e *dataEnv) apply(fn func(d *metadata.Delta)) {
	prev := e.b.Image()
	d := metadata.NewDelta(prev)
	fn(d)
	d.SetOffset(prev.Offset+1, 1)
	ch := d.ChangedTopics()
	next := d.Apply()
	e.b.meta.image.Store(next)
	e.b.replicas.onMetadata(prev, next, ch)
}

// topic creates a topic whose partitions this broker leads, except those
// listed in followers, which broker 2 leads. It returns the topic id.
func (e *dataEnv) topic(name string, partitions int, configs map[string]string, followers ...int32) [16]byte {
	var id [16]byte
	copy(id[:], name)
	id[15] = 0xAA
	e.apply(func(d *metadata.Delta) {
		e.replay(d, &metadata.TopicRecord{Name: name, TopicID: id})
		for k, v := range configs {
			v := v
			e.replay(d, &metadata.ConfigRecord{ResourceType: metadata.ConfigResourceTopic, ResourceName: name, Name: k, Value: &v})
		}
		for p := int32(0); p < int32(partitions); p++ {
			leader := int32(1)
			for _, f := range followers {
				if f == p {
					leader = 2
				}
			}
			e.replay(d, &metadata.PartitionRecord{PartitionID: p, TopicID: id, Replicas: []int32{1, 2}, ISR: []int32{1, 2}, Leader: leader, LeaderEpoch: 3})
		}
	})
	return id
}

func (e *dataEnv) part(topic string, p int32) *partition {
	e.t.Helper()
	part := e.b.replicas.get(tp{topic, p})
	if part == nil {
		e.t.Fatalf("%s-%d not hosted", topic, p)
	}
	return part
}

// append writes batches as the leader and makes them visible. The batches
// are patched in place, so afterwards they are the bytes a fetch returns.
func (e *dataEnv) append(topic string, p int32, batches ...[]byte) {
	e.t.Helper()
	part := e.part(topic, p)
	for _, b := range batches {
		if _, err := part.log.Append(b, 3, -1); err != nil {
			e.t.Fatal(err)
		}
	}
	part.advanceHighWatermark(part.log.LogEndOffset())
}

// testBatch encodes a v2 batch of n records of valueSize bytes with
// timestamps firstTs, firstTs+step, ...
func testBatch(n, valueSize int, firstTs, step int64) []byte {
	var recs []byte
	for i := 0; i < n; i++ {
		r := kmsg.Record{TimestampDelta64: int64(i) * step, OffsetDelta: int32(i), Key: []byte{byte(i)}, Value: bytes.Repeat([]byte{'v'}, valueSize)}
		body := r.AppendTo(nil)
		r.Length = int32(len(body) - 1) // AppendTo wrote a zero length
		recs = r.AppendTo(recs)
	}
	b := kmsg.RecordBatch{
		Magic: 2, LastOffsetDelta: int32(n - 1), FirstTimestamp: firstTs, MaxTimestamp: firstTs + int64(n-1)*step,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: int32(n), Records: recs,
	}
	b.Length = int32(record.HeaderLen - 12 + len(recs))
	out := b.AppendTo(nil)
	record.SetCRC(out)
	return out
}

// call runs a handler the way the mux does and waits for its answer.
func call(t testing.TB, serve protocol.ServeFunc, msg kmsg.Request) protocol.Response {
	t.Helper()
	ch := make(chan protocol.Response, 1)
	req := &protocol.Request{Header: protocol.Header{Key: msg.Key(), Version: msg.GetVersion()}, Listener: "PLAINTEXT", Msg: msg}
	serve(req, func(r protocol.Response) { ch <- r })
	select {
	case r := <-ch:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("no response")
	}
	return protocol.Response{}
}

// serve runs the broker's APIs on a loopback listener and returns its
// address, advertising it in the image so clients can bootstrap from it.
func (e *dataEnv) serve() string {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	e.port = uint16(ln.Addr().(*net.TCPAddr).Port)
	e.apply(func(d *metadata.Delta) {
		e.replay(d, &metadata.RegisterBrokerRecord{BrokerID: 1, BrokerEpoch: 2, EndPoints: []metadata.BrokerEndpoint{
			{Name: "PLAINTEXT", Host: "127.0.0.1", Port: e.port},
		}})
	})
	mux := protocol.NewMux(zap.NewNop())
	e.b.Register(mux)
	srv := protocol.NewServer(mux, 100<<20, zap.NewNop())
	srv.Stats = e.b.NetStats()
	srv.Serve(ln, "PLAINTEXT")
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.b.endLongPolls()
		srv.Shutdown(ctx)
	})
	return ln.Addr().String()
}

func listOffsets(t *testing.T, e *dataEnv, version int16, isolation int8, topic string, parts map[int32]int64) map[int32]kmsg.ListOffsetsResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	req.SetVersion(version)
	req.IsolationLevel = isolation
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for p, ts := range parts {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp = p, ts
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp := call(t, e.b.handleListOffsets, req).Msg.(*kmsg.ListOffsetsResponse)
	out := map[int32]kmsg.ListOffsetsResponseTopicPartition{}
	for _, p := range resp.Topics[0].Partitions {
		out[p.Partition] = p
	}
	return out
}

func TestListOffsets(t *testing.T) {
	e := newDataEnv(t, nil)
	e.topic("lo", 2, nil, 1)
	e.append("lo", 0, testBatch(3, 10, 1000, 100), testBatch(2, 10, 5000, 500), testBatch(1, 10, 2000, 0))
	// offsets 0-2 at 1000,1100,1200; 3-4 at 5000,5500; 5 at 2000

	type want struct {
		off, ts int64
		epoch   int32
	}
	cases := map[int64]want{
		listLatest:        {6, -1, 3},
		listEarliest:      {0, -1, 3},
		listEarliestLocal: {0, -1, 3},
		listLatestTiered:  {-1, -1, -1},
		listMaxTimestamp:  {4, 5500, 3},
		0:                 {0, 1000, 3},
		1050:              {1, 1100, 3},
		1200:              {2, 1200, 3},
		1201:              {3, 5000, 3},
		5001:              {4, 5500, 3},
		5501:              {-1, -1, -1},
	}
	for ts, w := range cases {
		got := listOffsets(t, e, 9, 0, "lo", map[int32]int64{0: ts})[0]
		if got.ErrorCode != 0 || got.Offset != w.off || got.Timestamp != w.ts || got.LeaderEpoch != w.epoch {
			t.Errorf("timestamp %d: got offset %d ts %d epoch %d err %d, want %+v", ts, got.Offset, got.Timestamp, got.LeaderEpoch, got.ErrorCode, w)
		}
	}
	if got := listOffsets(t, e, 9, 0, "lo", map[int32]int64{1: -1})[1]; got.ErrorCode != kerr.NotLeaderForPartition.Code {
		t.Errorf("follower partition: error %d, want NOT_LEADER_OR_FOLLOWER", got.ErrorCode)
	}
	if got := listOffsets(t, e, 9, 0, "nope", map[int32]int64{0: -1})[0]; got.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("unknown topic: error %d", got.ErrorCode)
	}

	// Records above the high watermark are invisible to lookups.
	p := e.part("lo", 0)
	if _, err := p.log.Append(testBatch(1, 10, 9000, 0), 3, -1); err != nil {
		t.Fatal(err)
	}
	if got := listOffsets(t, e, 9, 1, "lo", map[int32]int64{0: 9000})[0]; got.Offset != -1 {
		t.Errorf("lookup past the high watermark found offset %d", got.Offset)
	}
	if got := listOffsets(t, e, 9, 1, "lo", map[int32]int64{0: -1})[0]; got.Offset != 6 {
		t.Errorf("read_committed latest %d, want the LSO 6", got.Offset)
	}
}

func TestListOffsetsLeaderEpochAndDuplicates(t *testing.T) {
	e := newDataEnv(t, nil)
	e.topic("le", 1, nil)
	for epoch, code := range map[int32]int16{-1: 0, 3: 0, 2: kerr.FencedLeaderEpoch.Code, 4: kerr.UnknownLeaderEpoch.Code} {
		req := kmsg.NewPtrListOffsetsRequest()
		req.SetVersion(4)
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "le"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.CurrentLeaderEpoch, rp.Timestamp = epoch, -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		got := call(t, e.b.handleListOffsets, req).Msg.(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0]
		if got.ErrorCode != code {
			t.Errorf("epoch %d: error %d, want %d", epoch, got.ErrorCode, code)
		}
	}

	req := kmsg.NewPtrListOffsetsRequest()
	req.SetVersion(7)
	for range 2 {
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "le"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = -2
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
	}
	resp := call(t, e.b.handleListOffsets, req).Msg.(*kmsg.ListOffsetsResponse)
	for _, rt := range resp.Topics {
		if p := rt.Partitions[0]; p.ErrorCode != kerr.InvalidRequest.Code || p.Offset != -1 {
			t.Errorf("duplicate partition: error %d offset %d, want INVALID_REQUEST and -1", p.ErrorCode, p.Offset)
		}
	}
}
