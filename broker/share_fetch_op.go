package broker

import (
	"cmp"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"spool/broker/sharegroup"
)

// shareFetchOp is one ShareFetch or ShareAcknowledge being served.
type shareFetchOp struct {
	b        *Broker
	m        *shareManager
	version  int16
	listener string
	group    string
	member   string

	parts      []sessionPart
	maxBytes   int
	maxRecords int
	// ackResults is the acknowledgement error code of each partition the
	// request acknowledged in.
	ackResults map[sessionPart]int16
}

// shareResult is what one partition of the session answers.
type shareResult struct {
	part                  sessionPart
	code                  int16
	leaderID, leaderEpoch int32
	records               []byte
	ranges                []sharegroup.Range
}

type shareRound []shareResult

// ready reports a round worth answering at once: records or an error.
func (rd shareRound) ready() bool {
	return slices.ContainsFunc(rd, func(r shareResult) bool { return len(r.ranges) > 0 || r.code != 0 })
}

// resolve finds the partition sp names, if this broker leads it.
func (op *shareFetchOp) resolve(sp sessionPart) (*partition, shareResult) {
	res := shareResult{part: sp, leaderID: -1, leaderEpoch: -1}
	t := op.b.Image().Topics.ByID(sp.topicID)
	if t == nil {
		res.code = kerr.UnknownTopicID.Code
		return nil, res
	}
	p, code := op.b.leaderPartition(t, sp.partition, noLeaderEpoch)
	if mp := t.Partition(sp.partition); mp != nil {
		res.leaderID, res.leaderEpoch = mp.Leader, mp.LeaderEpoch
	}
	res.code = code
	return p, res
}

// sharePart finds the share-partition of sp for this op's group.
func (op *shareFetchOp) sharePart(sp sessionPart) (*sharePart, shareResult) {
	p, res := op.resolve(sp)
	if p == nil {
		return nil, res
	}
	s, err := op.m.part(op.group, p)
	if err != nil {
		op.m.log.Warn("share state unreadable", zap.String("group", op.group), zap.Error(err))
		res.code = kerr.KafkaStorageError.Code
		return nil, res
	}
	return s, res
}

func (op *shareFetchOp) acknowledge(acks map[sessionPart][]shareAck, now time.Time) map[sessionPart]int16 {
	out := make(map[sessionPart]int16, len(acks))
	for part, as := range acks {
		s, res := op.sharePart(part)
		if s == nil {
			out[part] = res.code
			continue
		}
		out[part] = s.acknowledge(op.m, op.member, as, now)
	}
	return out
}

// releaseAll releases what the member holds in parts: its session closed.
func (op *shareFetchOp) releaseAll(parts []sessionPart) {
	for _, part := range parts {
		if s, _ := op.sharePart(part); s != nil {
			s.releaseMember(op.m, op.member)
		}
	}
}

// read acquires records for the member from every partition of its
// session, within the request's byte and record budgets.
func (op *shareFetchOp) read(now time.Time) shareRound {
	rd := make(shareRound, 0, len(op.parts))
	bytes, records := op.maxBytes, op.maxRecords
	for _, part := range op.parts {
		s, res := op.sharePart(part)
		if s != nil && bytes > 0 && records > 0 {
			res.records, res.ranges, res.code = s.acquire(op.m, op.member, min(bytes, shareFetchPartitionBytes), records, now)
			bytes -= len(res.records)
			for _, r := range res.ranges {
				records -= int(r.Last - r.First + 1)
			}
		}
		rd = append(rd, res)
	}
	return rd
}

// localPartitions are the session's partitions led here, for waiting.
func (op *shareFetchOp) localPartitions() []*partition {
	var out []*partition
	for _, part := range op.parts {
		if p, _ := op.resolve(part); p != nil {
			out = append(out, p)
		}
	}
	return out
}

// response fills resp with the partitions that have records, errors or
// acknowledgement results.
func (op *shareFetchOp) response(resp *kmsg.ShareFetchResponse, rd shareRound) *kmsg.ShareFetchResponse {
	resp.AcquisitionLockTimeoutMillis = int32(op.m.groupConfig(op.group).LockDuration.Milliseconds())
	// Indexes, not pointers: the slices grow as entries are added.
	byPart := map[sessionPart][2]int{}
	topicOf := map[[16]byte]int{}
	entry := func(sp sessionPart) *kmsg.ShareFetchResponseTopicPartition {
		if at, ok := byPart[sp]; ok {
			return &resp.Topics[at[0]].Partitions[at[1]]
		}
		i, ok := topicOf[sp.topicID]
		if !ok {
			t := kmsg.NewShareFetchResponseTopic()
			t.TopicID = sp.topicID
			resp.Topics = append(resp.Topics, t)
			i = len(resp.Topics) - 1
			topicOf[sp.topicID] = i
		}
		p := kmsg.NewShareFetchResponseTopicPartition()
		p.Partition = sp.partition
		resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, p)
		byPart[sp] = [2]int{i, len(resp.Topics[i].Partitions) - 1}
		return &resp.Topics[i].Partitions[len(resp.Topics[i].Partitions)-1]
	}
	var leaders []int32
	for _, res := range rd {
		if len(res.ranges) == 0 && res.code == 0 {
			continue
		}
		e := entry(res.part)
		e.ErrorCode, e.Records = res.code, res.records
		e.CurrentLeader.LeaderID, e.CurrentLeader.LeaderEpoch = res.leaderID, res.leaderEpoch
		if res.code == kerr.NotLeaderForPartition.Code && res.leaderID >= 0 {
			leaders = append(leaders, res.leaderID)
		}
		for _, r := range res.ranges {
			a := kmsg.NewShareFetchResponseTopicPartitionAcquiredRecord()
			a.FirstOffset, a.LastOffset, a.DeliveryCount = r.First, r.Last, r.DeliveryCount
			e.AcquiredRecords = append(e.AcquiredRecords, a)
		}
	}
	for part, code := range op.ackResults {
		if e := entry(part); e.ErrorCode == 0 {
			e.AcknowledgeErrorCode = code
		}
	}
	resp.NodeEndpoints = op.endpoints(leaders)
	return resp
}

// endpoints lists the leaders a NOT_LEADER_OR_FOLLOWER answer names.
func (op *shareFetchOp) endpoints(ids []int32) []kmsg.ShareFetchResponseNodeEndpoint {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	img := op.b.Image()
	var out []kmsg.ShareFetchResponseNodeEndpoint
	for _, id := range ids {
		br := img.Brokers[id]
		if br == nil {
			continue
		}
		if ep, ok := br.Endpoint(op.listener); ok {
			n := kmsg.NewShareFetchResponseNodeEndpoint()
			n.NodeID, n.Host, n.Port, n.Rack = id, ep.Host, int32(ep.Port), br.Rack
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b kmsg.ShareFetchResponseNodeEndpoint) int { return cmp.Compare(a.NodeID, b.NodeID) })
	return out
}
