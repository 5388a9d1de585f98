package broker

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/config"
	"spool/controller/metadata"
	"spool/protocol"
	"spool/record"
	"spool/storage"
)

// testRec is one record of a test batch; a nil key is a null key.
type testRec struct {
	key, value []byte
	tsDelta    int64
}

// batchSpec describes a v2 batch built by hand, so tests can break any
// field.
type batchSpec struct {
	recs       []testRec
	codec      int8
	xerial     bool // frame snappy the way Java clients do
	attrs      int16
	producerID int64
	epoch      int16
	baseSeq    int32
	firstTs    int64
	// tweak edits the records section before compression (to break it).
	tweak func([]byte) []byte
}

func idem(pid int64, epoch int16, seq int32, n int) batchSpec {
	return batchSpec{recs: values(n, 10), producerID: pid, epoch: epoch, baseSeq: seq}
}

func values(n, size int) []testRec {
	recs := make([]testRec, n)
	for i := range recs {
		v := bytes.Repeat([]byte{byte('a' + i%26)}, size)
		recs[i] = testRec{key: []byte{'k', byte(i)}, value: v}
	}
	return recs
}

func appendVarint(b []byte, v int64) []byte { return binary.AppendVarint(b, v) }

func encodeRecords(recs []testRec) []byte {
	var out, body []byte
	for i, r := range recs {
		body = append(body[:0], 0)
		body = appendVarint(body, r.tsDelta)
		body = appendVarint(body, int64(i))
		if r.key == nil {
			body = appendVarint(body, -1)
		} else {
			body = appendVarint(body, int64(len(r.key)))
			body = append(body, r.key...)
		}
		body = appendVarint(body, int64(len(r.value)))
		body = append(body, r.value...)
		body = appendVarint(body, 0)
		out = appendVarint(out, int64(len(body)))
		out = append(out, body...)
	}
	return out
}

func compressFor(t testing.TB, codec int8, xerial bool, raw []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch codec {
	case record.CompressionNone:
		return raw
	case record.CompressionGzip:
		w := gzip.NewWriter(&buf)
		w.Write(raw)
		w.Close()
	case record.CompressionSnappy:
		block := s2.EncodeSnappy(nil, raw)
		if !xerial {
			return block
		}
		buf.Write([]byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1})
		buf.Write(binary.BigEndian.AppendUint32(nil, uint32(len(block))))
		buf.Write(block)
	case record.CompressionLZ4:
		w := lz4.NewWriter(&buf)
		w.Write(raw)
		w.Close()
	case record.CompressionZstd:
		enc, err := zstd.NewWriter(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer enc.Close()
		return enc.EncodeAll(raw, nil)
	}
	return buf.Bytes()
}

func buildBatch(t testing.TB, s batchSpec) []byte {
	t.Helper()
	if s.firstTs == 0 {
		s.firstTs = time.Now().UnixMilli()
	}
	recs := encodeRecords(s.recs)
	if s.tweak != nil {
		recs = s.tweak(recs)
	}
	recs = compressFor(t, s.codec, s.xerial, recs)
	be := binary.BigEndian
	b := make([]byte, record.HeaderLen, record.HeaderLen+len(recs))
	be.PutUint64(b[0:], 0)
	be.PutUint32(b[8:], uint32(record.HeaderLen-12+len(recs)))
	be.PutUint32(b[12:], 0xffffffff)
	b[16] = 2
	be.PutUint16(b[21:], uint16(s.attrs|int16(s.codec)))
	be.PutUint32(b[23:], uint32(len(s.recs)-1))
	maxTs := s.firstTs
	for _, r := range s.recs {
		maxTs = max(maxTs, s.firstTs+r.tsDelta)
	}
	be.PutUint64(b[27:], uint64(s.firstTs))
	be.PutUint64(b[35:], uint64(maxTs))
	pid, seq := s.producerID, s.baseSeq
	if pid == 0 {
		pid, seq = -1, -1
	}
	be.PutUint64(b[43:], uint64(pid))
	be.PutUint16(b[51:], uint16(s.epoch))
	be.PutUint32(b[53:], uint32(seq))
	be.PutUint32(b[57:], uint32(len(s.recs)))
	b = append(b, recs...)
	fixCRC(b)
	return b
}

func fixCRC(b []byte) {
	record.SetCRC(b)
}

const testTopic = "t"

var testTopicID = [16]byte{1, 2, 3}

// testBroker is a broker with one hosted partition (testTopic-0) it leads,
// no controller and no listeners: enough to drive the produce path.
type testBroker struct {
	b *Broker
	p *partition
}

func newTestBroker(t testing.TB, topicConfigs map[string]string, opts storage.Options) *testBroker {
	t.Helper()
	lg := zap.NewNop()
	b := &Broker{cfg: Config{NodeID: 1, Static: config.MustNew(nil)}, log: lg}
	b.meta = newMetadataFollower(nil, nil, lg)
	b.replicas = newReplicaManager(b)
	d := metadata.NewDelta(metadata.Empty())
	mp := &metadata.PartitionRecord{TopicID: testTopicID, Replicas: []int32{1}, ISR: []int32{1}, Leader: 1, LeaderEpoch: 3}
	recs := []metadata.Record{&metadata.TopicRecord{Name: testTopic, TopicID: testTopicID}, mp}
	for k, v := range topicConfigs {
		recs = append(recs, &metadata.ConfigRecord{ResourceType: metadata.ConfigResourceTopic, ResourceName: testTopic, Name: k, Value: &v})
	}
	for _, r := range recs {
		if err := d.Replay(r); err != nil {
			t.Fatal(err)
		}
	}
	img := d.Apply()
	b.meta.image.Store(img)
	opts.Logger = lg
	l, err := storage.Open(t.TempDir(), b.replicas.storageConfig(img, testTopic), opts)
	if err != nil {
		t.Fatal(err)
	}
	p := newPartition(testTopic, 0, testTopicID, l)
	if err := p.loadProducerState(); err != nil {
		t.Fatal(err)
	}
	p.setState(img.Topics.ByName(testTopic).Partition(0), 1)
	b.replicas.parts[tp{testTopic, 0}] = p
	// No coordinator here: every partition counts as added to its
	// transaction unless a test says otherwise.
	b.verifier = newTxnVerifier(b)
	b.verifier.verify = acceptAllTxnPartitions
	t.Cleanup(func() { l.Close() })
	return &testBroker{b: b, p: p}
}

// produceReq builds a Produce request for testTopic-0 (or topic/partition
// when given) carrying records.
func produceReq(version, acks int16, records []byte) *kmsg.ProduceRequest {
	r := kmsg.NewPtrProduceRequest()
	r.SetVersion(version)
	r.Acks, r.TimeoutMillis = acks, 30000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = testTopic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = records
	rt.Partitions = append(rt.Partitions, rp)
	r.Topics = append(r.Topics, rt)
	return r
}

// produce runs the handler and waits up to a deadline for its answer.
func (tb *testBroker) produce(t testing.TB, r *kmsg.ProduceRequest) protocol.Response {
	t.Helper()
	ch := make(chan protocol.Response, 1)
	tb.b.handleProduce(&protocol.Request{Header: protocol.Header{Key: 0, Version: r.Version}, Msg: r}, func(resp protocol.Response) { ch <- resp })
	select {
	case resp := <-ch:
		return resp
	case <-time.After(30 * time.Second):
		t.Fatal("no produce response within 30s")
		return protocol.Response{}
	}
}

// produceOne produces one batch with acks=1 and returns the partition answer.
func (tb *testBroker) produceOne(t testing.TB, batch []byte) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	resp := tb.produce(t, produceReq(12, 1, batch))
	pr := resp.Msg.(*kmsg.ProduceResponse)
	return pr.Topics[0].Partitions[0]
}

// fsyncRecorder is an injected fsync that records its calls.
type fsyncRecorder struct {
	events chan string
	gate   chan struct{} // each fsync waits for a token when non-nil
}

func (f *fsyncRecorder) fsync(file *os.File) error {
	if f.gate != nil {
		<-f.gate
	}
	err := file.Sync()
	f.events <- "fsync"
	return err
}
