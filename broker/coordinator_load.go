package broker

import (
	"fmt"
	"time"

	"go.uber.org/zap"

	"spool/broker/group"
	"spool/storage"
)

// load replays the shard's partition into groups. Requests for its groups
// get COORDINATOR_LOAD_IN_PROGRESS until it is done.
func (c *coordinator) load(sh *shard) {
	start := time.Now()
	loader := group.NewLoader(&c.cfg, start)
	if err := replayOffsets(sh.p.log, loader); err != nil {
		// Serving from a partial state would hand out stale offsets:
		// leave the partition unloaded so clients keep retrying.
		c.log.Error("load groups failed", zap.Int32("partition", sh.id), zap.Error(err))
		return
	}
	groups, outs := loader.Groups(time.Now())
	sh.mu.Lock()
	if sh.closed {
		sh.mu.Unlock()
		return
	}
	cells := make(map[string]*cell, len(groups))
	for id, g := range groups {
		cells[id] = &cell{g: g, sh: sh}
	}
	sh.cells = cells
	sh.mu.Unlock()
	for id, cl := range cells {
		cl.mu.Lock()
		replies := c.apply(cl, outs[id])
		cl.mu.Unlock()
		c.send(replies)
	}
	sh.loaded.Store(true)
	c.log.Info("loaded groups", zap.Int32("partition", sh.id), zap.Int32("leader_epoch", sh.epoch),
		zap.Int("groups", len(cells)), zap.Duration("took", time.Since(start)))
}

// replayOffsets feeds every record of the log, in order, to the loader.
func replayOffsets(l *storage.Log, loader *group.Loader) error {
	var buf []byte
	end := l.LogEndOffset()
	for off := l.LogStartOffset(); off < end; {
		sl, err := l.Read(off, 1<<20, end, true)
		if err != nil {
			return fmt.Errorf("read at %d: %w", off, err)
		}
		if sl.Empty() {
			return nil
		}
		buf, err = sl.ReadAll(buf[:0])
		sl.Release()
		if err != nil {
			return err
		}
		next := off
		err = storage.SplitBatches(buf, func(batch []byte, h storage.BatchHeader) error {
			next = h.NextOffset()
			if h.NextOffset() <= off {
				return nil
			}
			if err := group.DecodeBatch(batch, loader.Apply); err != nil {
				return fmt.Errorf("batch at %d: %w", h.BaseOffset, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if next <= off {
			return fmt.Errorf("replay stuck at offset %d", off)
		}
		off = next
	}
	return nil
}
