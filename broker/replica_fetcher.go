package broker

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/protocol"
)

// fetcherManager runs one replica fetcher per leader broker this broker
// follows partitions of, as Kafka does: a follower's partitions with the
// same leader share one connection and one Fetch.
type fetcherManager struct {
	b        *Broker
	mu       sync.Mutex
	fetchers map[int32]*replicaFetcher
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

func newFetcherManager(b *Broker) *fetcherManager {
	ctx, cancel := context.WithCancel(context.Background())
	return &fetcherManager{b: b, fetchers: map[int32]*replicaFetcher{}, ctx: ctx, cancel: cancel}
}

// follow makes p fetch from leader (and from no other fetcher).
func (m *fetcherManager) follow(p *partition, leader int32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, f := range m.fetchers {
		if id != leader {
			f.remove(p)
		}
	}
	f := m.fetchers[leader]
	if f == nil {
		f = &replicaFetcher{m: m, leader: leader, parts: map[*partition]*followState{}, wake: make(chan struct{}, 1)}
		m.fetchers[leader] = f
		m.wg.Add(1)
		go func() { defer m.wg.Done(); f.run(m.ctx) }()
	}
	f.add(p)
}

// unfollow stops fetching p.
func (m *fetcherManager) unfollow(p *partition) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, f := range m.fetchers {
		f.remove(p)
	}
}

// stop ends every fetcher and waits for them.
func (m *fetcherManager) stop() {
	m.cancel()
	m.wg.Wait()
}

// replicaFetcher fetches every partition this broker follows from one
// leader.
type replicaFetcher struct {
	m      *fetcherManager
	leader int32
	mu     sync.Mutex
	parts  map[*partition]*followState
	wake   chan struct{}
}

type followState struct {
	backoffUntil time.Time // after an error, until the image moves on
}

func (f *replicaFetcher) add(p *partition) {
	f.mu.Lock()
	f.parts[p] = &followState{}
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *replicaFetcher) remove(p *partition) {
	f.mu.Lock()
	delete(f.parts, p)
	f.mu.Unlock()
}

func (f *replicaFetcher) run(ctx context.Context) {
	var client *protocol.Client
	defer func() {
		if client != nil {
			client.Close()
		}
	}()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		req, parts := f.request(time.Now())
		if len(parts) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-f.wake:
			case <-time.After(time.Second):
			}
			continue
		}
		addr := f.leaderAddr()
		if addr == "" {
			time.Sleep(backoff)
			continue
		}
		if client == nil || client.Addr() != addr {
			if client != nil {
				client.Close()
			}
			client = protocol.NewClientDial(addr, "spool-replica-fetcher-"+strconv.Itoa(int(f.m.b.cfg.NodeID)), f.m.b.cfg.InterBrokerDial)
			// handle is done with each response before the next fetch.
			client.ReuseResponses()
		}
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		raw, err := client.Request(rctx, req)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				f.m.b.log.Debug("replica fetch failed", zap.Int32("leader", f.leader), zap.Error(err))
				time.Sleep(backoff)
				backoff = min(backoff*2, 2*time.Second)
			}
			continue
		}
		backoff = 100 * time.Millisecond
		f.handle(raw.(*kmsg.FetchResponse), parts)
	}
}

// leaderAddr is the leader's inter-broker endpoint from the image.
func (f *replicaFetcher) leaderAddr() string { return f.m.b.interBrokerAddr(f.leader) }

// request builds one sessionless Fetch for every partition not backing off.
func (f *replicaFetcher) request(now time.Time) (*kmsg.FetchRequest, map[tp]*partition) {
	static := f.m.b.cfg.Static
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(12)
	req.ReplicaID = f.m.b.cfg.NodeID
	req.MaxWaitMillis = int32(static.Int("replica.fetch.wait.max.ms"))
	req.MinBytes = 1
	req.MaxBytes = 16 << 20
	req.SessionEpoch = -1
	parts := map[tp]*partition{}
	byTopic := map[string]int{}
	f.mu.Lock()
	defer f.mu.Unlock()
	for p, st := range f.parts {
		if now.Before(st.backoffUntil) {
			continue
		}
		_, epoch := p.leadership()
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.FetchOffset = p.id, p.log.LogEndOffset()
		rp.CurrentLeaderEpoch, rp.LastFetchedEpoch = epoch, p.epochs.Latest()
		rp.LogStartOffset = p.log.LogStartOffset()
		rp.PartitionMaxBytes = int32(static.Int("replica.fetch.max.bytes"))
		i, ok := byTopic[p.topic]
		if !ok {
			i = len(req.Topics)
			byTopic[p.topic] = i
			t := kmsg.NewFetchRequestTopic()
			t.Topic = p.topic
			req.Topics = append(req.Topics, t)
		}
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
		parts[tp{p.topic, p.id}] = p
	}
	return req, parts
}

func (f *replicaFetcher) handle(resp *kmsg.FetchResponse, parts map[tp]*partition) {
	for _, t := range resp.Topics {
		for _, rp := range t.Partitions {
			p := parts[tp{t.Topic, rp.Partition}]
			if p == nil {
				continue
			}
			if err := f.apply(p, &rp); err != nil {
				f.m.b.log.Info("replica fetch of a partition failed", zap.Stringer("partition", tp{p.topic, p.id}),
					zap.Int32("leader", f.leader), zap.Error(err))
				f.mu.Lock()
				if st := f.parts[p]; st != nil {
					st.backoffUntil = time.Now().Add(500 * time.Millisecond)
				}
				f.mu.Unlock()
			}
		}
	}
}

// apply appends what the leader sent, or truncates where the logs diverge.
func (f *replicaFetcher) apply(p *partition, rp *kmsg.FetchResponseTopicPartition) error {
	if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
		if err == kerr.OffsetOutOfRange {
			return p.resetOutOfRange(rp.LogStartOffset, rp.HighWatermark)
		}
		return err
	}
	if rp.DivergingEpoch.EndOffset >= 0 {
		return p.truncateDiverged(rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset)
	}
	if len(rp.RecordBatches) > 0 {
		if err := p.appendAsFollower(rp.RecordBatches); err != nil {
			return err
		}
	}
	p.followerHighWatermark(rp.HighWatermark)
	return nil
}
