package main

import (
	"fmt"
	"spool/controller/metadata"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type quorumReplica struct {
	NodeID            int32  `json:"node_id"`
	DirectoryID       string `json:"directory_id,omitempty"`
	LogEndOffset      int64  `json:"log_end_offset"`
	Lag               int64  `json:"lag"`
	LastFetchMs       int64  `json:"last_fetch_timestamp"`
	LastCaughtUpMs    int64  `json:"last_caught_up_timestamp"`
	Status            string `json:"status"`
	lastFetchAgoMilli int64
}

type quorumInfo struct {
	LeaderID       int32           `json:"leader_id"`
	LeaderEpoch    int32           `json:"leader_epoch"`
	HighWatermark  int64           `json:"high_watermark"`
	MaxFollowerLag int64           `json:"max_follower_lag"`
	Voters         []quorumReplica `json:"voters"`
	Observers      []quorumReplica `json:"observers"`
}

func newClusterQuorumCmd(a *app) *cobra.Command {
	var controller string
	var replication bool
	cmd := &cobra.Command{
		Use:   "metadata-quorum --bootstrap-controller HOST:PORT",
		Short: "Show the metadata quorum's leader, epoch, high watermark and each voter's lag",
		Long: `Ask a controller (on its controller listener) for the state of the
__cluster_metadata raft quorum. --bootstrap-controller must reach the active
controller: other voters only know who leads.`,
		Example: `  spool cluster metadata-quorum --bootstrap-controller localhost:9093
  spool cluster metadata-quorum --bootstrap-controller localhost:9093 --replication`,
		Args: cobra.NoArgs,
	}
	a.client(cmd, clientCmd{
		bootstrap: func() (string, error) {
			if controller == "" {
				return "", usageErrorf("metadata-quorum needs --bootstrap-controller HOST:PORT (a controller listener, e.g. localhost:9093)")
			}
			return controller, nil
		},
		run: func(s *session, _ []string) error {
			q, err := describeQuorum(s, controller)
			if err != nil {
				return err
			}
			return show(s, q, func(p *printer) { printQuorum(p, q, replication) })
		},
	})
	cmd.Flags().StringVar(&controller, "bootstrap-controller", "", "a controller listener's HOST:PORT")
	cmd.Flags().BoolVar(&replication, "replication", false, "show each voter's and observer's log end offset and lag")
	cmd.AddCommand(newQuorumAddCmd(a), newQuorumRemoveCmd(a))
	return cmd
}

// describeQuorum sends DescribeQuorum straight to the seed: a controller
// listener serves no Metadata, so the client cannot route by cluster view.
func describeQuorum(s *session, controller string) (quorumInfo, error) {
	req := kmsg.NewPtrDescribeQuorumRequest()
	rt := kmsg.NewDescribeQuorumRequestTopic()
	rt.Topic = "__cluster_metadata"
	rt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(s.ctx, s.cl.SeedBrokers()[0])
	if err != nil {
		return quorumInfo{}, fmt.Errorf("describe quorum at %s: %w", controller, err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return quorumInfo{}, fmt.Errorf("describe quorum at %s: %w", controller, kafkaError(err, deref(resp.ErrorMessage)))
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return quorumInfo{}, fmt.Errorf("describe quorum at %s: unexpected answer", controller)
	}
	rp := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
		if rp.ErrorCode == kerr.NotLeaderForPartition.Code && rp.LeaderID >= 0 {
			return quorumInfo{}, fmt.Errorf("%s is not the active controller; node %d leads (epoch %d): ask its controller listener", controller, rp.LeaderID, rp.LeaderEpoch)
		}
		return quorumInfo{}, fmt.Errorf("describe quorum at %s: %w", controller, kafkaError(err, deref(rp.ErrorMessage)))
	}
	return quorumFrom(rp, time.Now()), nil
}

func printQuorum(p *printer, q quorumInfo, replication bool) {
	if replication {
		var rows [][]string
		for _, r := range append(append([]quorumReplica{}, q.Voters...), q.Observers...) {
			rows = append(rows, []string{fmt.Sprint(r.NodeID), orDash(r.DirectoryID), count(r.LogEndOffset), count(r.Lag), ago(r.lastFetchAgoMilli), r.Status})
		}
		p.table([]string{"NODE", "DIRECTORY-ID", "LOG-END-OFFSET", "LAG", "LAST-FETCH", "STATUS"}, rows)
		return
	}
	var voters, observers []string
	for _, v := range q.Voters {
		voters = append(voters, fmt.Sprint(v.NodeID))
	}
	for _, o := range q.Observers {
		observers = append(observers, fmt.Sprint(o.NodeID))
	}
	p.pairs("Leader", fmt.Sprint(q.LeaderID), "Leader epoch", fmt.Sprint(q.LeaderEpoch), "High watermark", count(q.HighWatermark),
		"Max follower lag", count(q.MaxFollowerLag), "Voters", "["+strings.Join(voters, ",")+"]", "Observers", "["+strings.Join(observers, ",")+"]")
}

func quorumFrom(rp kmsg.DescribeQuorumResponseTopicPartition, now time.Time) quorumInfo {
	q := quorumInfo{LeaderID: rp.LeaderID, LeaderEpoch: rp.LeaderEpoch, HighWatermark: rp.HighWatermark, Voters: []quorumReplica{}, Observers: []quorumReplica{}}
	conv := func(rs []kmsg.DescribeQuorumResponseTopicPartitionReplicaState, voter bool) []quorumReplica {
		out := []quorumReplica{}
		for _, r := range rs {
			qr := quorumReplica{NodeID: r.ReplicaID, DirectoryID: metadata.DirIDString(r.ReplicaDirectoryID), LogEndOffset: r.LogEndOffset, Lag: max(rp.HighWatermark-r.LogEndOffset, 0),
				LastFetchMs: r.LastFetchTimestamp, LastCaughtUpMs: r.LastCaughtUpTimestamp, lastFetchAgoMilli: -1}
			if r.LastFetchTimestamp >= 0 {
				qr.lastFetchAgoMilli = max(now.UnixMilli()-r.LastFetchTimestamp, 0)
			}
			switch {
			case r.ReplicaID == rp.LeaderID:
				qr.Status = "Leader"
			case voter:
				qr.Status = "Follower"
			default:
				qr.Status = "Observer"
			}
			if r.ReplicaID != rp.LeaderID {
				q.MaxFollowerLag = max(q.MaxFollowerLag, qr.Lag)
			}
			out = append(out, qr)
		}
		return out
	}
	q.Voters = conv(rp.CurrentVoters, true)
	q.Observers = conv(rp.Observers, false)
	return q
}

func ago(ms int64) string {
	if ms < 0 {
		return "-"
	}
	return (time.Duration(ms) * time.Millisecond).Round(time.Millisecond).String() + " ago"
}
