package broker

import (
	"context"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/broker/txn"
	"spool/controller/metadata"
	"spool/protocol"
)

// Marker retries back off from minMarkerBackoff to maxMarkerBackoff.
const (
	minMarkerBackoff = 50 * time.Millisecond
	maxMarkerBackoff = 2 * time.Second
)

// pendingTxn is a prepared transaction whose markers are being written.
// Its id stays pending (CONCURRENT_TRANSACTIONS to its producer) until
// every partition has its marker and done is durable.
type pendingTxn struct {
	e          *txnEntry
	done       *txn.Transit // CompleteCommit or CompleteAbort
	producerID int64
	epoch      int16
	commit     bool
	coordEpoch int32

	mu        sync.Mutex
	backoff   time.Duration
	finishing atomic.Bool
}

// beginMarkers starts completing e's transaction, whose PrepareCommit or
// PrepareAbort is durable; e is locked. The markers carry the producer's
// current epoch (bumped, for a fence) and the shard's leader epoch.
func (c *txnCoordinator) beginMarkers(e *txnEntry) *pendingTxn {
	done, ok := e.t.PrepareComplete(time.Now().UnixMilli())
	if !ok {
		c.log.Error("cannot complete a transaction that is not prepared",
			zap.String("transactional_id", e.t.ID), zap.Stringer("state", e.t.State))
		return nil
	}
	return &pendingTxn{
		e: e, done: done, producerID: e.t.ProducerID, epoch: e.t.ProducerEpoch,
		commit: done.State == txn.CompleteCommit, coordEpoch: e.sh.epoch, backoff: minMarkerBackoff,
	}
}

// live says whether pt still owns its id's pending transition; e locked.
func (pt *pendingTxn) live() bool { return !pt.e.gone && pt.e.t.Pending() == pt.done }

// nextBackoff returns the wait before the next retry and doubles it.
func (pt *pendingTxn) nextBackoff() time.Duration {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	d := pt.backoff
	pt.backoff = min(2*d, maxMarkerBackoff)
	return d
}

// markerSender writes transaction markers to partition leaders, as Kafka's
// TransactionMarkerChannelManager: one queue and one sending goroutine per
// destination broker, each WriteTxnMarkers carrying the markers of every
// transaction waiting for that broker. Markers for partitions this broker
// leads go straight to applyTxnMarkers.
type markerSender struct {
	c      *txnCoordinator
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	dests  map[int32]*markerDest
	wg     sync.WaitGroup
}

type markerDest struct {
	id    int32
	mu    sync.Mutex
	queue []*markerJob
	wake  chan struct{}
}

// markerJob is one transaction's partitions led by one broker.
type markerJob struct {
	pt    *pendingTxn
	parts []txn.Partition
}

func newMarkerSender(c *txnCoordinator) *markerSender {
	s := &markerSender{c: c, dests: map[int32]*markerDest{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

func (s *markerSender) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// spawn runs f on a goroutine close waits for, unless closed.
func (s *markerSender) spawn(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); f() }()
	return true
}

// start sends pt's markers.
func (s *markerSender) start(pt *pendingTxn) {
	if pt == nil {
		return
	}
	pt.e.mu.Lock()
	parts := pt.e.t.Partitions()
	pt.e.mu.Unlock()
	s.route(pt, parts)
}

// route sends parts' markers to their leaders, as the image has them now.
// A partition whose topic or partition no longer exists needs no marker;
// one without a leader is retried later.
func (s *markerSender) route(pt *pendingTxn, parts []txn.Partition) {
	img := s.c.b.Image()
	byLeader := map[int32][]txn.Partition{}
	var deleted, leaderless []txn.Partition
	for _, p := range parts {
		var mp *metadata.Partition
		if t := img.Topics.ByName(p.Topic); t != nil {
			mp = t.Partition(p.Partition)
		}
		switch {
		case mp == nil:
			deleted = append(deleted, p)
		case mp.Leader < 0:
			leaderless = append(leaderless, p)
		default:
			byLeader[mp.Leader] = append(byLeader[mp.Leader], p)
		}
	}
	if len(deleted) > 0 {
		pt.e.mu.Lock()
		live := pt.live()
		if live {
			for _, p := range deleted {
				pt.e.t.MarkerDone(p)
			}
		}
		pt.e.mu.Unlock()
		if !live {
			return
		}
		s.c.log.Info("partitions of a transaction no longer exist; they need no marker",
			zap.String("transactional_id", pt.e.t.ID), zap.Any("partitions", deleted))
	}
	for leader, ps := range byLeader {
		s.enqueue(leader, &markerJob{pt: pt, parts: ps})
	}
	if len(leaderless) > 0 {
		s.retryLater(pt, leaderless)
	}
	if len(byLeader) == 0 && len(leaderless) == 0 {
		s.maybeFinish(pt)
	}
}

// retryLater routes parts again after pt's backoff, unless its shard is
// unloaded meanwhile.
func (s *markerSender) retryLater(pt *pendingTxn, parts []txn.Partition) {
	ctx := pt.e.sh.ctx
	time.AfterFunc(pt.nextBackoff(), func() {
		if ctx.Err() == nil && s.ctx.Err() == nil {
			s.route(pt, parts)
		}
	})
}

func (s *markerSender) enqueue(leader int32, j *markerJob) {
	s.mu.Lock()
	d := s.dests[leader]
	if d == nil && !s.closed {
		d = &markerDest{id: leader, wake: make(chan struct{}, 1)}
		s.dests[leader] = d
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.run(d) }()
	}
	s.mu.Unlock()
	if d == nil {
		return
	}
	d.mu.Lock()
	d.queue = append(d.queue, j)
	d.mu.Unlock()
	d.signal()
}

func (d *markerDest) signal() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// run sends one destination's queued markers, a request at a time, until
// the coordinator closes.
func (s *markerSender) run(d *markerDest) {
	var client *protocol.Client
	defer func() {
		if client != nil {
			client.Close()
		}
	}()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-d.wake:
		}
		for s.ctx.Err() == nil {
			jobs := d.take()
			if len(jobs) == 0 {
				break
			}
			client = s.send(d, jobs, client)
		}
	}
}

// take removes the queued jobs of live transactions, at most one per
// producer id: WriteTxnMarkers answers by producer id. The others wait for
// the next request.
func (d *markerDest) take() []*markerJob {
	d.mu.Lock()
	queued := d.queue
	d.queue = nil
	d.mu.Unlock()
	seen := map[int64]bool{}
	var batch, later []*markerJob
	for _, j := range queued {
		j.pt.e.mu.Lock()
		live := j.pt.live()
		j.pt.e.mu.Unlock()
		switch {
		case !live:
		case seen[j.pt.producerID]:
			later = append(later, j)
		default:
			seen[j.pt.producerID] = true
			batch = append(batch, j)
		}
	}
	if len(later) > 0 {
		d.mu.Lock()
		d.queue = append(later, d.queue...)
		d.mu.Unlock()
		d.signal()
	}
	return batch
}

// send writes jobs' markers to d and handles the answers. Markers for
// partitions this broker leads are written directly; others go over the
// inter-broker listener on client, which is returned (redialled when the
// broker's address changed).
func (s *markerSender) send(d *markerDest, jobs []*markerJob, client *protocol.Client) *protocol.Client {
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	req.SetVersion(1)
	for _, j := range jobs {
		req.Markers = append(req.Markers, markerOf(j))
	}
	ctx, cancel := context.WithTimeout(s.ctx, requestTimeout)
	defer cancel()
	var resp *kmsg.WriteTxnMarkersResponse
	if d.id == s.c.b.cfg.NodeID {
		resp = s.c.b.applyTxnMarkers(ctx, req)
	} else {
		addr := s.c.b.interBrokerAddr(d.id)
		if addr == "" {
			for _, j := range jobs {
				s.retryLater(j.pt, j.parts)
			}
			return client
		}
		if client == nil || client.Addr() != addr {
			if client != nil {
				client.Close()
			}
			client = protocol.NewClientDial(addr, "spool-txn-markers-"+strconv.Itoa(int(s.c.b.cfg.NodeID)), s.c.b.cfg.InterBrokerDial)
		}
		raw, err := client.Request(ctx, req)
		if err != nil {
			if s.ctx.Err() == nil {
				s.c.log.Info("WriteTxnMarkers failed; retrying", zap.Int32("broker", d.id), zap.Error(err))
				for _, j := range jobs {
					s.retryLater(j.pt, j.parts)
				}
			}
			return client
		}
		resp = raw.(*kmsg.WriteTxnMarkersResponse)
	}
	byPID := make(map[int64]*kmsg.WriteTxnMarkersResponseMarker, len(resp.Markers))
	for i := range resp.Markers {
		byPID[resp.Markers[i].ProducerID] = &resp.Markers[i]
	}
	for _, j := range jobs {
		s.onResult(j, byPID[j.pt.producerID])
	}
	return client
}

// markerOf is the WriteTxnMarkers entry of a job.
func markerOf(j *markerJob) kmsg.WriteTxnMarkersRequestMarker {
	m := kmsg.NewWriteTxnMarkersRequestMarker()
	m.ProducerID, m.ProducerEpoch, m.Committed, m.CoordinatorEpoch = j.pt.producerID, j.pt.epoch, j.pt.commit, j.pt.coordEpoch
	parts := slices.Clone(j.parts)
	txn.SortPartitions(parts)
	for _, p := range parts {
		if n := len(m.Topics); n == 0 || m.Topics[n-1].Topic != p.Topic {
			t := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
			t.Topic = p.Topic
			m.Topics = append(m.Topics, t)
		}
		last := &m.Topics[len(m.Topics)-1]
		last.Partitions = append(last.Partitions, p.Partition)
	}
	return m
}

// onResult applies a leader's answer for one job, as Kafka's
// TransactionMarkerRequestCompletionHandler: written partitions are done,
// retriable failures are sent again (to whichever broker then leads
// them), and a fenced producer or coordinator epoch means a newer
// coordinator owns the transaction, so this one stops.
func (s *markerSender) onResult(j *markerJob, rm *kmsg.WriteTxnMarkersResponseMarker) {
	codes := map[txn.Partition]int16{}
	if rm != nil {
		for _, t := range rm.Topics {
			for _, p := range t.Partitions {
				codes[txn.Partition{Topic: t.Topic, Partition: p.Partition}] = p.ErrorCode
			}
		}
	}
	e := j.pt.e
	e.mu.Lock()
	if !j.pt.live() {
		e.mu.Unlock()
		return
	}
	var retry []txn.Partition
	var fenced *kerr.Error
	for _, p := range j.parts {
		code, ok := codes[p]
		if !ok {
			retry = append(retry, p)
			continue
		}
		switch err := kerr.ErrorForCode(code); err {
		case nil, kerr.UnsupportedForMessageFormat, kerr.UnsupportedVersion:
			e.t.MarkerDone(p)
		case kerr.InvalidProducerEpoch, kerr.TransactionCoordinatorFenced:
			fenced = err.(*kerr.Error)
		case kerr.UnknownTopicOrPartition, kerr.NotLeaderForPartition, kerr.NotEnoughReplicas,
			kerr.NotEnoughReplicasAfterAppend, kerr.RequestTimedOut, kerr.KafkaStorageError:
			retry = append(retry, p)
		default:
			s.c.log.Error("unexpected error writing a transaction marker; retrying",
				zap.String("transactional_id", e.t.ID), zap.String("topic", p.Topic),
				zap.Int32("partition", p.Partition), zap.Error(err))
			retry = append(retry, p)
		}
	}
	remaining := len(e.t.Partitions())
	id := e.t.ID
	e.mu.Unlock()
	switch {
	case fenced != nil:
		s.c.log.Warn("stopped writing transaction markers: a newer coordinator or producer epoch owns the transaction",
			zap.String("transactional_id", id), zap.Int32("coordinator_epoch", j.pt.coordEpoch), zap.Error(fenced))
	case len(retry) > 0:
		s.retryLater(j.pt, retry)
	case remaining == 0:
		s.maybeFinish(j.pt)
	}
}

// maybeFinish writes the transaction's completion once every partition
// has its marker, once.
func (s *markerSender) maybeFinish(pt *pendingTxn) {
	pt.e.mu.Lock()
	ready := pt.live() && len(pt.e.t.Partitions()) == 0
	pt.e.mu.Unlock()
	if ready && pt.finishing.CompareAndSwap(false, true) {
		s.spawn(func() { s.c.finish(pt) })
	}
}

// finish writes CompleteCommit or CompleteAbort, retrying until it is
// durable or the shard is unloaded (the next coordinator then finishes
// from the Prepare record). Unlike Kafka, which gives up on errors other
// than COORDINATOR_NOT_AVAILABLE, it keeps trying so the id is never left
// pending while this broker still coordinates it.
func (c *txnCoordinator) finish(pt *pendingTxn) {
	e, sh := pt.e, pt.e.sh
	backoff := minMarkerBackoff
	for {
		e.mu.Lock()
		if !pt.live() {
			e.mu.Unlock()
			return
		}
		err := c.write(sh.ctx, e, pt.done)
		if err == nil && pt.live() {
			e.t.Complete(pt.done)
			e.mu.Unlock()
			return
		}
		e.mu.Unlock()
		if sh.ctx.Err() != nil {
			return
		}
		c.log.Info("writing a transaction's completion failed; retrying",
			zap.String("transactional_id", e.t.ID), zap.Error(err))
		select {
		case <-sh.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxMarkerBackoff)
	}
}

// interBrokerAddr is broker id's inter-broker endpoint from the image, ""
// when it is unknown or fenced.
func (b *Broker) interBrokerAddr(id int32) string {
	br := b.Image().Brokers[id]
	if br == nil || br.Fenced {
		return ""
	}
	ep, ok := br.Endpoint(b.cfg.Node.InterBrokerListener)
	if !ok {
		return ""
	}
	return net.JoinHostPort(ep.Host, strconv.Itoa(int(ep.Port)))
}
