package group

import (
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TxnCommit handles a TxnOffsetCommit. The offsets are written as one
// transactional batch of the request's producer and stay pending, unseen by
// OffsetFetch, until that producer's transaction marker reaches the
// partition (CompleteTxn). The reply goes out once the batch is durable.
func (g *Group) TxnCommit(id ReqID, r *kmsg.TxnOffsetCommitRequest, exists Exists, now time.Time) Out {
	if err := g.validateTxnCommit(r); err != nil {
		var out Out
		resp := txnCommitResponse(r)
		setTxnCommitErrors(resp, err, false)
		out.reply(id, resp)
		return out
	}
	return g.TxnCommitChecked(id, r, exists, now)
}

// TxnCommitChecked is TxnCommit from a committer the caller already
// checked (a member of the consumer group of the same id).
func (g *Group) TxnCommitChecked(id ReqID, r *kmsg.TxnOffsetCommitRequest, exists Exists, now time.Time) Out {
	var out Out
	resp := txnCommitResponse(r)
	var recs []Record
	pending := map[TopicPartition]staged{}
	for i, t := range r.Topics {
		for j, p := range t.Partitions {
			rp := &resp.Topics[i].Partitions[j]
			md := ""
			if p.Metadata != nil {
				md = *p.Metadata
			}
			switch {
			case !exists(t.Topic, p.Partition):
				rp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case len(md) > g.cfg.MaxMetadataSize:
				rp.ErrorCode = kerr.OffsetMetadataTooLarge.Code
			default:
				o := Offset{Offset: p.Offset, LeaderEpoch: p.LeaderEpoch, Metadata: md, CommitMs: now.UnixMilli()}
				pending[TopicPartition{t.Topic, p.Partition}] = staged{o, len(recs)}
				recs = append(recs, Record{Key: OffsetKey(g.ID, t.Topic, p.Partition), Value: OffsetValue(o)})
			}
		}
	}
	if len(recs) == 0 {
		out.reply(id, resp)
		return out
	}
	pid := r.ProducerID
	w := g.writeAs(&out, recs, &Producer{ID: pid, Epoch: r.ProducerEpoch}, func(out *Out, err *kerr.Error, now time.Time) {
		// A batch that reached the log stays pending even if it is not
		// durable in time: it may still commit, and its marker decides.
		if err != nil {
			setTxnCommitErrors(resp, err, true)
		}
		out.reply(id, resp)
	})
	w.appended = func(base int64) {
		if g.state == Dead {
			return
		}
		m := g.txnOffsets[pid]
		if m == nil {
			m = map[TopicPartition]Offset{}
			g.txnOffsets[pid] = m
		}
		for tp, st := range pending {
			st.o.LogOffset = base + int64(st.rec)
			m[tp] = st.o
		}
	}
	return out
}

// validateTxnCommit is Kafka's check of a transactional commit: as for
// OffsetCommit when the request names a member or generation (v3+), but
// requests without them are accepted in any state, since v0-v2 cannot
// carry them, and a rebalance in progress does not stop a transaction.
func (g *Group) validateTxnCommit(r *kmsg.TxnOffsetCommitRequest) *kerr.Error {
	if g.state == Dead {
		return kerr.CoordinatorNotAvailable
	}
	if r.Generation < 0 && g.state == Empty {
		return nil
	}
	if r.Generation >= 0 || r.MemberID != "" || r.InstanceID != nil {
		if err := g.validateMember(r.MemberID, r.InstanceID); err != nil {
			return err
		}
		if r.Generation != g.generation {
			return kerr.IllegalGeneration
		}
	}
	return nil
}

// CompleteTxn applies the marker of producerID's transaction: commit makes
// its pending offsets the committed ones, except where a commit later in
// the log already replaced them; abort drops them.
func (g *Group) CompleteTxn(producerID int64, commit bool) Out {
	m := g.txnOffsets[producerID]
	delete(g.txnOffsets, producerID)
	if !commit || g.state == Dead {
		return Out{}
	}
	for tp, o := range m {
		if cur, ok := g.offsets[tp]; !ok || cur.LogOffset < o.LogOffset {
			g.offsets[tp] = o
		}
	}
	return Out{}
}

// HasPendingTxn reports whether a transaction not yet ended holds an
// offset of tp: OffsetFetch with RequireStable answers
// UNSTABLE_OFFSET_COMMIT for it (KIP-447).
func (g *Group) HasPendingTxn(tp TopicPartition) bool {
	for _, m := range g.txnOffsets {
		if _, ok := m[tp]; ok {
			return true
		}
	}
	return false
}

// TxnProducers lists the producer ids with pending offsets in the group.
func (g *Group) TxnProducers() []int64 {
	out := make([]int64, 0, len(g.txnOffsets))
	for pid := range g.txnOffsets {
		out = append(out, pid)
	}
	slices.Sort(out)
	return out
}

// pendingTxnOnly lists the partitions that have pending transactional
// offsets but no committed one, sorted.
func (g *Group) pendingTxnOnly() []TopicPartition {
	var tps []TopicPartition
	for _, m := range g.txnOffsets {
		for tp := range m {
			if _, ok := g.offsets[tp]; !ok && !slices.Contains(tps, tp) {
				tps = append(tps, tp)
			}
		}
	}
	slices.SortFunc(tps, compareTP)
	return tps
}

// applyTombstone removes what an offset tombstone at log offset at (-1:
// unknown) removes on replay: the committed offset of tp and every pending
// transactional one, as Kafka does, but not those written after it.
func (g *Group) applyTombstone(tp TopicPartition, at int64) {
	if at >= 0 && len(g.writes) > 0 {
		if g.tombstoned == nil {
			g.tombstoned = map[TopicPartition]int64{}
		}
		g.tombstoned[tp] = max(g.tombstoned[tp], at)
	}
	if cur, ok := g.offsets[tp]; ok && (at < 0 || cur.LogOffset < at) {
		delete(g.offsets, tp)
	}
	for pid, m := range g.txnOffsets {
		if o, ok := m[tp]; ok && (at < 0 || o.LogOffset < at) {
			delete(m, tp)
			if len(m) == 0 {
				delete(g.txnOffsets, pid)
			}
		}
	}
}

// TxnCommitError answers every partition of r with err.
func TxnCommitError(r *kmsg.TxnOffsetCommitRequest, err *kerr.Error) *kmsg.TxnOffsetCommitResponse {
	resp := txnCommitResponse(r)
	setTxnCommitErrors(resp, err, false)
	return resp
}

func txnCommitResponse(r *kmsg.TxnOffsetCommitRequest) *kmsg.TxnOffsetCommitResponse {
	resp := r.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	for _, t := range r.Topics {
		rt := kmsg.NewTxnOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			rp.Partition = p.Partition
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// setTxnCommitErrors sets err on every partition, or with onlyClean on
// those that had none.
func setTxnCommitErrors(resp *kmsg.TxnOffsetCommitResponse, err *kerr.Error, onlyClean bool) {
	for i := range resp.Topics {
		for j := range resp.Topics[i].Partitions {
			p := &resp.Topics[i].Partitions[j]
			if !onlyClean || p.ErrorCode == 0 {
				p.ErrorCode = err.Code
			}
		}
	}
}
