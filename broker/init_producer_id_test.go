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
		{5, str("tx-1"), -1, -1, kerr.UnsupportedVersion, -1, -1},
	} {
		r := kmsg.NewPtrInitProducerIDRequest()
		r.SetVersion(tt.version)
		r.TransactionalID, r.ProducerID, r.ProducerEpoch = tt.txnID, tt.pid, tt.epoch
		resp := tb.b.handleInitProducerId(context.Background(), &protocol.Request{Header: protocol.Header{Key: 22, Version: tt.version}, Msg: r})
		got := resp.Msg.(*kmsg.InitProducerIDResponse)
		if got.ErrorCode != errCode(tt.wantErr) || got.ProducerID != tt.wantPID || got.ProducerEpoch != tt.wantEpoch {
			t.Fatalf("case %d: error %d id %d epoch %d, want %v %d %d", i, got.ErrorCode, got.ProducerID, got.ProducerEpoch,
				tt.wantErr, tt.wantPID, tt.wantEpoch)
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
