package broker

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/txn"
	"spool/config"
	"spool/storage"
)

func acceptAllTxnPartitions(_ context.Context, _ string, _ int64, _ int16, parts []txn.Partition) (map[txn.Partition]*kerr.Error, *kerr.Error) {
	out := make(map[txn.Partition]*kerr.Error, len(parts))
	for _, p := range parts {
		out[p] = nil
	}
	return out, nil
}

// txnProduce sends one transactional batch with the request's
// transactional id set, as clients do.
func (tb *testBroker) txnProduce(t testing.TB, batch []byte) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	r := produceReq(12, -1, batch)
	id := "tx"
	r.TransactionID = &id
	resp := tb.produce(t, r)
	return resp.Msg.(*kmsg.ProduceResponse).Topics[0].Partitions[0]
}

func TestProduceVerifiesTransactionMembership(t *testing.T) {
	tb := newTestBroker(t, nil, storage.Options{})
	var asked int
	var answer *kerr.Error
	tb.b.verifier.verify = func(_ context.Context, id string, pid int64, epoch int16, parts []txn.Partition) (map[txn.Partition]*kerr.Error, *kerr.Error) {
		asked++
		if id != "tx" || pid != 7 || epoch != 1 || len(parts) != 1 || parts[0] != (txn.Partition{Topic: testTopic, Partition: 0}) {
			t.Errorf("asked about %q producer %d epoch %d %v", id, pid, epoch, parts)
		}
		return map[txn.Partition]*kerr.Error{parts[0]: answer}, nil
	}
	// Not in the transaction: refused, and nothing holds the stable
	// offset back.
	answer = kerr.TransactionAbortable
	if r := tb.txnProduce(t, txnBatch(t, 7, 1, 0, 1)); r.ErrorCode != kerr.InvalidTxnState.Code {
		t.Fatalf("stray transactional batch: %v, want INVALID_TXN_STATE", kerr.ErrorForCode(r.ErrorCode))
	}
	if lso, hw := tb.p.lastStableOffset(), tb.p.HighWatermark(); lso != hw || hw != 0 {
		t.Fatalf("after a refused batch: lso %d hw %d, want both 0", lso, hw)
	}
	// A coordinator that cannot answer yet is retriable for the client.
	answer = kerr.CoordinatorLoadInProgress
	if r := tb.txnProduce(t, txnBatch(t, 7, 1, 0, 1)); r.ErrorCode != kerr.NotEnoughReplicas.Code {
		t.Fatalf("coordinator loading: %v, want NOT_ENOUGH_REPLICAS", kerr.ErrorForCode(r.ErrorCode))
	}
	answer = nil
	if r := tb.txnProduce(t, txnBatch(t, 7, 1, 0, 1)); r.ErrorCode != 0 {
		t.Fatalf("verified batch: %v", kerr.ErrorForCode(r.ErrorCode))
	}
	// Once open here, the transaction's next batches need no round trip.
	if r := tb.txnProduce(t, txnBatch(t, 7, 1, 1, 1)); r.ErrorCode != 0 || asked != 3 {
		t.Fatalf("second batch: %v after %d questions, want success after 3", kerr.ErrorForCode(r.ErrorCode), asked)
	}
}

func TestProduceVerificationCanBeDisabled(t *testing.T) {
	tb := newTestBroker(t, nil, storage.Options{})
	tb.b.cfg.Static = config.MustNew(map[string]string{"transaction.partition.verification.enable": "false"})
	tb.b.verifier.verify = func(context.Context, string, int64, int16, []txn.Partition) (map[txn.Partition]*kerr.Error, *kerr.Error) {
		t.Error("asked the coordinator with verification disabled")
		return nil, kerr.InvalidTxnState
	}
	if r := tb.txnProduce(t, txnBatch(t, 7, 1, 0, 1)); r.ErrorCode != 0 {
		t.Fatalf("unverified batch: %v", kerr.ErrorForCode(r.ErrorCode))
	}
}
