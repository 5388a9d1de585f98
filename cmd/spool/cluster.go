package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newClusterCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Show the cluster: id, controller, brokers, health, metadata quorum; move leaders",
		Example: `  spool cluster info
  spool cluster health
  spool cluster elect-leaders --all-topics
  spool cluster metadata-quorum --bootstrap-controller localhost:9093`,
	}
	cmd.AddCommand(newClusterInfoCmd(a), newClusterHealthCmd(a), newClusterElectCmd(a), newClusterQuorumCmd(a), newClusterDecommissionCmd(a))
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
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show the cluster id, the controller and every broker with its listener and rack",
		Long: `Show the cluster id, the controller and the brokers. Each broker is shown at
the listener this client connected through (a broker advertises one address
per listener; clients only ever see their own listener's).`,
		Example: `  spool cluster info
  spool cluster info --bootstrap-server broker1:9092 --format json`,
		Args: cobra.NoArgs,
	}
	return a.client(cmd, clientCmd{run: func(s *session, _ []string) error {
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
		return show(s, info, func(p *printer) {
			p.pairs("Cluster ID", info.ClusterID, "Controller", fmt.Sprint(info.Controller), "Brokers", fmt.Sprint(len(info.Brokers)))
			fmt.Fprintln(p.w)
			var rows [][]string
			for _, b := range info.Brokers {
				rows = append(rows, []string{fmt.Sprint(b.NodeID), fmt.Sprintf("%s:%d", b.Host, b.Port), orDash(b.Rack)})
			}
			p.table([]string{"NODE", "LISTENER", "RACK"}, rows)
		})
	}})
}
