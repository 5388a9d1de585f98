package broker

import (
	"context"
	"errors"
	"os"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"

	"spool/config"
	"spool/storage"
)

// cleanerCrashEnv is a test hook: set to a cleaner step (storage.Step*),
// it makes the process exit with status 137 at that step, as a kill -9
// would leave the files, so process tests can check recovery. It has no
// use outside tests.
const cleanerCrashEnv = "SPOOL_TEST_CLEANER_CRASH_AT"

// cleanupConfig fills the log's compaction settings from the topic's
// cleanup.policy and cleaner configs.
func cleanupConfig(c *storage.Config, layers config.Layers, topic map[string]string) {
	policy, _ := layers.Topic(topic, "cleanup.policy")
	c.Compact, c.Delete = false, false
	for _, p := range config.SplitList(policy) {
		c.Compact = c.Compact || p == "compact"
		c.Delete = c.Delete || p == "delete"
	}
	ratio, _ := layers.Topic(topic, "min.cleanable.dirty.ratio")
	if r, err := strconv.ParseFloat(ratio, 64); err == nil {
		c.MinCleanableDirtyRatio = r
	}
	c.MinCompactionLagMs = layers.TopicInt(topic, "min.compaction.lag.ms")
	c.MaxCompactionLagMs = layers.TopicInt(topic, "max.compaction.lag.ms")
	c.DeleteRetentionMs = layers.TopicInt(topic, "delete.retention.ms")
}

// runCleaner runs log.cleaner.threads cleaners over the hosted compacted
// logs until ctx ends, each with its share of the dedupe buffer, as Kafka
// splits it. A thread with nothing to clean sleeps log.cleaner.backoff.ms.
func (b *Broker) runCleaner(ctx context.Context) {
	st := b.cfg.Static
	threads := int(st.Int("log.cleaner.threads"))
	if !st.Bool("log.cleaner.enable") || threads <= 0 {
		return
	}
	backoff := time.Duration(st.Int("log.cleaner.backoff.ms")) * time.Millisecond
	opts := storage.CleanerOptions{
		DedupeBufferSize: st.Int("log.cleaner.dedupe.buffer.size") / int64(threads),
		Hook:             crashHook(os.Getenv(cleanerCrashEnv)),
		// Compaction inflates from the budget produce validation uses:
		// a compacted log of hostile batches cannot add its own
		// MaxInflated per thread on top of queued.max.inflated.bytes.
		Inflate: b.inflate,
	}
	s := &cleanScheduler{busy: map[*partition]bool{}}
	var wg sync.WaitGroup
	for range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.cleanLoop(ctx, s, storage.NewCleaner(opts), backoff)
		}()
	}
	wg.Wait()
}

func crashHook(at string) func(string) error {
	if at == "" {
		return nil
	}
	return func(step string) error {
		if step == at {
			os.Exit(137)
		}
		return nil
	}
}

func (b *Broker) cleanLoop(ctx context.Context, s *cleanScheduler, c *storage.Cleaner, backoff time.Duration) {
	for ctx.Err() == nil {
		p, stats := s.next(b.hostedPartitions())
		if p == nil {
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			continue
		}
		progressed := b.clean(ctx, c, p, stats)
		s.done(p)
		if !progressed {
			// A failing log, or one held back by its high watermark, must
			// not keep a thread spinning on it.
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
		}
	}
}

// clean runs one clean and logs what it did; it reports whether segments
// were rewritten.
func (b *Broker) clean(ctx context.Context, c *storage.Cleaner, p *partition, st storage.CleanerStats) bool {
	key := tp{p.topic, p.id}
	// Never past the last stable offset: an open transaction's records
	// may yet be aborted, and must not shadow committed ones meanwhile.
	res, err := c.Clean(ctx, p.log, p.lastStableOffset())
	b.cleanerCount.add(res, err)
	switch {
	case errors.Is(err, storage.ErrClosed), errors.Is(err, context.Canceled):
	case errors.Is(err, storage.ErrCleanAborted):
		b.log.Info("clean aborted: segments changed", zap.Stringer("partition", key))
	case err != nil:
		b.log.Error("clean failed", zap.Stringer("partition", key), zap.Error(err))
	case res.Segments > 0:
		b.log.Info("cleaned log", zap.Stringer("partition", key),
			zap.Float64("dirty_ratio", st.DirtyRatio), zap.Int("segments", res.Segments),
			zap.Int64("bytes_before", res.BytesBefore), zap.Int64("bytes_after", res.BytesAfter),
			zap.Int64("dirty_bytes", res.DirtyBytes), zap.Int64("first_dirty_offset", res.EndOffset),
			zap.Duration("took", res.Duration))
	}
	return err == nil && res.Segments > 0
}

// cleanScheduler hands each cleaner thread the dirtiest log no other
// thread is cleaning.
type cleanScheduler struct {
	mu   sync.Mutex
	busy map[*partition]bool
}

func (s *cleanScheduler) next(parts []*partition) (*partition, storage.CleanerStats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cands []*partition
	var stats []storage.CleanerStats
	for _, p := range parts {
		if s.busy[p] || !p.log.Config().Compact {
			continue
		}
		cands = append(cands, p)
		stats = append(stats, p.log.CleanerStatsBelow(p.lastStableOffset()))
	}
	i := storage.PickLog(stats)
	if i < 0 {
		return nil, storage.CleanerStats{}
	}
	s.busy[cands[i]] = true
	return cands[i], stats[i]
}

func (s *cleanScheduler) done(p *partition) {
	s.mu.Lock()
	delete(s.busy, p)
	s.mu.Unlock()
}
