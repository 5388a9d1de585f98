package broker

import (
	"errors"
	"os"
	"sync/atomic"
	"testing"

	"spool/storage"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// After one failed fsync the partition answers KAFKA_STORAGE_ERROR to
// every later produce, even once fsync works again: the failed pages may be
// gone, so nothing past them is ever acknowledged.
func TestProduceAfterFailedFsyncIsRefused(t *testing.T) {
	var fails atomic.Int32
	fails.Store(1)
	fsync := func(*os.File) error {
		if fails.Add(-1) >= 0 {
			return errors.New("EIO")
		}
		return nil
	}
	tb := newTestBroker(t, nil, storage.Options{Fsync: fsync})
	acksAll := func() kmsg.ProduceResponseTopicPartition {
		resp := tb.produce(t, produceReq(12, -1, buildBatch(t, batchSpec{recs: values(2, 5)})))
		return resp.Msg.(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	}
	if got := acksAll(); got.ErrorCode != kerr.KafkaStorageError.Code {
		t.Fatalf("acks=all over a failing fsync: error %d, want KAFKA_STORAGE_ERROR", got.ErrorCode)
	}
	if got := acksAll(); got.ErrorCode != kerr.KafkaStorageError.Code {
		t.Fatalf("acks=all after the failed fsync: error %d base %d, want KAFKA_STORAGE_ERROR", got.ErrorCode, got.BaseOffset)
	}
	if got := tb.produceOne(t, buildBatch(t, batchSpec{recs: values(1, 5)})); got.ErrorCode != kerr.KafkaStorageError.Code {
		t.Fatalf("acks=1 after the failed fsync: error %d, want KAFKA_STORAGE_ERROR", got.ErrorCode)
	}
	if f := tb.p.log.FlushedOffset(); f != 0 {
		t.Fatalf("flushed offset %d after a failed fsync, want 0", f)
	}
}
