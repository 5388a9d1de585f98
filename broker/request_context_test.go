package broker

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
	"spool/storage"
)

// An async handler works under its request's context: when the
// connection closes, the handler's context ends too.
func TestRequestContextReachesAsyncHandlers(t *testing.T) {
	b := &Broker{}
	ctx, cancel := context.WithCancel(context.Background())
	seen := make(chan error, 1)
	serve := b.async(func(ctx context.Context, req *protocol.Request) protocol.Response {
		select {
		case <-ctx.Done():
			seen <- ctx.Err()
		case <-time.After(30 * time.Second):
			seen <- nil
		}
		return protocol.CloseConn
	})
	req := (&protocol.Request{}).WithContext(ctx)
	serve(req, func(protocol.Response) {})
	cancel()
	if err := <-seen; err != context.Canceled {
		t.Fatalf("handler context ended with %v, want context.Canceled", err)
	}
}

// An acks=all produce waiting for a follower that never fetches stops
// waiting when its connection closes, long before its 30 s timeout.
func TestProduceWaitEndsWithItsConnection(t *testing.T) {
	tb := newTestBroker(t, nil, storage.Options{})
	tb.p.setState(&metadata.Partition{ID: 0, Replicas: []int32{1, 2}, ISR: []int32{1, 2}, Leader: 1, LeaderEpoch: 3}, 1)
	if err := tb.p.becomeLeader(1, time.Now()); err != nil {
		t.Fatal(err)
	}
	r := produceReq(12, -1, buildBatch(t, batchSpec{recs: values(2, 10)}))
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan protocol.Response, 1)
	req := (&protocol.Request{Header: protocol.Header{Key: 0, Version: r.Version}, Msg: r}).WithContext(ctx)
	tb.b.handleProduce(req, func(resp protocol.Response) { got <- resp })
	select {
	case resp := <-got:
		t.Fatalf("answered before the follower had the records: %+v", resp.Msg.(*kmsg.ProduceResponse).Topics[0].Partitions[0])
	case <-time.After(200 * time.Millisecond):
	}
	cancel()
	select {
	case resp := <-got:
		if p := resp.Msg.(*kmsg.ProduceResponse).Topics[0].Partitions[0]; p.ErrorCode == 0 {
			t.Fatal("a wait cut short by the connection answered success")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the wait went on after the connection closed")
	}
}
