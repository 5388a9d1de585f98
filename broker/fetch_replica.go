package broker

import (
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

// fetchReplicaID is the broker id of a follower fetching, -1 for a consumer.
func fetchReplicaID(r *kmsg.FetchRequest) int32 {
	if r.Version >= 15 {
		return r.ReplicaState.ID
	}
	return r.ReplicaID
}

// readReplica serves a follower: it reads up to the log end rather than
// the high watermark, first checks the follower's last fetched epoch
// against the leader's lineage (KIP-595's DivergingEpoch), and records how
// far the follower got, which moves the high watermark and the ISR.
func (op *fetchOp) readReplica(topic *metadata.Topic, t *fetchTarget, res *fetchResult, limit int, minOne bool) {
	p, code := op.b.leaderPartition(topic, t.partition, t.epoch)
	if code != 0 {
		res.errCode = code
		op.fillLeader(topic, res)
		return
	}
	if !slices.Contains(p.replicaSet(), op.replicaID) {
		res.errCode = kerr.NotLeaderForPartition.Code
		return
	}
	leo := p.log.LogEndOffset()
	if t.lastFetchedEpoch >= 0 {
		epoch, end := p.epochs.EndOffsetFor(t.lastFetchedEpoch, leo)
		if epoch != t.lastFetchedEpoch || end < t.offset {
			res.divergingEpoch, res.divergingEnd = epoch, end
			res.hw, res.lso, res.logStart = p.HighWatermark(), p.lastStableOffset(), p.log.LogStartOffset()
			return
		}
	}
	if t.offset > leo {
		res.errCode = kerr.OffsetOutOfRange.Code
		return
	}
	op.b.followerFetched(p, op.replicaID, t.offset, time.Now())
	p.noteFollowerLogStart(op.replicaID, t.followerLogStart)
	hw, lso, start := p.HighWatermark(), p.lastStableOffset(), p.log.LogStartOffset()
	if t.offset < start {
		res.errCode = kerr.OffsetOutOfRange.Code
		res.logStart = start
		return
	}
	now := time.Now()
	hold, throttled := op.b.leaderHoldsBack(op.b.Image(), p, op.replicaID, now)
	if hold {
		res.hw, res.lso, res.logStart = hw, lso, start
		return
	}
	sl, err := p.log.Read(t.offset, min(int(max(t.maxBytes, 0)), limit), leo, minOne)
	if err != nil {
		res.errCode = storageErrorCode(err)
		return
	}
	if throttled {
		op.b.replThrottle.leader.Record(sl.Len(), now)
	}
	res.hw, res.lso, res.logStart, res.records, res.p = hw, lso, start, sl, p
}
