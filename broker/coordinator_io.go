package broker

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"go.uber.org/zap"

	"spool/broker/group"
	"spool/record"
)

// apply carries out an Out with cl locked: writes are appended in order
// (their fsync and completion happen later), timers are set, and the
// replies are returned for the caller to send once unlocked.
func (c *coordinator) apply(cl *cell, out group.Out) []group.Reply {
	var replies []group.Reply
	for {
		replies = append(replies, out.Replies...)
		for _, t := range out.Timers {
			c.setTimer(cl, t)
		}
		var next group.Out
		for _, w := range out.Writes {
			if err := c.append(cl, w); err != nil {
				next = mergeOut(next, cl.g.WriteDone(w.ID, err, time.Now()))
			}
		}
		if len(next.Writes)+len(next.Replies)+len(next.Timers) == 0 {
			return replies
		}
		out = next
	}
}

func mergeOut(a, b group.Out) group.Out {
	a.Writes = append(a.Writes, b.Writes...)
	a.Replies = append(a.Replies, b.Replies...)
	a.Timers = append(a.Timers, b.Timers...)
	return a
}

// append writes w's records to the shard's partition and, once they are
// durable, reports the write done to the group.
func (c *coordinator) append(cl *cell, w group.Write) *kerr.Error {
	base, upTo, err := c.appendRecords(cl, w.Records, w.Txn)
	if err != nil {
		return err
	}
	cl.g.Appended(w.ID, base)
	if w.Txn != nil {
		cl.sh.noteTxn(w.Txn.ID, cl.g.ID)
	}
	c.whenDurable(cl, upTo, func(err *kerr.Error) {
		c.onCell(cl, func(g *group.Group, now time.Time) group.Out { return g.WriteDone(w.ID, err, now) })
	})
	return nil
}

// appendRecords appends recs as one batch (transactional when txn is set)
// to the shard's partition: base is the first record's offset, upTo the
// offset after the last.
func (c *coordinator) appendRecords(cl *cell, recs []group.Record, txn *group.Producer) (base, upTo int64, _ *kerr.Error) {
	now := time.Now()
	var batch []byte
	if txn != nil {
		batch = group.EncodeTxnBatch(recs, now.UnixMilli(), *txn)
	} else {
		batch = group.EncodeBatch(recs, now.UnixMilli())
	}
	h, err := record.ParseHeader(batch[:record.HeaderLen])
	if err != nil {
		c.log.Error("encode __consumer_offsets batch", zap.Error(err))
		return 0, 0, kerr.UnknownServerError
	}
	ap := appendParams{appendTimeMs: -1, nowMs: now.UnixMilli(),
		expiryMs: c.b.cfg.Static.Int("producer.id.expiration.ms")}
	res := cl.sh.p.appendAsLeader(batch, h, ap)
	if res.snapshotErr != nil {
		c.log.Warn("producer state snapshot failed", zap.Int32("partition", cl.sh.id), zap.Error(res.snapshotErr))
	}
	if res.err != nil {
		if txn != nil {
			return 0, 0, txnOffsetsAppendError(res.err)
		}
		return 0, 0, appendError(res.err)
	}
	return res.base, res.last + 1, nil
}

// whenDurable calls done once the log is durable up to upTo, or with the
// error a client should see: committed on every ISR member, and fsynced
// when the leader is the only one (as acks=all), so offsets and group
// state survive kill -9 and the loss of a broker.
func (c *coordinator) whenDurable(cl *cell, upTo int64, done func(*kerr.Error)) {
	timeout := time.Duration(c.b.cfg.Static.Int("offsets.commit.timeout.ms")) * time.Millisecond
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), max(timeout, minSyncWait))
		err := cl.sh.p.awaitCommitted(ctx, upTo)
		if err == nil && len(cl.sh.p.inSyncReplicas()) <= 1 {
			err = cl.sh.p.log.Sync(ctx, upTo)
		}
		cancel()
		var kerrv *kerr.Error
		if err != nil {
			kerrv = syncError(err)
			c.log.Warn("__consumer_offsets write not durable", zap.Int32("partition", cl.sh.id), zap.Error(err))
		}
		done(kerrv)
	}()
}

// appendError is Kafka's mapping of a failed __consumer_offsets append to
// what a group client should see.
func appendError(err *kerr.Error) *kerr.Error {
	switch err {
	case kerr.NotLeaderForPartition, kerr.KafkaStorageError:
		return kerr.NotCoordinator
	case kerr.MessageTooLarge, kerr.RecordListTooLarge:
		return kerr.InvalidCommitOffsetSize
	}
	return kerr.CoordinatorNotAvailable
}

func syncError(err error) *kerr.Error {
	if errors.Is(err, context.DeadlineExceeded) {
		return kerr.CoordinatorNotAvailable
	}
	return kerr.NotCoordinator
}

// setTimer feeds t back into the group when it is due.
func (c *coordinator) setTimer(cl *cell, t group.Timer) {
	time.AfterFunc(time.Until(t.At), func() {
		c.onCell(cl, func(g *group.Group, now time.Time) group.Out {
			if now.Before(t.At) {
				now = t.At // the runtime timer may fire a hair early
			}
			return g.Fire(t.Key, t.At, now)
		})
	})
}

// onCell runs an event that answers no new request (a timer, a finished
// write) on a cell, unless it was unloaded meanwhile.
func (c *coordinator) onCell(cl *cell, f func(g *group.Group, now time.Time) group.Out) {
	cl.mu.Lock()
	if cl.gone {
		cl.mu.Unlock()
		return
	}
	gen := cl.generations()
	replies := c.apply(cl, f(cl.g, time.Now()))
	c.countRebalance(cl, gen)
	c.forgetIfEmpty(cl)
	cl.mu.Unlock()
	c.send(replies)
}

// cells lists the groups of every loaded shard.
func (c *coordinator) cells() []*cell {
	c.mu.Lock()
	shards := make([]*shard, 0, len(c.shards))
	for _, sh := range c.shards {
		shards = append(shards, sh)
	}
	c.mu.Unlock()
	var out []*cell
	for _, sh := range shards {
		if !sh.loaded.Load() {
			continue
		}
		sh.mu.Lock()
		for _, cl := range sh.cells {
			out = append(out, cl)
		}
		sh.mu.Unlock()
	}
	return out
}

// runExpiry removes expired offsets every
// offsets.retention.check.interval.ms.
func (c *coordinator) runExpiry(ctx context.Context, every time.Duration) {
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
			for _, cl := range c.cells() {
				c.onCell(cl, func(g *group.Group, now time.Time) group.Out { return g.Expire(now) })
			}
		}
	}
}
