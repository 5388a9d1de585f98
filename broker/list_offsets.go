package broker

import (
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
)

// ListOffsets' special timestamps.
const (
	listLatest        = -1
	listEarliest      = -2
	listMaxTimestamp  = -3 // KIP-734
	listEarliestLocal = -4 // KIP-405: the local log start
	listLatestTiered  = -5 // KIP-1005: the last offset in the remote tier
	listPendingUpload = -6 // KIP-1023: the first offset not yet in the remote tier (v11+)
)

func (b *Broker) handleListOffsets(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.ListOffsetsRequest)
	resp := r.ResponseKind().(*kmsg.ListOffsetsResponse)
	dups := duplicateListPartitions(r)
	img := b.Image()
	for _, rt := range r.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		t := img.Topics.ByName(rt.Topic)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.Timestamp, sp.Offset, sp.LeaderEpoch = -1, -1, noLeaderEpoch
			if dups[tp{rt.Topic, rp.Partition}] {
				// Kafka answers every copy of a repeated partition so.
				sp.ErrorCode = kerr.InvalidRequest.Code
			} else {
				b.listOffset(t, &rp, r, &sp)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	respond(protocol.Msg(resp))
}

func duplicateListPartitions(r *kmsg.ListOffsetsRequest) map[tp]bool {
	seen := map[tp]bool{}
	var dups map[tp]bool
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			k := tp{t.Topic, p.Partition}
			if seen[k] {
				if dups == nil {
					dups = map[tp]bool{}
				}
				dups[k] = true
			}
			seen[k] = true
		}
	}
	return dups
}

// listOffset answers one partition. Like Kafka, a lookup finding an offset
// at or above what the isolation level may read answers offset -1.
func (b *Broker) listOffset(t *metadata.Topic, rp *kmsg.ListOffsetsRequestTopicPartition, r *kmsg.ListOffsetsRequest, sp *kmsg.ListOffsetsResponseTopicPartition) {
	p, code := b.leaderPartition(t, rp.Partition, rp.CurrentLeaderEpoch)
	if code != 0 {
		sp.ErrorCode = code
		return
	}
	fetchable := p.fetchableOffset(r.IsolationLevel)
	switch rp.Timestamp {
	case listLatest:
		_, epoch := p.leadership()
		sp.Offset, sp.LeaderEpoch = fetchable, epoch
	case listEarliest:
		b.loadTiered(p)
		start := p.logStartOffset()
		sp.Offset, sp.LeaderEpoch = start, p.epochAt(start, math.MaxInt64)
		if start < p.log.LogStartOffset() {
			sp.LeaderEpoch = b.remoteEpochAt(p, start)
		}
	case listEarliestLocal:
		start := p.log.LogStartOffset()
		sp.Offset, sp.LeaderEpoch = start, p.epochAt(start, math.MaxInt64)
	case listLatestTiered:
		sp.Offset, sp.LeaderEpoch = b.latestTiered(p)
	case listPendingUpload:
		if r.Version < 11 {
			sp.ErrorCode = kerr.UnsupportedVersion.Code
			return
		}
		sp.Offset, sp.LeaderEpoch = b.earliestPendingUpload(p)
	case listMaxTimestamp:
		ts, off := p.log.MaxTimestamp()
		if off < fetchable {
			sp.Timestamp, sp.Offset, sp.LeaderEpoch = ts, off, p.epochAt(off, math.MaxInt64)
		}
	default:
		if rp.Timestamp < 0 {
			// A special timestamp no version defines, as Kafka answers.
			sp.ErrorCode = kerr.UnsupportedVersion.Code
			return
		}
		off, ts, ok, err := b.remoteOffsetForTimestamp(p, rp.Timestamp)
		if err == nil && !ok {
			off, ts, ok, err = p.log.OffsetForTimestamp(rp.Timestamp)
		}
		if err != nil {
			sp.ErrorCode = storageErrorCode(err)
			return
		}
		if ok && off < fetchable {
			sp.Timestamp, sp.Offset, sp.LeaderEpoch = ts, off, p.epochAt(off, math.MaxInt64)
			if off < p.log.LogStartOffset() {
				sp.LeaderEpoch = b.remoteEpochAt(p, off)
			}
		}
	}
}
