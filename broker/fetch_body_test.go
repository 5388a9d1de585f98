package broker

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// bodyBytes flattens a fetch body the way WriteTo sends it, reading the
// file regions, and releases it.
func bodyBytes(t testing.TB, fb *fetchBody) []byte {
	t.Helper()
	var out []byte
	from := 0
	for _, r := range fb.regions {
		out = append(out, fb.buf[from:r.at]...)
		var err error
		if out, err = r.slice.ReadAll(out); err != nil {
			t.Fatal(err)
		}
		from = r.at
	}
	out = append(out, fb.buf[from:]...)
	if len(out) != fb.Len() {
		t.Fatalf("body is %d bytes but Len says %d", len(out), fb.Len())
	}
	fb.Release()
	return out
}

// fetchDirect serves a fetch in-process and decodes the answer with kmsg.
func fetchDirect(t testing.TB, e *dataEnv, req *kmsg.FetchRequest) *kmsg.FetchResponse {
	t.Helper()
	r := call(t, e.b.handleFetch, req)
	if r.Msg != nil {
		return r.Msg.(*kmsg.FetchResponse)
	}
	resp := kmsg.NewPtrFetchResponse()
	resp.SetVersion(req.Version)
	if err := resp.ReadFrom(bodyBytes(t, r.Body.(*fetchBody))); err != nil {
		t.Fatal(err)
	}
	return resp
}

// encodingFixture holds a broker with partitions in every state a fetch
// response can describe.
type encodingFixture struct {
	e            *dataEnv
	small, large []byte // the records of a-0 and a-1
	idA, idB     [16]byte
	unknownID    [16]byte
}

func newEncodingFixture(t testing.TB) *encodingFixture {
	f := &encodingFixture{e: newDataEnv(t, nil), unknownID: [16]byte{9, 9, 9}}
	f.idA = f.e.topic("a", 4, nil, 3)
	f.idB = f.e.topic("b", 1, nil)
	// a-3 is led by broker 2 and this broker is out of its ISR: even a
	// consumer that may read from followers (v11+) is sent to the leader.
	f.e.outOfISR(f.idA, 3)
	var small, large [][]byte
	for i := 0; i < 3; i++ {
		small = append(small, testBatch(5, 100, 1000, 1))
		large = append(large, testBatch(2, 20<<10, 1000, 1))
	}
	f.e.append("a", 0, small...)
	f.e.append("a", 1, large...)
	f.e.append("b", 0, testBatch(1, 10, 5, 0))
	f.small, f.large = bytes.Join(small, nil), bytes.Join(large, nil)
	return f
}

func (f *encodingFixture) request(version int16, isolation int8) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(version)
	req.MaxBytes, req.IsolationLevel, req.SessionEpoch = 50<<20, isolation, sessionEpochFinal
	add := func(name string, id [16]byte, parts map[int32]int64, order ...int32) {
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic, rt.TopicID = name, id
		for _, p := range order {
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = p, parts[p], 10<<20
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	add("a", f.idA, map[int32]int64{}, 0, 1, 2, 3)
	add("b", f.idB, map[int32]int64{0: 100}, 0)
	add("zz", f.unknownID, map[int32]int64{}, 0)
	return req
}

// expected builds, from what the fixture wrote, the response Kafka would
// send, as a kmsg message.
func (f *encodingFixture) expected(version int16, isolation int8) *kmsg.FetchResponse {
	resp := kmsg.NewPtrFetchResponse()
	resp.SetVersion(version)
	part := func(id int32, code int16, end int64, records []byte) kmsg.FetchResponseTopicPartition {
		p := kmsg.NewFetchResponseTopicPartition()
		p.Partition, p.ErrorCode, p.RecordBatches = id, code, records
		p.HighWatermark, p.LastStableOffset, p.LogStartOffset = end, end, 0
		if code != 0 {
			p.HighWatermark, p.LastStableOffset, p.LogStartOffset = -1, -1, -1
		}
		if isolation == readCommitted || code == kerr.UnknownTopicOrPartition.Code || code == kerr.UnknownTopicID.Code {
			p.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
		}
		return p
	}
	notLeader := part(3, kerr.NotLeaderForPartition.Code, 0, []byte{})
	if version >= 12 {
		notLeader.CurrentLeader.LeaderID, notLeader.CurrentLeader.LeaderEpoch = 2, 3
	}
	unknown := kerr.UnknownTopicOrPartition.Code
	if version >= 13 {
		unknown = kerr.UnknownTopicID.Code
	}
	resp.Topics = []kmsg.FetchResponseTopic{
		{Topic: "a", TopicID: f.idA, Partitions: []kmsg.FetchResponseTopicPartition{
			part(0, 0, 15, f.small), part(1, 0, 6, f.large), part(2, 0, 0, []byte{}), notLeader,
		}},
		{Topic: "b", TopicID: f.idB, Partitions: []kmsg.FetchResponseTopicPartition{part(0, kerr.OffsetOutOfRange.Code, 0, []byte{})}},
		{Topic: "zz", TopicID: f.unknownID, Partitions: []kmsg.FetchResponseTopicPartition{part(0, unknown, 0, []byte{})}},
	}
	if version >= 16 {
		resp.Brokers = []kmsg.FetchResponseBroker{{NodeID: 2, Host: "127.0.0.1", Port: 9093}}
	}
	return resp
}

// TestFetchEncodingMatchesKmsg proves the hand-written encoder produces
// byte for byte what kmsg encodes for the same response, and that both
// decode to the same message, across the versions whose layouts differ.
func TestFetchEncodingMatchesKmsg(t *testing.T) {
	f := newEncodingFixture(t)
	for _, v := range []int16{4, 5, 7, 11, 12, 13, 15, 16, 17, 18} {
		for _, iso := range []int8{readUncommitted, readCommitted} {
			t.Run(fmt.Sprintf("v%d/isolation%d", v, iso), func(t *testing.T) {
				r := call(t, f.e.b.handleFetch, f.request(v, iso))
				fb := r.Body.(*fetchBody)
				if len(fb.regions) == 0 || fb.copied == 0 {
					t.Fatalf("want both sendfile regions and copied records; regions %d copied %d", len(fb.regions), fb.copied)
				}
				got := bodyBytes(t, fb)
				want := f.expected(v, iso).AppendTo(nil)
				if !bytes.Equal(got, want) {
					t.Fatalf("encoding differs from kmsg:\n got %x\nwant %x", got, want)
				}
				gotMsg, wantMsg := kmsg.NewPtrFetchResponse(), kmsg.NewPtrFetchResponse()
				gotMsg.SetVersion(v)
				wantMsg.SetVersion(v)
				if err := gotMsg.ReadFrom(got); err != nil {
					t.Fatal(err)
				}
				if err := wantMsg.ReadFrom(want); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(gotMsg, wantMsg) {
					t.Fatalf("decoded responses differ:\n got %+v\nwant %+v", gotMsg, wantMsg)
				}
			})
		}
	}
}

// TestFetchEncodingTopLevel covers the fields before the topics: a
// session id and an empty response.
func TestFetchEncodingTopLevel(t *testing.T) {
	for _, v := range []int16{7, 12, 16} {
		fb := newFetchBody(v)
		fb.header(kerr.InvalidFetchSessionEpoch.Code, 12345, 0)
		fb.finish(nil)
		want := kmsg.NewPtrFetchResponse()
		want.SetVersion(v)
		want.ErrorCode, want.SessionID = kerr.InvalidFetchSessionEpoch.Code, 12345
		if got := bodyBytes(t, fb); !bytes.Equal(got, want.AppendTo(nil)) {
			t.Errorf("v%d: %x, want %x", v, got, want.AppendTo(nil))
		}
	}
}

// TestFetchMaxBytes checks KIP-74: the first partition with data returns a
// whole batch even past MaxBytes and its partition limit; later ones then
// return nothing rather than a partial batch.
func TestFetchMaxBytes(t *testing.T) {
	f := newEncodingFixture(t)
	req := f.request(12, readUncommitted)
	req.MaxBytes = 1
	req.Topics[0].Partitions[0].PartitionMaxBytes = 1
	resp := fetchDirect(t, f.e, req)
	parts := resp.Topics[0].Partitions
	if first := testBatchLen(f.small); !bytes.Equal(parts[0].RecordBatches, f.small[:first]) {
		t.Errorf("a-0 returned %d bytes, want its first batch (%d)", len(parts[0].RecordBatches), first)
	}
	if len(parts[1].RecordBatches) != 0 {
		t.Errorf("a-1 returned %d bytes past MaxBytes", len(parts[1].RecordBatches))
	}

	req = f.request(12, readUncommitted)
	req.MaxBytes = int32(len(f.small) + 100)
	resp = fetchDirect(t, f.e, req)
	if got := resp.Topics[0].Partitions[1].RecordBatches; len(got) != 0 {
		t.Errorf("a-1 returned %d bytes with only 100 left of MaxBytes", len(got))
	}
}

func testBatchLen(b []byte) int {
	return 12 + int(uint32(b[8])<<24|uint32(b[9])<<16|uint32(b[10])<<8|uint32(b[11]))
}

var _ protocol.Body = (*fetchBody)(nil)
