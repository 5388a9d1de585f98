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

// followState is one partition's place in a fetcher. add makes a new one,
// so a response to a request built before the partition was (re-)added,
// for an earlier leader or leader epoch, no longer matches and is dropped.
type followState struct {
	backoffUntil time.Time // after an error, until the image moves on
	// diverged is the last divergence the leader answered and how many
	// times in a row it came back unchanged: truncating to it must move
	// the next fetch, so a repeat means this replica is stuck.
	diverged      kmsg.FetchResponseTopicPartitionDivergingEpoch
	divergeRepeat int
}

// fetching is a partition in a request in flight, with the state it was
// requested under.
type fetching struct {
	p  *partition
	st *followState
	// throttled counts what the partition brings against the follower's
	// replication throttle.
	throttled bool
}

// add and remove take f.mu, which handle holds while it applies a
// response: once they return, no response to an earlier request touches
// the partition's log. A new leader relies on this: it starts its epoch at
// its log end, and a late response from the old leader appended after that
// would put the old epoch's batches inside the new epoch, where followers
// holding the same batches are told to truncate them and then fetch them
// again, forever.
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
	failures := 0
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
				failures++
				f.logFetchFailure(addr, failures, err)
				time.Sleep(backoff)
				backoff = min(backoff*2, 2*time.Second)
			}
			continue
		}
		if failures >= fetchFailuresWorthTelling {
			f.m.b.log.Info("replica fetches from the leader work again", zap.Int32("leader", f.leader), zap.Int("failures", failures))
		}
		failures = 0
		backoff = 100 * time.Millisecond
		f.handle(raw.(*kmsg.FetchResponse), parts)
	}
}

// fetchFailuresWorthTelling is how many fetches in a row may fail quietly:
// a leader restarting or moving explains a few, more keep a follower out
// of the ISR and an operator should see why.
const fetchFailuresWorthTelling = 5

func (f *replicaFetcher) logFetchFailure(addr string, failures int, err error) {
	fields := []zap.Field{zap.Int32("leader", f.leader), zap.String("addr", addr), zap.Int("failures", failures), zap.Error(err)}
	if failures == fetchFailuresWorthTelling || failures%100 == 0 {
		f.m.b.log.Info("replica fetches from the leader keep failing", fields...)
		return
	}
	f.m.b.log.Debug("replica fetch failed", fields...)
}

// leaderAddr is the leader's inter-broker endpoint from the image.
func (f *replicaFetcher) leaderAddr() string { return f.m.b.interBrokerAddr(f.leader) }

// request builds one sessionless Fetch for every partition not backing off.
func (f *replicaFetcher) request(now time.Time) (*kmsg.FetchRequest, map[tp]fetching) {
	static := f.m.b.cfg.Static
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(12)
	req.ReplicaID = f.m.b.cfg.NodeID
	req.MaxWaitMillis = int32(static.Int("replica.fetch.wait.max.ms"))
	req.MinBytes = 1
	req.MaxBytes = 16 << 20
	req.SessionEpoch = -1
	parts := map[tp]fetching{}
	byTopic := map[string]int{}
	img := f.m.b.imageIfFollowing()
	f.mu.Lock()
	defer f.mu.Unlock()
	for p, st := range f.parts {
		if now.Before(st.backoffUntil) {
			continue
		}
		hold, throttled := f.m.b.followerHoldsBack(img, p, now)
		if hold {
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
		parts[tp{p.topic, p.id}] = fetching{p, st, throttled}
	}
	return req, parts
}

// handle applies a response to the partitions still fetched under the
// state they were requested with; the others moved to another leader, or
// stopped being followed, while the request was in flight.
func (f *replicaFetcher) handle(resp *kmsg.FetchResponse, parts map[tp]fetching) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range resp.Topics {
		for _, rp := range t.Partitions {
			pf, ok := parts[tp{t.Topic, rp.Partition}]
			if !ok || f.parts[pf.p] != pf.st {
				continue
			}
			if pf.throttled {
				f.m.b.replThrottle.follower.Record(len(rp.RecordBatches), time.Now())
			}
			f.noteDivergence(pf, &rp)
			if err := f.apply(pf.p, &rp); err != nil {
				f.m.b.log.Info("replica fetch of a partition failed", zap.Stringer("partition", tp{pf.p.topic, pf.p.id}),
					zap.Int32("leader", f.leader), zap.Error(err))
				pf.st.backoffUntil = time.Now().Add(500 * time.Millisecond)
			}
		}
	}
}

// noteDivergence says once when the leader keeps answering a partition's
// fetch with the same divergence: the truncation it asks for is not
// moving the fetch, and the replica can never rejoin the ISR.
func (f *replicaFetcher) noteDivergence(pf fetching, rp *kmsg.FetchResponseTopicPartition) {
	d := rp.DivergingEpoch
	if rp.ErrorCode != 0 || d.EndOffset < 0 {
		pf.st.divergeRepeat = 0
		return
	}
	if d.Epoch == pf.st.diverged.Epoch && d.EndOffset == pf.st.diverged.EndOffset {
		pf.st.divergeRepeat++
	} else {
		pf.st.diverged, pf.st.divergeRepeat = d, 1
	}
	if pf.st.divergeRepeat == divergeRepeatsWorthTelling {
		f.m.b.log.Warn("the leader keeps answering the same divergence; this replica is not catching up",
			zap.Stringer("partition", tp{pf.p.topic, pf.p.id}), zap.Int32("leader", f.leader),
			zap.Int32("epoch", d.Epoch), zap.Int64("end_offset", d.EndOffset), zap.Int64("log_end", pf.p.log.LogEndOffset()),
			zap.Int32("last_fetched_epoch", pf.p.epochs.Latest()))
	}
}

// divergeRepeatsWorthTelling is how many identical divergence answers in a
// row show a stuck replica: one truncation always moves the next fetch.
const divergeRepeatsWorthTelling = 10

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
