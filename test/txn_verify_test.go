package test

import (
	"encoding/binary"
	"testing"
	"time"

	"spool/record"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// txnRawBatch is a one-record transactional batch of producer pid.
func txnRawBatch(pid int64, epoch int16, seq int32) []byte {
	b := rawBatch(time.Now().UnixMilli(), rawRecord{key: []byte("k"), value: []byte("v")})
	be := binary.BigEndian
	be.PutUint16(b[21:], 0x10)
	be.PutUint64(b[43:], uint64(pid))
	be.PutUint16(b[51:], uint16(epoch))
	be.PutUint32(b[53:], uint32(seq))
	record.SetCRC(b)
	return b
}

// retryTxnRequest repeats a coordinator request while the coordinator is
// still being created or loaded, as clients do.
func retryTxnRequest[R kmsg.Response](t *testing.T, cl *kgo.Client, req kmsg.Request, code func(R) int16) R {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		raw, err := cl.Request(ctxT(t, time.Minute), req)
		if err != nil {
			t.Fatalf("%T: %v", req, err)
		}
		resp := raw.(R)
		switch kerr.ErrorForCode(code(resp)) {
		case kerr.CoordinatorNotAvailable, kerr.NotCoordinator, kerr.CoordinatorLoadInProgress, kerr.ConcurrentTransactions:
			if time.Now().After(deadline) {
				t.Fatalf("%T: still %v after 60s", req, kerr.ErrorForCode(code(resp)))
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		return resp
	}
}

func listOffset(t *testing.T, cl *kgo.Client, topic string, isolation int8) int64 {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	req.IsolationLevel = isolation
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	raw, err := cl.Request(ctxT(t, time.Minute), req)
	if err != nil {
		t.Fatal(err)
	}
	p := raw.(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		t.Fatalf("list offsets: %v", kerr.ErrorForCode(p.ErrorCode))
	}
	return p.Offset
}

// TestTxnProduceVerified sends what no well-behaved client sends: a
// transactional batch to a partition its transaction never added. The
// broker asks the coordinator first (KIP-890), refuses it, and so no
// hanging transaction holds read_committed readers back.
func TestTxnProduceVerified(t *testing.T) {
	t.Parallel()
	n := txnNode(t, nil)
	adm := admin(t, n.Addr)
	createTopic(t, adm, "verified", 1, nil)
	cl := producer(t, n.Addr, byName)
	id := "stray"

	init := kmsg.NewPtrInitProducerIDRequest()
	init.TransactionalID, init.TransactionTimeoutMillis = &id, 60000
	ir := retryTxnRequest(t, cl, init, func(r *kmsg.InitProducerIDResponse) int16 { return r.ErrorCode })
	if ir.ErrorCode != 0 {
		t.Fatalf("init producer id: %v", kerr.ErrorForCode(ir.ErrorCode))
	}
	produce := func() kmsg.ProduceResponseTopicPartition {
		req := kmsg.NewPtrProduceRequest()
		req.TransactionID, req.Acks, req.TimeoutMillis = &id, -1, 30000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = "verified"
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = txnRawBatch(ir.ProducerID, ir.ProducerEpoch, 0)
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		raw, err := cl.Request(ctxT(t, time.Minute), req)
		if err != nil {
			t.Fatal(err)
		}
		return raw.(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	}
	if r := produce(); r.ErrorCode != kerr.InvalidTxnState.Code {
		t.Fatalf("produce outside the transaction: %v, want INVALID_TXN_STATE", kerr.ErrorForCode(r.ErrorCode))
	}
	if committed, uncommitted := listOffset(t, cl, "verified", 1), listOffset(t, cl, "verified", 0); committed != 0 || uncommitted != 0 {
		t.Fatalf("after the refused batch: read_committed end %d, read_uncommitted end %d, want 0 and 0", committed, uncommitted)
	}

	add := kmsg.NewPtrAddPartitionsToTxnRequest()
	add.SetVersion(3)
	add.TransactionalID, add.ProducerID, add.ProducerEpoch = id, ir.ProducerID, ir.ProducerEpoch
	at := kmsg.NewAddPartitionsToTxnRequestTopic()
	at.Topic, at.Partitions = "verified", []int32{0}
	add.Topics = append(add.Topics, at)
	ar := retryTxnRequest(t, cl, add, func(r *kmsg.AddPartitionsToTxnResponse) int16 {
		if len(r.Topics) == 0 || len(r.Topics[0].Partitions) == 0 {
			return r.ErrorCode
		}
		return r.Topics[0].Partitions[0].ErrorCode
	})
	if code := ar.Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("add partition: %v", kerr.ErrorForCode(code))
	}
	if r := produce(); r.ErrorCode != 0 {
		t.Fatalf("produce inside the transaction: %v", kerr.ErrorForCode(r.ErrorCode))
	}
	if committed, uncommitted := listOffset(t, cl, "verified", 1), listOffset(t, cl, "verified", 0); committed != 0 || uncommitted != 1 {
		t.Fatalf("with the transaction open: read_committed end %d, read_uncommitted end %d, want 0 and 1", committed, uncommitted)
	}

	end := kmsg.NewPtrEndTxnRequest()
	end.TransactionalID, end.ProducerID, end.ProducerEpoch, end.Commit = id, ir.ProducerID, ir.ProducerEpoch, false
	if er := retryTxnRequest(t, cl, end, func(r *kmsg.EndTxnResponse) int16 { return r.ErrorCode }); er.ErrorCode != 0 {
		t.Fatalf("abort: %v", kerr.ErrorForCode(er.ErrorCode))
	}
	// The abort marker follows the data; once it is written the stable
	// offset passes both.
	deadline := time.Now().Add(30 * time.Second)
	for listOffset(t, cl, "verified", 1) != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("read_committed end offset stuck at %d after the abort, want 2", listOffset(t, cl, "verified", 1))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
