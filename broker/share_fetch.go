package broker

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/broker/sharegroup"
	"spool/protocol"
)

// shareFetchPartitionBytes bounds what one partition adds to a response
// (ShareFetch v1+ has no per-partition limit; v0's is honoured).
const shareFetchPartitionBytes = 1 << 20

// defaultShareMaxRecords is max.poll.records' default, for v0 requests
// that cannot say.
const defaultShareMaxRecords = 500

// handleShareFetch serves KIP-932's fetch: it applies the
// acknowledgements the request carries, updates the member's share
// session, and hands the member records it acquires from the session's
// partitions, waiting up to MaxWait for some when there are none.
func (b *Broker) handleShareFetch(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.ShareFetchRequest)
	resp := r.ResponseKind().(*kmsg.ShareFetchResponse)
	if r.GroupID == nil || *r.GroupID == "" || r.MemberID == nil || *r.MemberID == "" {
		resp.ErrorCode = kerr.InvalidRequest.Code
		respond(protocol.Msg(resp))
		return
	}
	var add []sessionPart
	acks := map[sessionPart][]shareAck{}
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			sp := sessionPart{t.TopicID, p.Partition}
			add = append(add, sp)
			for _, a := range p.AcknowledgementBatches {
				acks[sp] = append(acks[sp], ackOf(a.FirstOffset, a.LastOffset, a.AcknowledgeTypes))
			}
		}
	}
	if r.ShareSessionEpoch == shareSessionOpen && len(acks) > 0 {
		resp.ErrorCode = kerr.InvalidRequest.Code
		respond(protocol.Msg(resp))
		return
	}
	var forget []sessionPart
	for _, t := range r.ForgottenTopicsData {
		for _, p := range t.Partitions {
			forget = append(forget, sessionPart{t.TopicID, p})
		}
	}
	op := &shareFetchOp{b: b, m: b.shares, version: r.Version, listener: req.Listener, group: *r.GroupID, member: *r.MemberID}
	now := time.Now()
	parts, code := op.m.session(shareSessionKey{op.group, op.member}, r.ShareSessionEpoch, add, forget, now)
	if code != 0 {
		resp.ErrorCode = code
		respond(protocol.Msg(resp))
		return
	}
	op.ackResults = op.acknowledge(acks, now)
	if r.ShareSessionEpoch == shareSessionClose {
		op.releaseAll(parts)
		respond(protocol.Msg(op.response(resp, nil)))
		return
	}
	op.parts, op.maxBytes = parts, int(max(r.MaxBytes, 0))
	op.maxRecords = defaultShareMaxRecords
	if r.Version >= 1 && r.MaxRecords > 0 {
		op.maxRecords = int(r.MaxRecords)
	}
	if r.Version >= 2 && r.IsRenewAck {
		// A renewal only extends locks: no new records ride on it.
		op.maxRecords = 0
	}
	got := op.read(time.Now())
	wait := time.Duration(r.MaxWaitMillis) * time.Millisecond
	if got.ready() || wait <= 0 || op.maxRecords == 0 {
		respond(protocol.Msg(op.response(resp, got)))
		return
	}
	go op.wait(resp, wait, respond)
}

// ackOf turns a request's acknowledgement batch into a shareAck.
func ackOf(first, last int64, types []int8) shareAck {
	a := shareAck{first: first, last: last, types: make([]sharegroup.AckType, len(types))}
	for i, t := range types {
		a.types[i] = sharegroup.AckType(t)
	}
	return a
}

// wait is the long poll: records appended, released or unlocked wake it
// through the partitions' waiters.
func (op *shareFetchOp) wait(resp *kmsg.ShareFetchResponse, wait time.Duration, respond func(protocol.Response)) {
	wake := make(chan struct{}, 1)
	ps := op.localPartitions()
	for _, p := range ps {
		p.addWaiter(wake)
	}
	defer func() {
		for _, p := range ps {
			p.removeWaiter(wake)
		}
	}()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-wake:
		case <-timer.C:
			respond(protocol.Msg(op.response(resp, op.read(time.Now()))))
			return
		case <-op.b.fetchQuit:
			respond(protocol.Msg(op.response(resp, nil)))
			return
		}
		if got := op.read(time.Now()); got.ready() {
			respond(protocol.Msg(op.response(resp, got)))
			return
		}
	}
}
