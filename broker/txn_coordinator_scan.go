package broker

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"go.uber.org/zap"

	"spool/broker/group"
	"spool/broker/txn"
)

// fence writes tr, a fencing abort prepared on e (locked), and starts its
// abort markers once it is durable. It returns with e locked.
func (c *txnCoordinator) fence(ctx context.Context, e *txnEntry, tr *txn.Transit) (*pendingTxn, *kerr.Error) {
	if err := c.commit(ctx, e, tr); err != nil {
		return nil, err
	}
	return c.beginMarkers(e), nil
}

// abortTimedOut aborts, with an epoch bump that fences their producers,
// the transactions open longer than their timeout
// (transaction.abort.timed.out.transaction.cleanup.interval.ms).
func (c *txnCoordinator) abortTimedOut(now time.Time) {
	nowMs := now.UnixMilli()
	for _, sh := range c.loadedShards() {
		for _, e := range sh.list() {
			e.mu.Lock()
			var tr *txn.Transit
			if !e.gone && e.t.TimedOut(nowMs) {
				tr, _ = e.t.PrepareFence(nowMs)
			}
			e.mu.Unlock()
			if tr == nil {
				continue
			}
			c.log.Info("aborting a transaction past its timeout", zap.String("transactional_id", e.t.ID),
				zap.Int32("timeout_ms", tr.TimeoutMs), zap.Int16("fenced_epoch", tr.ProducerEpoch))
			c.markers.spawn(func() {
				e.mu.Lock()
				if e.gone || e.t.Pending() != tr {
					e.mu.Unlock()
					return
				}
				pt, err := c.fence(sh.ctx, e, tr)
				e.mu.Unlock()
				if err != nil {
					c.log.Info("aborting a timed-out transaction failed; the next scan retries",
						zap.String("transactional_id", e.t.ID), zap.Error(err))
					return
				}
				c.markers.start(pt)
			})
		}
	}
}

// expiryBatch bounds the tombstones written in one batch.
const expiryBatch = 500

// removeExpired writes tombstones for the transactional ids idle longer
// than transactional.id.expiration.ms
// (transaction.remove.expired.transaction.cleanup.interval.ms), and
// forgets them once the tombstones are durable.
func (c *txnCoordinator) removeExpired(now time.Time) {
	nowMs := now.UnixMilli()
	for _, sh := range c.loadedShards() {
		var es []*txnEntry
		var trs []*txn.Transit
		for _, e := range sh.list() {
			e.mu.Lock()
			if !e.gone {
				if tr, ok := e.t.PrepareDead(nowMs, c.expirationMs); ok {
					es, trs = append(es, e), append(trs, tr)
				}
			}
			e.mu.Unlock()
			if len(es) == expiryBatch {
				c.expire(sh, es, trs)
				es, trs = nil, nil
			}
		}
		if len(es) > 0 {
			c.expire(sh, es, trs)
		}
	}
}

// expire writes the tombstones of es (each pending its Dead transition in
// trs) in one batch, then forgets them or, if the write failed, leaves
// them for the next scan.
func (c *txnCoordinator) expire(sh *txnShard, es []*txnEntry, trs []*txn.Transit) {
	recs := make([]group.Record, len(es))
	for i, e := range es {
		recs[i] = group.Record{Key: txn.Key(e.t.ID)}
	}
	upTo, err := c.append(sh, recs)
	if err == nil {
		err = c.await(c.ctx, sh, upTo, requestTimeout)
	}
	for i, e := range es {
		e.mu.Lock()
		if !e.gone {
			if err == nil && e.t.Complete(trs[i]) {
				c.forget(e)
			} else {
				e.t.Fail(trs[i])
			}
		}
		e.mu.Unlock()
	}
	if err != nil {
		c.log.Info("removing expired transactional ids failed; the next scan retries",
			zap.Int32("partition", sh.id), zap.Int("ids", len(es)), zap.Error(err))
		return
	}
	c.log.Info("removed expired transactional ids", zap.Int32("partition", sh.id), zap.Int("ids", len(es)))
}
