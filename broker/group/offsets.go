package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Exists reports whether a topic partition exists, for OffsetCommit.
type Exists func(topic string, partition int32) bool

// Commit handles an OffsetCommit. Offsets become visible once durable. As
// in Kafka, any offset value is accepted, negative ones included: a
// negative committed offset reads back as "no offset" in every client.
func (g *Group) Commit(id ReqID, r *kmsg.OffsetCommitRequest, exists Exists, now time.Time) Out {
	if err := g.validateCommit(r); err != nil {
		var out Out
		resp := commitResponse(r)
		setCommitErrors(resp, err, false)
		out.reply(id, resp)
		return out
	}
	return g.CommitChecked(id, r, exists, now)
}

// CommitChecked is Commit from a committer the caller already checked:
// a member of the KIP-848 consumer group of the same id, whose membership
// this classic group does not hold.
func (g *Group) CommitChecked(id ReqID, r *kmsg.OffsetCommitRequest, exists Exists, now time.Time) Out {
	var out Out
	resp := commitResponse(r)
	if m := g.members[r.MemberID]; m != nil && (g.state == Stable || g.state == PreparingRebalance) {
		g.touch(&out, m, now)
	}
	var recs []Record
	applied := map[TopicPartition]staged{}
	for i, t := range r.Topics {
		for j, p := range t.Partitions {
			rp := &resp.Topics[i].Partitions[j]
			md := ""
			if p.Metadata != nil {
				md = *p.Metadata
			}
			switch {
			case r.Version >= 10 && t.Topic == "":
				rp.ErrorCode = kerr.UnknownTopicID.Code
			case !exists(t.Topic, p.Partition):
				rp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case len(md) > g.cfg.MaxMetadataSize:
				rp.ErrorCode = kerr.OffsetMetadataTooLarge.Code
			default:
				o := Offset{Offset: p.Offset, LeaderEpoch: p.LeaderEpoch, Metadata: md, CommitMs: now.UnixMilli()}
				applied[TopicPartition{t.Topic, p.Partition}] = staged{o, len(recs)}
				recs = append(recs, Record{Key: OffsetKey(g.ID, t.Topic, p.Partition), Value: OffsetValue(o)})
			}
		}
	}
	if len(recs) == 0 {
		out.reply(id, resp)
		return out
	}
	w := g.write(&out, recs, nil)
	w.done = func(out *Out, err *kerr.Error, now time.Time) {
		if err != nil {
			setCommitErrors(resp, err, true)
		} else if g.state != Dead {
			for tp, st := range applied {
				st.o.LogOffset = w.offsetOf(st.rec)
				g.putOffset(tp, st.o)
			}
		}
		out.reply(id, resp)
	}
	return out
}

// staged is an offset being written as the rec-th record of a write.
type staged struct {
	o   Offset
	rec int
}

// putOffset makes o the committed offset of tp unless the current one was
// written later in the log: writes become durable in any order, and the
// log order is what a reload sees.
func (g *Group) putOffset(tp TopicPartition, o Offset) {
	if o.LogOffset >= 0 {
		if cur, ok := g.offsets[tp]; ok && cur.LogOffset > o.LogOffset {
			return
		}
		if at, ok := g.tombstoned[tp]; ok && at > o.LogOffset {
			return
		}
	}
	g.offsets[tp] = o
}

// validateCommit is Kafka's check of who may commit: anyone to an empty
// group with generation -1 (admin tools, consumers without group
// management), otherwise only the current generation's members.
func (g *Group) validateCommit(r *kmsg.OffsetCommitRequest) *kerr.Error {
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
	} else if g.state != Empty {
		return kerr.UnknownMemberID
	}
	if g.state == CompletingRebalance {
		return kerr.RebalanceInProgress
	}
	return nil
}

// CommitToUnknownGroup answers a commit with a generation for a group that
// does not exist: GROUP_ID_NOT_FOUND from v9, ILLEGAL_GENERATION before.
func CommitToUnknownGroup(r *kmsg.OffsetCommitRequest) *kmsg.OffsetCommitResponse {
	resp := commitResponse(r)
	err := kerr.IllegalGeneration
	if r.Version >= 9 {
		err = kerr.GroupIDNotFound
	}
	setCommitErrors(resp, err, false)
	return resp
}

// CommitError answers every partition of r with err.
func CommitError(r *kmsg.OffsetCommitRequest, err *kerr.Error) *kmsg.OffsetCommitResponse {
	resp := commitResponse(r)
	setCommitErrors(resp, err, false)
	return resp
}

func commitResponse(r *kmsg.OffsetCommitRequest) *kmsg.OffsetCommitResponse {
	resp := r.ResponseKind().(*kmsg.OffsetCommitResponse)
	for _, t := range r.Topics {
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic, rt.TopicID = t.Topic, t.TopicID
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition = p.Partition
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// setCommitErrors sets err on every partition, or with onlyClean on those
// that had none.
func setCommitErrors(resp *kmsg.OffsetCommitResponse, err *kerr.Error, onlyClean bool) {
	for i := range resp.Topics {
		for j := range resp.Topics[i].Partitions {
			p := &resp.Topics[i].Partitions[j]
			if !onlyClean || p.ErrorCode == 0 {
				p.ErrorCode = err.Code
			}
		}
	}
}

// Lookup returns the committed offset of a partition.
func (g *Group) Lookup(tp TopicPartition) (Offset, bool) {
	o, ok := g.offsets[tp]
	return o, ok
}
