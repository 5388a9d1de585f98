package broker

import (
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/controller/metadata"
	"spool/protocol"
	"spool/storage"
)

// fetchTarget is one partition a fetch reads, in response order.
type fetchTarget struct {
	topic     string
	topicID   [16]byte
	partition int32
	offset    int64
	maxBytes  int32
	epoch     int32 // the leader epoch the client knows
	// lastFetchedEpoch is the epoch of the follower's last batch (v12+),
	// checked against the leader's lineage to detect divergence.
	lastFetchedEpoch int32
	// followerLogStart is a follower's log start offset (v5+), -1 from consumers.
	followerLogStart int64
	// cached is the partition's entry in the fetch session, nil without one.
	cached *sessionPartition
}

// fetchResult is what one partition answers.
type fetchResult struct {
	target            *fetchTarget
	partition         int32
	errCode           int16
	hw, lso, logStart int64
	// leaderID and leaderEpoch fill CurrentLeader for a client that asked
	// the wrong broker; -1 when unset.
	leaderID, leaderEpoch int32
	// divergingEpoch and divergingEnd tell a follower where its log
	// diverges from the leader's; -1 when it does not.
	divergingEpoch int32
	divergingEnd   int64
	// preferred is the replica the consumer should read from instead
	// (KIP-392), -1 when it reads here.
	preferred int32
	// fromFollower: the records are read from a replica this broker follows.
	fromFollower bool
	records      storage.Slice
	// aborted lists, for read_committed, the aborted transactions the
	// records may hold, so the client drops their data.
	aborted []storage.AbortedTxn
	p       *partition // nil on error
}

// fetchOp is one Fetch request being served, possibly over several reads
// while it waits for data.
type fetchOp struct {
	b         *Broker
	version   int16
	listener  string
	isolation int8
	minBytes  int
	maxBytes  int
	maxWait   time.Duration
	session   *fetchSession
	// replicaID is the fetching follower's broker id, -1 for consumers.
	replicaID int32
	// rack is the consumer's client.rack (v11+), empty when unknown.
	rack string
	// incremental leaves unchanged partitions out of the response.
	incremental bool
	targets     []fetchTarget
	// req is the request, for the fetch quota once the response's size
	// is known.
	req *protocol.Request
}

// fetchRound is the outcome of reading every target once.
type fetchRound struct {
	results []fetchResult
	bytes   int
	failed  bool // some partition answered with an error
	// redirected: some partition named a preferred read replica, which
	// the consumer should learn at once rather than after a long poll.
	redirected bool
}

func (b *Broker) handleFetch(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.FetchRequest)
	op := &fetchOp{
		b: b, version: r.Version, listener: req.Listener, isolation: r.IsolationLevel,
		minBytes: int(r.MinBytes), maxBytes: int(max(r.MaxBytes, 0)),
		maxWait:   time.Duration(r.MaxWaitMillis) * time.Millisecond,
		replicaID: fetchReplicaID(r), rack: r.Rack, req: req,
	}
	if op.replicaID >= 0 && !b.fromBroker(req) {
		// A follower's fetch moves the high watermark: clients may not.
		respond(protocol.Msg(fetchError(r, kerr.ClusterAuthorizationFailed.Code)))
		return
	}
	if op.replicaID < 0 {
		if limit := b.fetchQuotaCap(req); limit >= 0 {
			op.maxBytes = min(op.maxBytes, int(limit))
		}
	}
	if code := b.fetchSessions.open(op, r); code != 0 {
		respond(protocol.Msg(fetchError(r, code)))
		return
	}
	rd := op.read()
	if rd.ready(op) || op.maxWait <= 0 {
		respond(op.response(rd))
		return
	}
	rd.release()
	go op.wait(rd.waitable(), respond)
}

// fetchError is a response carrying only a top-level error.
func fetchError(r *kmsg.FetchRequest, code int16) *kmsg.FetchResponse {
	resp := r.ResponseKind().(*kmsg.FetchResponse)
	resp.ErrorCode = code
	return resp
}

// ready reports whether the response may go now: enough bytes, an error to
// report, or nothing to wait for (KIP-227 sessions can be empty).
func (rd *fetchRound) ready(op *fetchOp) bool {
	return rd.bytes >= op.minBytes || rd.failed || rd.redirected || len(rd.results) == 0
}

// waitable lists the partitions whose new data would change the answer.
func (rd *fetchRound) waitable() []*partition {
	out := make([]*partition, 0, len(rd.results))
	for i := range rd.results {
		if p := rd.results[i].p; p != nil {
			out = append(out, p)
		}
	}
	return out
}

func (rd *fetchRound) release() {
	for i := range rd.results {
		rd.results[i].records.Release()
	}
}

// wait is the long poll: it re-reads whenever a partition's high watermark
// moves, until MinBytes is reached or MaxWait passes. It registers before
// its first read, so data appended since the caller's read is not missed.
func (op *fetchOp) wait(parts []*partition, respond func(protocol.Response)) {
	wake := make(chan struct{}, 1)
	for _, p := range parts {
		p.addWaiter(wake)
	}
	timer := time.NewTimer(op.maxWait)
	defer timer.Stop()
	expired := false
	for {
		rd := op.read()
		if expired || rd.ready(op) {
			resp := op.response(rd)
			// Unregistered before answering: the client's next fetch may
			// come at once, and appends should not wake a finished one.
			for _, p := range parts {
				p.removeWaiter(wake)
			}
			respond(resp)
			return
		}
		rd.release()
		select {
		case <-wake:
		case <-timer.C:
			expired = true
		case <-op.b.fetchQuit:
			expired = true
		}
	}
}

// read reads every target once, applying the response-wide MaxBytes with
// at least one whole batch from the first partition that has data (KIP-74).
func (op *fetchOp) read() fetchRound {
	img := op.b.Image()
	rd := fetchRound{results: make([]fetchResult, len(op.targets))}
	for i := range op.targets {
		res := &rd.results[i]
		op.readOne(img, &op.targets[i], res, max(op.maxBytes-rd.bytes, 0), rd.bytes == 0)
		rd.bytes += res.records.Len()
		rd.failed = rd.failed || res.errCode != 0
		rd.redirected = rd.redirected || res.preferred >= 0
	}
	return rd
}

func (op *fetchOp) readOne(img *metadata.Image, t *fetchTarget, res *fetchResult, limit int, minOne bool) {
	*res = fetchResult{target: t, partition: t.partition, hw: -1, lso: -1, logStart: -1, leaderID: -1, leaderEpoch: -1, divergingEpoch: -1, divergingEnd: -1, preferred: -1}
	topic := op.lookupTopic(img, t)
	if topic == nil && op.version >= 13 {
		res.errCode = kerr.UnknownTopicID.Code
		return
	}
	if op.replicaID >= 0 {
		op.readReplica(topic, t, res, limit, minOne)
		return
	}
	p, follower, code := op.consumerPartition(topic, t.partition, t.epoch)
	if code != 0 {
		res.errCode = code
		op.fillLeader(topic, res)
		return
	}
	if !follower {
		if to := op.preferredReadReplica(img, p, t.offset); to >= 0 {
			op.redirect(p, res, to)
			return
		}
	}
	res.fromFollower = follower
	// Read the bounds before the records: the records then never run past
	// the high watermark reported with them.
	hw, lso, start := p.HighWatermark(), p.lastStableOffset(), p.logStartOffset()
	maxOffset := hw
	if op.isolation == readCommitted {
		maxOffset = lso
	}
	sl, err := p.log.Read(t.offset, min(int(max(t.maxBytes, 0)), limit), maxOffset, minOne)
	if err != nil {
		// Only the leader reads the remote tier: it owns the partition's
		// remote view. A follower answers out of range, and the consumer
		// asks the leader.
		if errors.Is(err, storage.ErrOffsetOutOfRange) && !follower && t.offset < p.log.LogStartOffset() && op.readRemote(p, t, res, limit, minOne) {
			if res.errCode == 0 {
				res.hw, res.lso, res.logStart, res.p = hw, lso, p.logStartOffset(), p
			}
			return
		}
		res.errCode = storageErrorCode(err)
		return
	}
	if op.isolation == readCommitted && !sl.Empty() {
		if res.aborted, err = abortedIn(p.log, &sl, t.offset, maxOffset); err != nil {
			sl.Release()
			res.errCode = storageErrorCode(err)
			return
		}
	}
	res.hw, res.lso, res.logStart, res.records, res.p = hw, lso, start, sl, p
}

func (op *fetchOp) lookupTopic(img *metadata.Image, t *fetchTarget) *metadata.Topic {
	if op.version >= 13 {
		return img.Topics.ByID(t.topicID)
	}
	return img.Topics.ByName(t.topic)
}

// fillLeader tells a client that asked the wrong broker (or with a stale
// epoch) who leads now, so it can skip a metadata refresh (KIP-951).
func (op *fetchOp) fillLeader(t *metadata.Topic, res *fetchResult) {
	if op.version < 12 || t == nil {
		return
	}
	if res.errCode != kerr.NotLeaderForPartition.Code && res.errCode != kerr.FencedLeaderEpoch.Code {
		return
	}
	if mp := t.Partition(res.partition); mp != nil {
		res.leaderID, res.leaderEpoch = mp.Leader, mp.LeaderEpoch
	}
}

// endLongPolls answers every waiting fetch with what it has, so shutdown
// does not wait out their MaxWait.
func (b *Broker) endLongPolls() {
	b.quitOnce.Do(func() { close(b.fetchQuit) })
}

// NetStats counts how response bytes left the broker's listeners; the
// server writing the broker's responses should use it.
func (b *Broker) NetStats() *protocol.Stats { return b.netStats }

func (b *Broker) logNetStats() {
	s := b.netStats
	b.log.Info("response bytes", zap.Int64("sendfile", s.SendfileBytes.Load()),
		zap.Int64("copied", s.CopiedBytes.Load()), zap.Int64("written", s.WrittenBytes.Load()))
}
