package broker

import (
	"context"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"spool/config"
	"spool/controller/metadata"
	"spool/tiered"
)

// remoteState is a partition's remote view and the leader epoch it was
// last loaded under (-1: never loaded as leader).
type remoteState struct {
	mu          sync.Mutex
	view        *tiered.Partition
	loadedEpoch int32
}

// tierLimits are a tiered topic's retention settings, resolved.
type tierLimits struct {
	localMs, localBytes int64 // local.retention.*, -2 resolved to the total
	totalMs, totalBytes int64 // retention.*
}

// runRemoteLogManager is Kafka's remote log manager task: at once, then
// every remote.log.manager.task.interval.ms, each hosted partition of a
// tiered topic is handled by one of remote.log.manager.thread.pool.size
// workers. Leaders copy closed segments and expire remote ones; every
// replica deletes local segments that are both copied and past local
// retention.
func (b *Broker) runRemoteLogManager(ctx context.Context) {
	s := b.cfg.Tier.Settings()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.remoteTick(ctx, s.Workers)
			t.Reset(s.TaskInterval)
		}
	}
}

func (b *Broker) remoteTick(ctx context.Context, workers int) {
	img := b.Image()
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for _, p := range b.hostedPartitions() {
		lim, ok := b.tierLimits(img, p.topic)
		if !ok {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			b.tierPartition(ctx, p, lim)
		}()
	}
	wg.Wait()
}

// tierLimits reports whether the topic is tiered on this broker, and its
// retention settings.
func (b *Broker) tierLimits(img *metadata.Image, topic string) (tierLimits, bool) {
	if b.cfg.Tier == nil {
		return tierLimits{}, false
	}
	layers := b.configLayers(img)
	tcfg := img.Configs[metadata.ConfigResource{Type: metadata.ConfigResourceTopic, Name: topic}]
	if v, _ := layers.Topic(tcfg, "remote.storage.enable"); !strings.EqualFold(v, "true") {
		return tierLimits{}, false
	}
	return tierLimits{
		localMs:    config.LocalRetention(layers, tcfg, "local.retention.ms", "retention.ms"),
		localBytes: config.LocalRetention(layers, tcfg, "local.retention.bytes", "retention.bytes"),
		totalMs:    layers.TopicInt(tcfg, "retention.ms"),
		totalBytes: layers.TopicInt(tcfg, "retention.bytes"),
	}, true
}

// remoteView is the partition's remote view, loaded from the bucket the
// first time and again whenever this broker leads under a new epoch
// (another leader may have copied or deleted meanwhile).
func (b *Broker) remoteView(ctx context.Context, p *partition) (*tiered.Partition, error) {
	p.remote.mu.Lock()
	defer p.remote.mu.Unlock()
	if p.remote.view == nil {
		p.remote.view = b.cfg.Tier.Partition(tiered.PartitionKey{Topic: p.topic, TopicID: p.topicID, Partition: p.id})
		p.remote.loadedEpoch = -1
	}
	v := p.remote.view
	leading, epoch := p.leadership()
	if !v.Loaded() || (leading && epoch != p.remote.loadedEpoch) {
		if err := b.loadRemote(ctx, p, v); err != nil {
			return nil, err
		}
		if leading {
			p.remote.loadedEpoch = epoch
		}
	}
	return v, nil
}

func (b *Broker) loadRemote(ctx context.Context, p *partition, v *tiered.Partition) error {
	if err := v.Load(ctx); err != nil {
		return err
	}
	p.noteRemote(v)
	return nil
}

// noteRemote publishes the remote log start.
func (p *partition) noteRemote(v *tiered.Partition) {
	start, _, _, ok := v.Bounds()
	if !ok {
		start = -1
	}
	p.remoteStart.Store(start)
}

// logStartOffset is the log start clients see: the remote one when the
// remote tier reaches below the local log.
func (p *partition) logStartOffset() int64 {
	start := p.log.LogStartOffset()
	if rs := p.remoteStart.Load(); rs >= 0 && rs < start {
		return rs
	}
	return start
}

func (b *Broker) tierPartition(ctx context.Context, p *partition, lim tierLimits) {
	key := tp{p.topic, p.id}
	v, err := b.remoteView(ctx, p)
	if err != nil {
		b.log.Warn("remote storage: cannot read the partition's remote segments; local segments stay", zap.Stringer("partition", key), zap.Error(err))
		return
	}
	if leading, _ := p.leadership(); leading {
		if err := v.CleanPending(ctx, b.cfg.NodeID, staleRemoteCopy); err != nil {
			b.log.Warn("remote storage: cleaning unfinished copies failed", zap.Stringer("partition", key), zap.Error(err))
		}
		expire := func() {
			if err := b.expireLocal(p, v, lim); err != nil {
				b.log.Error("remote storage: local retention failed", zap.Stringer("partition", key), zap.Error(err))
			}
		}
		if err := b.copySegments(ctx, p, v, expire); err != nil {
			b.cfg.Tier.Stats().CopyErrors.Add(1)
			b.log.Warn("remote storage: copy failed; local segments stay until it succeeds", zap.Stringer("partition", key), zap.Error(err))
		}
		if err := b.expireRemote(ctx, p, v, lim); err != nil {
			b.log.Warn("remote storage: remote retention failed", zap.Stringer("partition", key), zap.Error(err))
		}
	} else if b.followerBehindRemote(p, v, lim) {
		// A follower learns what the leader copied by reading the
		// bucket again, only when that could free local segments.
		if err := b.loadRemote(ctx, p, v); err != nil {
			b.log.Warn("remote storage: reload failed", zap.Stringer("partition", key), zap.Error(err))
			return
		}
	}
	if err := b.expireLocal(p, v, lim); err != nil {
		b.log.Error("remote storage: local retention failed", zap.Stringer("partition", key), zap.Error(err))
	}
}

// staleRemoteCopy is how old another broker's unfinished copy must be
// before a new leader removes it: far longer than a copy takes.
const staleRemoteCopy = 10 * time.Minute
