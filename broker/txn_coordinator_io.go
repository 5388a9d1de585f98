package broker

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"go.uber.org/zap"

	"spool/broker/group"
	"spool/broker/txn"
	"spool/controller/metadata"
	"spool/record"
)

// commit writes tr, the transition just prepared on e (locked), and
// applies it once durable, or drops it if the write failed. It returns
// with e locked; NOT_COORDINATOR means the shard went away meanwhile.
func (c *txnCoordinator) commit(ctx context.Context, e *txnEntry, tr *txn.Transit) *kerr.Error {
	err := c.write(ctx, e, tr)
	switch {
	case e.gone:
		return kerr.NotCoordinator
	case err != nil:
		e.t.Fail(tr)
		return err
	}
	e.t.Complete(tr)
	return nil
}

// write appends tr for e (locked) and waits until it is durable with e
// unlocked, so other requests for the id are answered
// (CONCURRENT_TRANSACTIONS) meanwhile. It returns with e locked again.
func (c *txnCoordinator) write(ctx context.Context, e *txnEntry, tr *txn.Transit) *kerr.Error {
	upTo, err := c.append(e.sh, []group.Record{{Key: txn.Key(e.t.ID), Value: txn.Value(tr)}})
	if err != nil {
		return err
	}
	e.mu.Unlock()
	err = c.await(ctx, e.sh, upTo, time.Duration(tr.TimeoutMs)*time.Millisecond)
	e.mu.Lock()
	if e.gone {
		return kerr.NotCoordinator
	}
	return err
}

// append writes recs to the shard's partition as one uncompressed batch,
// as Kafka writes __transaction_state, and returns the offset after it.
// Like Kafka's acks=all coordinator writes it needs the ISR to be at least
// the topic's min.insync.replicas.
func (c *txnCoordinator) append(sh *txnShard, recs []group.Record) (int64, *kerr.Error) {
	if isr, minISR := sh.p.inSyncReplicas(), c.minISR(); len(isr) < minISR {
		return 0, kerr.CoordinatorNotAvailable
	}
	now := time.Now()
	batch := group.EncodeBatch(recs, now.UnixMilli())
	h, err := record.ParseHeader(batch[:record.HeaderLen])
	if err != nil {
		c.log.Error("encode __transaction_state batch", zap.Error(err))
		return 0, kerr.UnknownServerError
	}
	res := sh.p.appendAsLeader(batch, h, appendParams{appendTimeMs: -1, nowMs: now.UnixMilli()})
	if res.snapshotErr != nil {
		c.log.Warn("producer state snapshot failed", zap.Int32("partition", sh.id), zap.Error(res.snapshotErr))
	}
	if res.err != nil {
		return 0, txnAppendError(res.err)
	}
	return res.last + 1, nil
}

// await waits until the records before upTo are on every ISR member, and
// on disk when the leader is the only one, within timeout (at least the
// least acks=all wait) and ctx.
func (c *txnCoordinator) await(ctx context.Context, sh *txnShard, upTo int64, timeout time.Duration) *kerr.Error {
	ctx, cancel := context.WithTimeout(ctx, max(timeout, minSyncWait))
	defer cancel()
	stop := context.AfterFunc(sh.ctx, cancel)
	defer stop()
	err := sh.p.awaitCommitted(ctx, upTo)
	if err == nil && len(sh.p.inSyncReplicas()) <= 1 {
		err = sh.p.log.Sync(ctx, upTo)
	}
	switch {
	case err == nil:
		if len(sh.p.inSyncReplicas()) < c.minISR() {
			// Kafka's NOT_ENOUGH_REPLICAS_AFTER_APPEND, as a coordinator
			// error.
			return kerr.CoordinatorNotAvailable
		}
		return nil
	case sh.ctx.Err() != nil:
		return kerr.NotCoordinator
	case errors.Is(err, context.DeadlineExceeded):
		return kerr.CoordinatorNotAvailable
	}
	c.log.Warn("__transaction_state write not durable", zap.Int32("partition", sh.id), zap.Error(err))
	return kerr.NotCoordinator
}

// minISR is __transaction_state's min.insync.replicas.
func (c *txnCoordinator) minISR() int {
	img := c.b.Image()
	tcfg := img.Configs[metadata.ConfigResource{Type: metadata.ConfigResourceTopic, Name: txnStateTopic}]
	return int(c.b.configLayers(img).TopicInt(tcfg, "min.insync.replicas"))
}

// txnAppendError is Kafka's mapping of a failed __transaction_state append
// to what a transactional client should see.
func txnAppendError(err *kerr.Error) *kerr.Error {
	switch err {
	case kerr.NotLeaderForPartition, kerr.KafkaStorageError:
		return kerr.NotCoordinator
	case kerr.MessageTooLarge, kerr.RecordListTooLarge:
		return kerr.UnknownServerError
	case kerr.UnknownTopicOrPartition, kerr.NotEnoughReplicas, kerr.NotEnoughReplicasAfterAppend, kerr.RequestTimedOut:
		return kerr.CoordinatorNotAvailable
	}
	return err
}
