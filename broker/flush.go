package broker

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"spool/storage"
)

// flushCheckInterval is how often logs are checked for flush.ms; a log
// without flush.ms (the default) costs one comparison per check.
const flushCheckInterval = time.Second

// runFlusher fsyncs logs whose flush.ms has elapsed since their last flush
// (log.flush.interval.ms and the topic's flush.ms). flush.messages is
// applied on append by storage.
func (b *Broker) runFlusher(ctx context.Context) {
	t := time.NewTicker(flushCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, p := range b.hostedPartitions() {
				if err := p.log.MaybeFlush(ctx); err != nil && !errors.Is(err, storage.ErrClosed) && ctx.Err() == nil {
					b.log.Error("scheduled flush failed", zap.Stringer("partition", tp{p.topic, p.id}), zap.Error(err))
				}
			}
		}
	}
}
