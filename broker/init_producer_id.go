package broker

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/broker/txn"
	"spool/protocol"
)

// handleInitProducerId gives a producer its id and epoch. Without a
// transactional id, as in Kafka, it always hands out a fresh id with epoch
// 0, even when the request names its current id and epoch (v3+): an
// idempotent producer bumps its epoch itself (KIP-360) and only comes here
// when it needs a new id. With one, the transaction coordinator answers.
func (b *Broker) handleInitProducerId(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.InitProducerIDRequest)
	resp := r.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if (r.ProducerID < 0) != (r.ProducerEpoch < 0) {
		// An id without an epoch, or an epoch without an id.
		resp.ErrorCode = kerr.InvalidRequest.Code
		return protocol.Msg(resp)
	}
	if r.TransactionalID != nil {
		id, epoch, err := b.initTransactional(ctx, r)
		if err == kerr.ProducerFenced && r.Version < 4 {
			// Older clients know only INVALID_PRODUCER_EPOCH, as in Kafka.
			err = kerr.InvalidProducerEpoch
		}
		if err != nil {
			resp.ErrorCode = err.Code
			return protocol.Msg(resp)
		}
		resp.ProducerID, resp.ProducerEpoch = id, epoch
		return protocol.Msg(resp)
	}
	id, err := b.producerIDs.Next(ctx)
	if err != nil {
		resp.ErrorCode = producerIDErrorCode(err)
		b.log.Warn("cannot allocate a producer id", zap.Error(err))
		return protocol.Msg(resp)
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return protocol.Msg(resp)
}

// initTransactional is InitProducerId for a transactional id: a new id gets
// a fresh producer id at epoch 0; a known one gets its epoch bumped (a new
// producer id once the epochs run out), which fences the producer
// instances before it. An open transaction is aborted first, with
// CONCURRENT_TRANSACTIONS telling the producer to retry.
func (b *Broker) initTransactional(ctx context.Context, r *kmsg.InitProducerIDRequest) (int64, int16, *kerr.Error) {
	id, timeout := *r.TransactionalID, r.TransactionTimeoutMillis
	switch {
	case id == "":
		return -1, -1, kerr.InvalidRequest
	case timeout <= 0 || timeout > b.txns.maxTimeoutMs:
		return -1, -1, kerr.InvalidTransactionTimeout
	}
	req := txn.InitRequest{TimeoutMs: timeout, NewProducerID: txn.NoProducerID}
	if r.ProducerID >= 0 {
		req.Expected = &txn.ProducerIDEpoch{ProducerID: r.ProducerID, Epoch: r.ProducerEpoch}
	}
	e, err := b.txns.entry(id, nil)
	if err != nil {
		return -1, -1, err
	}
	if e == nil {
		pid, err := b.nextProducerID(ctx)
		if err != nil {
			return -1, -1, err
		}
		if e, err = b.txns.entry(id, func() *txn.Txn { return txn.New(id, pid, timeout, time.Now().UnixMilli()) }); err != nil {
			return -1, -1, err
		}
	}
	for {
		tr, needID, err := e.t.PrepareInit(req, time.Now().UnixMilli())
		if needID {
			e.mu.Unlock()
			if req.NewProducerID, err = b.nextProducerID(ctx); err != nil {
				return -1, -1, err
			}
			if e, err = b.txns.entry(id, nil); err != nil || e == nil {
				return -1, -1, cmpOr(err, kerr.NotCoordinator)
			}
			continue
		}
		if err != nil {
			e.mu.Unlock()
			return -1, -1, err
		}
		if tr.State == txn.PrepareAbort {
			// A fence: abort the open transaction, then have the producer
			// retry for the epoch after it.
			pt, err := b.txns.fence(ctx, e, tr)
			e.mu.Unlock()
			if err != nil {
				return -1, -1, err
			}
			b.txns.markers.start(pt)
			return -1, -1, kerr.ConcurrentTransactions
		}
		err = b.txns.commit(ctx, e, tr)
		e.mu.Unlock()
		if err != nil {
			return -1, -1, err
		}
		b.txns.log.Info("initialized transactional id", zap.String("transactional_id", id),
			zap.Int64("producer_id", tr.ProducerID), zap.Int16("epoch", tr.ProducerEpoch))
		return tr.ProducerID, tr.ProducerEpoch, nil
	}
}

// nextProducerID allocates a producer id for the coordinator.
func (b *Broker) nextProducerID(ctx context.Context) (int64, *kerr.Error) {
	id, err := b.producerIDs.Next(ctx)
	if err == nil {
		return id, nil
	}
	b.log.Warn("cannot allocate a producer id", zap.Error(err))
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return -1, ke
	}
	return -1, kerr.CoordinatorLoadInProgress
}

func cmpOr(a, b *kerr.Error) *kerr.Error {
	if a != nil {
		return a
	}
	return b
}

// producerIDErrorCode maps a failure to get a producer id block: Kafka's
// error when the controller answered with one, else the retriable code
// Kafka uses while no block is available.
func producerIDErrorCode(err error) int16 {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.CoordinatorLoadInProgress.Code
}
