package broker

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
	"spool/storage"
)

func TestInitProducerId(t *testing.T) {
	tb := newTestBroker(t, nil, storage.Options{})
	// A block already fetched from the controller.
	tb.b.producerIDs = &producerIDs{b: tb.b, next: 1000, end: 1003}
	tb.b.txns = newTxnCoordinator(tb.b)
	t.Cleanup(tb.b.txns.close)
	str := func(s string) *string { return &s }
	for i, tt := range []struct {
		version   int16
		txnID     *string
		pid       int64
		epoch     int16
		wantErr   *kerr.Error
		wantPID   int64
		wantEpoch int16
	}{
		{0, nil, -1, -1, nil, 1000, 0},
		{4, nil, -1, -1, nil, 1001, 0},
		// An idempotent producer naming its id still gets a new one, as in
		// Kafka: it bumps epochs itself.
		{5, nil, 1001, 7, nil, 1002, 0},
		{5, str(""), -1, -1, kerr.InvalidRequest, -1, -1},
		// An id without an epoch or the reverse, with or without a
		// transactional id.
		{5, nil, 1001, -1, kerr.InvalidRequest, -1, -1},
		{5, str("tx-1"), -1, 3, kerr.InvalidRequest, -1, -1},
		// Without __transaction_state no broker coordinates the id.
		{5, str("tx-1"), -1, -1, kerr.NotCoordinator, -1, -1},
	} {
		r := kmsg.NewPtrInitProducerIDRequest()
		r.SetVersion(tt.version)
		r.TransactionTimeoutMillis = 60_000
		r.TransactionalID, r.ProducerID, r.ProducerEpoch = tt.txnID, tt.pid, tt.epoch
		resp := tb.b.handleInitProducerId(context.Background(), &protocol.Request{Header: protocol.Header{Key: 22, Version: tt.version}, Msg: r})
		got := resp.Msg.(*kmsg.InitProducerIDResponse)
		if got.ErrorCode != errCode(tt.wantErr) || got.ProducerID != tt.wantPID || got.ProducerEpoch != tt.wantEpoch {
			t.Fatalf("case %d: error %d id %d epoch %d, want %v %d %d", i, got.ErrorCode, got.ProducerID, got.ProducerEpoch,
				tt.wantErr, tt.wantPID, tt.wantEpoch)
		}
	}
}

// The transaction timeout is checked before anything else of the
// transactional id, as in Kafka.
func TestInitProducerIdTransactionTimeout(t *testing.T) {
	tb := newTestBroker(t, nil, storage.Options{})
	tb.b.txns = newTxnCoordinator(tb.b)
	t.Cleanup(tb.b.txns.close)
	id := "tx"
	for _, tt := range []struct {
		timeout int32
		want    *kerr.Error
	}{
		{0, kerr.InvalidTransactionTimeout},
		{-5, kerr.InvalidTransactionTimeout},
		{900_001, kerr.InvalidTransactionTimeout}, // transaction.max.timeout.ms is 900000
		{900_000, kerr.NotCoordinator},
	} {
		r := kmsg.NewPtrInitProducerIDRequest()
		r.SetVersion(5)
		r.TransactionalID, r.TransactionTimeoutMillis = &id, tt.timeout
		resp := tb.b.handleInitProducerId(context.Background(), &protocol.Request{Header: protocol.Header{Key: 22, Version: 5}, Msg: r})
		if got := resp.Msg.(*kmsg.InitProducerIDResponse); got.ErrorCode != tt.want.Code {
			t.Fatalf("timeout %d: error %d, want %v", tt.timeout, got.ErrorCode, tt.want)
		}
	}
}

func TestProducerIDErrorCode(t *testing.T) {
	if c := producerIDErrorCode(kerr.ClusterAuthorizationFailed); c != kerr.ClusterAuthorizationFailed.Code {
		t.Fatalf("controller error mapped to %d", c)
	}
	if c := producerIDErrorCode(context.DeadlineExceeded); c != kerr.CoordinatorLoadInProgress.Code {
		t.Fatalf("transport error mapped to %d, want a retriable COORDINATOR_LOAD_IN_PROGRESS", c)
	}
}
