package broker

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"go.uber.org/zap"

	"spool/storage"
	"spool/tiered"
)

// readRemote serves a consumer's fetch below the local log start from the
// remote tier and reports whether it answered; false leaves the offset out
// of range (not tiered, or below the remote start too). A failing object
// store answers KAFKA_STORAGE_ERROR, which clients retry, once the api
// call timeout ends the read.
func (op *fetchOp) readRemote(p *partition, t *fetchTarget, res *fetchResult, limit int, minOne bool) bool {
	b := op.b
	if _, ok := b.tierLimits(b.Image(), p.topic); !ok {
		return false
	}
	ctx := context.Background()
	if op.req != nil {
		ctx = op.req.Context()
	}
	v, err := b.remoteView(ctx, p)
	if err == nil {
		var data []byte
		data, err = b.cfg.Tier.Read(ctx, v, t.offset, min(int(max(t.maxBytes, 0)), limit), minOne)
		if errors.Is(err, tiered.ErrNotRemote) {
			return false
		}
		if err == nil && op.isolation == readCommitted && len(data) > 0 {
			res.aborted, err = remoteAborted(ctx, b.cfg.Tier, v, p, t.offset)
		}
		if err == nil {
			res.records = storage.MemSlice(data)
			return true
		}
	}
	b.log.Warn("remote storage: read failed", zap.Stringer("partition", tp{p.topic, p.id}), zap.Int64("offset", t.offset), zap.Error(err))
	res.errCode = kerr.KafkaStorageError.Code
	return true
}

// remoteAborted lists the aborted transactions a read_committed consumer
// needs from offset on: those of the remote segments and of the local log.
func remoteAborted(ctx context.Context, t *tiered.Tier, v *tiered.Partition, p *partition, offset int64) ([]storage.AbortedTxn, error) {
	aborted, err := t.AbortedTxns(ctx, v, offset)
	if err != nil {
		return nil, err
	}
	return p.log.AbortedTxns(aborted, p.log.LogStartOffset(), p.lastStableOffset())
}
