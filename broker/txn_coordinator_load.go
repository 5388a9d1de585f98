package broker

import (
	"fmt"
	"time"

	"go.uber.org/zap"

	"spool/broker/group"
	"spool/broker/txn"
	"spool/record"
	"spool/storage"
)

// load replays the shard's partition into transactional ids, then resumes
// the markers of transactions the previous coordinator had prepared but
// not completed. Requests for its ids get COORDINATOR_LOAD_IN_PROGRESS
// until it is done.
func (c *txnCoordinator) load(sh *txnShard) {
	start := time.Now()
	loader := txn.NewLoader()
	if err := replayTxnLog(sh.p.log, loader); err != nil {
		// Serving from a partial state could hand out fenced epochs and
		// lose prepared commits: leave the partition unloaded so clients
		// keep retrying, as Kafka does.
		c.log.Error("load transactional ids failed", zap.Int32("partition", sh.id), zap.Error(err))
		return
	}
	if loader.Skipped > 0 {
		c.log.Warn("skipped __transaction_state records with unknown key versions",
			zap.Int32("partition", sh.id), zap.Int("records", loader.Skipped))
	}
	txns := loader.Txns()
	sh.mu.Lock()
	if sh.closed {
		sh.mu.Unlock()
		return
	}
	for id, t := range txns {
		sh.entries[id] = &txnEntry{t: t, sh: sh}
	}
	prepared := txn.Prepared(txns)
	var resume []*txnEntry
	for _, t := range prepared {
		resume = append(resume, sh.entries[t.ID])
	}
	sh.mu.Unlock()
	// Serve first: completing a transaction writes to this partition,
	// which must not be refused as loading.
	sh.loaded.Store(true)
	for _, e := range resume {
		e.mu.Lock()
		pt := c.beginMarkers(e)
		e.mu.Unlock()
		c.markers.start(pt)
	}
	logf := c.log.Debug
	if len(txns) > 0 {
		logf = c.log.Info
	}
	logf("loaded transactional ids", zap.Int32("partition", sh.id), zap.Int32("coordinator_epoch", sh.epoch),
		zap.Int("ids", len(txns)), zap.Int("resumed", len(resume)), zap.Duration("took", time.Since(start)))
}

// replayTxnLog feeds every record of the log, in order, to the loader.
func replayTxnLog(l *storage.Log, loader *txn.Loader) error {
	return replayLog(l, func(batch []byte, h record.Header) error {
		err := group.DecodeBatch(batch, func(r group.Record) error { return loader.Apply(r.Key, r.Value) })
		if err != nil {
			return fmt.Errorf("batch at %d: %w", h.BaseOffset, err)
		}
		return nil
	})
}
