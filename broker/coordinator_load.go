package broker

import (
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"spool/broker/consumergroup"
	"spool/broker/group"
	"spool/record"
	"spool/storage"
)

// load replays the shard's partition into groups. Requests for its groups
// get COORDINATOR_LOAD_IN_PROGRESS until it is done.
func (c *coordinator) load(sh *shard) {
	start := time.Now()
	loader := group.NewLoader(&c.cfg, start)
	cgLoader := consumergroup.NewLoader(c.groupConfig)
	loader.Other = cgLoader.Apply
	if err := replayOffsets(sh.p.log, loader); err != nil {
		// Serving from a partial state would hand out stale offsets:
		// leave the partition unloaded so clients keep retrying.
		c.log.Error("load groups failed", zap.Int32("partition", sh.id), zap.Error(err))
		return
	}
	groups, outs := loader.Groups(time.Now())
	cgs, cgOuts := cgLoader.Groups(time.Now())
	for id := range cgs {
		if groups[id] == nil {
			// A consumer group that committed no offsets yet.
			groups[id] = group.New(id, &c.cfg, start)
		}
	}
	if c.serveLoaded(sh, groups, outs, cgs, cgOuts) {
		c.log.Debug("loaded groups", zap.Int32("partition", sh.id), zap.Int32("leader_epoch", sh.epoch),
			zap.Int("groups", len(groups)), zap.Duration("took", time.Since(start)))
		c.loads.done(c, len(groups), start)
	}
}

// loadSummary adds up shard loads so that a restart logs one line for
// every __consumer_offsets partition it took over, not one per partition.
type loadSummary struct {
	mu         sync.Mutex
	partitions int
	groups     int
	first      time.Time
}

// done counts a finished load and, once no shard is loading, logs the
// summary and starts a new one.
func (s *loadSummary) done(c *coordinator, groups int, start time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.partitions == 0 {
		s.first = start
	}
	s.partitions++
	s.groups += groups
	if c.loading() {
		return
	}
	c.log.Info("loaded groups", zap.Int("partitions", s.partitions), zap.Int("groups", s.groups), zap.Duration("took", time.Since(s.first)))
	s.partitions, s.groups = 0, 0
}

// serveLoaded installs the loaded groups in the shard, applies what the
// load asks (session timers) and the transaction markers that arrived
// meanwhile, then starts serving the groups. It is false if the shard was
// unloaded first.
func (c *coordinator) serveLoaded(sh *shard, groups map[string]*group.Group, outs map[string]group.Out,
	cgs map[string]*consumergroup.Group, cgOuts map[string]consumergroup.Out) bool {
	cells := make(map[string]*cell, len(groups))
	loaded := make([]*cell, 0, len(groups)) // cells is the shard's once installed
	for id, g := range groups {
		cl := &cell{g: g, cg: cgs[id], sh: sh}
		cells[id] = cl
		loaded = append(loaded, cl)
	}
	early, ok := sh.install(cells)
	if !ok {
		return false
	}
	for _, cl := range loaded {
		cl.mu.Lock()
		replies := c.apply(cl, outs[cl.g.ID])
		if cl.cg != nil {
			replies = append(replies, c.applyConsumer(cl, cl.cg, cgOuts[cl.g.ID])...)
		}
		cl.mu.Unlock()
		c.send(replies)
	}
	// Markers that became durable while the log was replayed; those the
	// replay already saw find nothing left to complete.
	for _, o := range early {
		sh.mu.Lock()
		txnCells := sh.takeTxnCells(o.producerID)
		sh.mu.Unlock()
		c.applyTxn(txnCells, o)
	}
	sh.loaded.Store(true)
	return true
}

// replayOffsets feeds every batch of the log, in order, to the loader:
// data batches record by record, transaction markers as the end of their
// producer's transaction.
func replayOffsets(l *storage.Log, loader *group.Loader) error {
	return replayLog(l, func(batch []byte, h record.Header) error {
		if h.IsControl() {
			ctl, err := record.ParseMarker(batch)
			if err != nil {
				return fmt.Errorf("control batch at %d: %w", h.BaseOffset, err)
			}
			if ctl.Type == record.ControlCommit || ctl.Type == record.ControlAbort {
				loader.EndTxn(h.ProducerID, ctl.Type == record.ControlCommit)
			}
			return nil
		}
		if err := loader.ApplyBatch(batch); err != nil {
			return fmt.Errorf("batch at %d: %w", h.BaseOffset, err)
		}
		return nil
	})
}
