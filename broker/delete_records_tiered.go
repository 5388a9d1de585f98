package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"go.uber.org/zap"
)

// deleteRemoteRecords is DeleteRecords on a tiered partition: the new log
// start is written to the bucket first (so every broker that loads the
// partition honours it, and reads below it stop at once), then the local
// log follows if the offset reaches it. The remote segments wholly below
// go at the leader's next remote retention run.
func (b *Broker) deleteRemoteRecords(ctx context.Context, p *partition, offset int64) (int64, int16) {
	v, err := b.remoteView(ctx, p)
	if err != nil {
		b.log.Warn("remote storage: DeleteRecords cannot read the remote segments", zap.Stringer("partition", tp{p.topic, p.id}), zap.Error(err))
		return -1, kerr.KafkaStorageError.Code
	}
	if offset > p.logStartOffset() {
		if err := v.SetLogStart(ctx, offset); err != nil {
			b.log.Warn("remote storage: DeleteRecords cannot write the log start", zap.Stringer("partition", tp{p.topic, p.id}), zap.Error(err))
			return -1, kerr.KafkaStorageError.Code
		}
		p.noteRemote(v)
	}
	if offset > p.log.LogStartOffset() {
		if _, err := p.log.DeleteRecordsBefore(offset); err != nil {
			return -1, storageErrorCode(err)
		}
	}
	return p.logStartOffset(), 0
}
