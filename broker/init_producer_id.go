package broker

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/protocol"
)

// handleInitProducerId gives an idempotent producer a new producer id with
// epoch 0. As in Kafka, a request without a transactional id always gets a
// fresh id, even when it names its current id and epoch (v3+): an
// idempotent producer bumps its epoch itself (KIP-360) and only comes here
// when it needs a new id. Transactional ids are refused until the
// transaction coordinator exists.
func (b *Broker) handleInitProducerId(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.InitProducerIDRequest)
	resp := r.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if r.TransactionalID != nil {
		resp.ErrorCode = b.refuseTransactional(*r.TransactionalID, req)
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

// refuseTransactional answers a transactional InitProducerId. An empty id
// is INVALID_REQUEST, as in Kafka. Any other is UNSUPPORTED_VERSION: every
// stock client treats it as fatal at once, where the coordinator errors
// Kafka could answer with are retriable and would leave the client retrying
// until its timeout.
func (b *Broker) refuseTransactional(id string, req *protocol.Request) int16 {
	if id == "" {
		return kerr.InvalidRequest.Code
	}
	b.log.Warn("transactional producer refused: transactions are not supported yet",
		zap.String("transactional.id", id), zap.Stringer("remote", req.Remote))
	return kerr.UnsupportedVersion.Code
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
