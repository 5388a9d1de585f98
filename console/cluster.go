package console

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

// Quorum is the controller quorum as the overview shows it.
type Quorum struct {
	Source        string  `json:"source"` // "DescribeQuorum" or "controller" (this node's raft state)
	LeaderID      int32   `json:"leader_id"`
	Epoch         int64   `json:"epoch"`
	HighWatermark int64   `json:"high_watermark"`
	Voters        []Voter `json:"voters"`
	Observers     []Voter `json:"observers"`
	Error         string  `json:"error,omitempty"`
}

// Voter is one voter's or observer's replication state; Lag is -1 when
// unknown.
type Voter struct {
	ID        int32 `json:"id"`
	EndOffset int64 `json:"end_offset"`
	Lag       int64 `json:"lag"`
}

type brokerView struct {
	ID         int32      `json:"id"`
	Rack       string     `json:"rack"`
	Fenced     bool       `json:"fenced"`
	ShuttingDn bool       `json:"in_controlled_shutdown"`
	Listeners  []listener `json:"listeners"`
	Partitions int        `json:"partitions"`
	Leaders    int        `json:"leaders"`
}

type listener struct {
	Name string `json:"name"`
	Host string `json:"host"`
	Port uint16 `json:"port"`
}

// health holds the facts `spool cluster health` reports, judged the same
// way.
type health struct {
	Healthy         bool     `json:"healthy"`
	Reasons         []string `json:"unhealthy_reasons"`
	Controller      int32    `json:"controller_id"`
	Brokers         []int32  `json:"brokers"`
	Fenced          []int32  `json:"fenced_brokers"`
	Offline         []int32  `json:"offline_brokers"`
	Leaderless      []string `json:"leaderless_partitions"`
	UnderReplicated []string `json:"under_replicated_partitions"`
}

type clusterView struct {
	ClusterID       string       `json:"cluster_id"`
	NodeID          int32        `json:"node_id"`
	MetadataOffset  int64        `json:"metadata_offset"`
	MetadataVersion int16        `json:"metadata_version"`
	Topics          int          `json:"topics"`
	Partitions      int          `json:"partitions"`
	Brokers         []brokerView `json:"brokers"`
	Quorum          Quorum       `json:"quorum"`
	Health          health       `json:"health"`
}

// cluster answers GET /v1/cluster: brokers from the image, the quorum and
// the health summary.
func (c *Console) cluster(ctx context.Context, r *http.Request) (any, error) {
	img := c.image()
	v := clusterView{ClusterID: c.src.ClusterID, NodeID: c.src.NodeID, MetadataOffset: img.Offset, MetadataVersion: img.MetadataVersion(), Topics: img.Topics.Len(), Brokers: []brokerView{}}
	byID := map[int32]*brokerView{}
	for _, id := range slices.Sorted(mapsKeys(img.Brokers)) {
		b := img.Brokers[id]
		bv := brokerView{ID: id, Fenced: b.Fenced, ShuttingDn: b.InControlledShutdown, Listeners: []listener{}}
		if b.Rack != nil {
			bv.Rack = *b.Rack
		}
		for _, e := range b.Endpoints {
			bv.Listeners = append(bv.Listeners, listener{Name: e.Name, Host: e.Host, Port: e.Port})
		}
		v.Brokers = append(v.Brokers, bv)
	}
	for i := range v.Brokers {
		byID[v.Brokers[i].ID] = &v.Brokers[i]
	}
	img.Topics.Range(func(t *metadata.Topic) bool {
		for _, p := range t.Partitions {
			v.Partitions++
			for _, r := range p.Replicas {
				if b := byID[r]; b != nil {
					b.Partitions++
				}
			}
			if b := byID[p.Leader]; b != nil {
				b.Leaders++
			}
		}
		return true
	})
	v.Quorum = c.quorum(ctx)
	v.Health = judgeHealth(img, v.Quorum.LeaderID)
	// The reasons and counts stay; names of topics the user may not
	// describe are left out, as Metadata leaves them out.
	visible := func(names []string) []string {
		out := names[:0]
		for _, n := range names {
			if c.may(ctx, r, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeTopic, topicOf(n)) {
				out = append(out, n)
			}
		}
		return out
	}
	v.Health.Leaderless, v.Health.UnderReplicated = visible(v.Health.Leaderless), visible(v.Health.UnderReplicated)
	return v, nil
}

func mapsKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// judgeHealth applies `spool cluster health`'s rules to the image: fenced
// brokers, replicas on unregistered brokers, leaderless and
// under-replicated partitions, and no known active controller.
func judgeHealth(img *metadata.Image, controller int32) health {
	h := health{Reasons: []string{}, Controller: controller, Brokers: []int32{}, Fenced: []int32{}, Offline: []int32{}, Leaderless: []string{}, UnderReplicated: []string{}}
	for id, b := range img.Brokers {
		h.Brokers = append(h.Brokers, id)
		if b.Fenced {
			h.Fenced = append(h.Fenced, id)
		}
	}
	img.Topics.Range(func(t *metadata.Topic) bool {
		for _, p := range t.Partitions {
			name := fmt.Sprintf("%s-%d", t.Name, p.ID)
			if p.Leader < 0 {
				h.Leaderless = append(h.Leaderless, name)
			}
			if len(p.ISR) < len(p.Replicas) {
				h.UnderReplicated = append(h.UnderReplicated, name)
			}
			for _, r := range p.Replicas {
				if img.Brokers[r] == nil && !slices.Contains(h.Offline, r) {
					h.Offline = append(h.Offline, r)
				}
			}
		}
		return true
	})
	slices.Sort(h.Brokers)
	slices.Sort(h.Fenced)
	slices.Sort(h.Offline)
	slices.Sort(h.Leaderless)
	slices.Sort(h.UnderReplicated)
	h.Reasons = metadata.HealthReasons(controller >= 0, len(h.Fenced), len(h.Offline), len(h.Leaderless), len(h.UnderReplicated))
	h.Healthy = len(h.Reasons) == 0
	return h
}

// quorum asks DescribeQuorum (answered by the active controller, which
// knows every voter's progress) and falls back to this controller's own
// raft state when there is no broker to ask or the request fails.
func (c *Console) quorum(ctx context.Context) Quorum {
	q, err := c.describeQuorum(ctx)
	if err == nil {
		return q
	}
	if c.src.Quorum != nil {
		if own, oerr := c.src.Quorum(); oerr == nil {
			return own
		}
	}
	return Quorum{LeaderID: -1, Epoch: -1, HighWatermark: -1, Voters: []Voter{}, Observers: []Voter{}, Error: err.Error()}
}

func (c *Console) describeQuorum(ctx context.Context) (Quorum, error) {
	cl, _, err := c.clients()
	if err != nil {
		return Quorum{}, err
	}
	req := kmsg.NewPtrDescribeQuorumRequest()
	t := kmsg.NewDescribeQuorumRequestTopic()
	t.Topic = "__cluster_metadata"
	p := kmsg.NewDescribeQuorumRequestTopicPartition()
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return Quorum{}, err
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return Quorum{}, err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return Quorum{}, fmt.Errorf("DescribeQuorum answered no partition")
	}
	rp := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
		return Quorum{}, err
	}
	q := Quorum{Source: "DescribeQuorum", LeaderID: rp.LeaderID, Epoch: int64(rp.LeaderEpoch), HighWatermark: rp.HighWatermark, Voters: []Voter{}, Observers: []Voter{}}
	// Lag is the leader's log end minus the replica's, as
	// kafka-metadata-quorum describes it.
	leaderEnd := rp.HighWatermark
	for _, r := range rp.CurrentVoters {
		if r.ReplicaID == rp.LeaderID {
			leaderEnd = r.LogEndOffset
		}
	}
	conv := func(rs []kmsg.DescribeQuorumResponseTopicPartitionReplicaState) []Voter {
		out := []Voter{}
		for _, r := range rs {
			lag := int64(-1)
			if leaderEnd >= 0 && r.LogEndOffset >= 0 {
				lag = max(leaderEnd-r.LogEndOffset, 0)
			}
			out = append(out, Voter{ID: r.ReplicaID, EndOffset: r.LogEndOffset, Lag: lag})
		}
		return out
	}
	q.Voters, q.Observers = conv(rp.CurrentVoters), conv(rp.Observers)
	return q, nil
}

// topicOf is the topic of a "topic-partition" name.
func topicOf(name string) string {
	if i := strings.LastIndexByte(name, '-'); i >= 0 {
		return name[:i]
	}
	return name
}
