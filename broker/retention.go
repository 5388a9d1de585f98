package broker

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"spool/storage"
)

// runRetention deletes expired segments of every hosted log each
// log.retention.check.interval.ms until ctx ends. Every replica applies
// retention to its own log, as in Kafka.
func (b *Broker) runRetention(ctx context.Context) {
	every := time.Duration(b.cfg.Static.Int("log.retention.check.interval.ms")) * time.Millisecond
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.applyRetention(ctx)
		}
	}
}

func (b *Broker) applyRetention(ctx context.Context) {
	img := b.Image()
	for _, p := range b.hostedPartitions() {
		if ctx.Err() != nil {
			return
		}
		if _, tiered := b.tierLimits(img, p.topic); tiered {
			// The remote log manager deletes a tiered log's segments,
			// and only once they are copied.
			continue
		}
		n, err := p.log.ApplyRetention()
		switch {
		case errors.Is(err, storage.ErrClosed):
			// Deleted or closing meanwhile.
		case err != nil:
			b.log.Error("retention failed", zap.Stringer("partition", tp{p.topic, p.id}), zap.Error(err))
		case n > 0:
			b.log.Info("retention deleted segments", zap.Stringer("partition", tp{p.topic, p.id}),
				zap.Int("segments", n), zap.Int64("log_start_offset", p.log.LogStartOffset()))
		}
	}
}

// hostedPartitions snapshots the partitions this broker hosts.
func (b *Broker) hostedPartitions() []*partition {
	rm := b.replicas
	rm.mu.RLock()
	defer rm.mu.RUnlock()
	out := make([]*partition, 0, len(rm.parts))
	for _, p := range rm.parts {
		out = append(out, p)
	}
	return out
}
