package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func newClusterCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Show the cluster: id, controller, brokers, metadata quorum",
		Example: `  spool cluster info
  spool cluster metadata-quorum --bootstrap-controller localhost:9093`,
	}
	cmd.AddCommand(newClusterInfoCmd(a), newClusterQuorumCmd(a))
	return cmd
}

type brokerInfo struct {
	NodeID     int32  `json:"node_id"`
	Host       string `json:"host"`
	Port       int32  `json:"port"`
	Rack       string `json:"rack,omitempty"`
	Controller bool   `json:"controller"`
}

type clusterInfo struct {
	ClusterID  string       `json:"cluster_id"`
	Controller int32        `json:"controller"`
	Brokers    []brokerInfo `json:"brokers"`
}

func newClusterInfoCmd(a *app) *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show the cluster id, the controller and every broker with its listener and rack",
		Long: `Show the cluster id, the controller and the brokers. Each broker is shown at
the listener this client connected through (a broker advertises one address
per listener; clients only ever see their own listener's).`,
		Example: `  spool cluster info
  spool cluster info --bootstrap-server broker1:9092 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			s, err := a.connect(cmd, &f)
			if err != nil {
				return err
			}
			defer s.close()
			m, err := s.adm.BrokerMetadata(s.ctx)
			if err != nil {
				return err
			}
			info := clusterInfo{ClusterID: m.Cluster, Controller: m.Controller, Brokers: []brokerInfo{}}
			for _, b := range m.Brokers {
				bi := brokerInfo{NodeID: b.NodeID, Host: b.Host, Port: b.Port, Controller: b.NodeID == m.Controller}
				if b.Rack != nil {
					bi.Rack = *b.Rack
				}
				info.Brokers = append(info.Brokers, bi)
			}
			p := a.printer(cmd.OutOrStdout())
			if p.json {
				return p.emitJSON(info)
			}
			p.pairs("Cluster ID", info.ClusterID, "Controller", fmt.Sprint(info.Controller), "Brokers", fmt.Sprint(len(info.Brokers)))
			fmt.Fprintln(p.w)
			var rows [][]string
			for _, b := range info.Brokers {
				rows = append(rows, []string{fmt.Sprint(b.NodeID), fmt.Sprintf("%s:%d", b.Host, b.Port), orDash(b.Rack)})
			}
			p.table([]string{"NODE", "LISTENER", "RACK"}, rows)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

type quorumReplica struct {
	NodeID            int32  `json:"node_id"`
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
	var f clientFlags
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkFormat(); err != nil {
				return err
			}
			if controller == "" {
				return usageErrorf("metadata-quorum needs --bootstrap-controller HOST:PORT (a controller listener, e.g. localhost:9093)")
			}
			ca := &app{bootstrap: controller, format: a.format}
			addrs, err := ca.seeds()
			if err != nil {
				return err
			}
			opts, err := f.options()
			if err != nil {
				return err
			}
			if err := dialAny(addrs, min(f.timeout, 5*time.Second)); err != nil {
				return unreachable(addrs, err)
			}
			cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addrs...), kgo.ClientID("spool-cli")}, opts...)...)
			if err != nil {
				return usageErrorf("%v", err)
			}
			defer cl.Close()
			ctx, cancel := interruptible(cmd.Context())
			defer cancel()
			ctx, cancelT := context.WithTimeout(ctx, f.timeout)
			defer cancelT()
			req := kmsg.NewPtrDescribeQuorumRequest()
			rt := kmsg.NewDescribeQuorumRequestTopic()
			rt.Topic = "__cluster_metadata"
			rt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
			req.Topics = append(req.Topics, rt)
			// Straight to the seed: a controller listener serves no
			// Metadata, so the client cannot route by cluster view.
			resp, err := req.RequestWith(ctx, cl.SeedBrokers()[0])
			if err != nil {
				return fmt.Errorf("describe quorum at %s: %w", controller, err)
			}
			if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
				return fmt.Errorf("describe quorum at %s: %w", controller, kafkaError(err, deref(resp.ErrorMessage)))
			}
			if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
				return fmt.Errorf("describe quorum at %s: unexpected answer", controller)
			}
			rp := resp.Topics[0].Partitions[0]
			if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
				if rp.ErrorCode == kerr.NotLeaderForPartition.Code && rp.LeaderID >= 0 {
					return fmt.Errorf("%s is not the active controller; node %d leads (epoch %d): ask its controller listener", controller, rp.LeaderID, rp.LeaderEpoch)
				}
				return fmt.Errorf("describe quorum at %s: %w", controller, kafkaError(err, deref(rp.ErrorMessage)))
			}
			q := quorumFrom(rp, time.Now())
			p := a.printer(cmd.OutOrStdout())
			if p.json {
				return p.emitJSON(q)
			}
			if replication {
				var rows [][]string
				for _, r := range append(append([]quorumReplica{}, q.Voters...), q.Observers...) {
					rows = append(rows, []string{fmt.Sprint(r.NodeID), count(r.LogEndOffset), count(r.Lag), ago(r.lastFetchAgoMilli), r.Status})
				}
				p.table([]string{"NODE", "LOG-END-OFFSET", "LAG", "LAST-FETCH", "STATUS"}, rows)
				return nil
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
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&controller, "bootstrap-controller", "", "a controller listener's HOST:PORT")
	cmd.Flags().BoolVar(&replication, "replication", false, "show each voter's and observer's log end offset and lag")
	return cmd
}

func quorumFrom(rp kmsg.DescribeQuorumResponseTopicPartition, now time.Time) quorumInfo {
	q := quorumInfo{LeaderID: rp.LeaderID, LeaderEpoch: rp.LeaderEpoch, HighWatermark: rp.HighWatermark, Voters: []quorumReplica{}, Observers: []quorumReplica{}}
	conv := func(rs []kmsg.DescribeQuorumResponseTopicPartitionReplicaState, voter bool) []quorumReplica {
		out := []quorumReplica{}
		for _, r := range rs {
			qr := quorumReplica{NodeID: r.ReplicaID, LogEndOffset: r.LogEndOffset, Lag: max(rp.HighWatermark-r.LogEndOffset, 0),
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
