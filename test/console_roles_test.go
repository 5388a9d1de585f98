package test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"spool/test/harness"
)

// On a controller-only node the console shows the overview from the
// controller's image and raft state, and the pages that need the Kafka
// API say the node is no broker; on the broker the quorum comes from
// DescribeQuorum.
func TestConsoleOnControllerOnlyNode(t *testing.T) {
	c := harness.NewCluster(t, []string{"controller", "broker"}, nil)
	bases := map[int]string{}
	for _, n := range c.Nodes {
		addr := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
		n.Props["http.listener"] = addr
		n.Rewrite()
		bases[n.ID] = "http://" + addr
	}
	c.Start()
	t.Cleanup(func() {
		for _, n := range c.Nodes {
			n.Stop()
		}
	})
	waitReady(t, bases[2])
	type cluster struct {
		NodeID  int32 `json:"node_id"`
		Brokers []struct {
			ID     int32 `json:"id"`
			Fenced bool  `json:"fenced"`
		}
		Quorum struct {
			Source   string `json:"source"`
			LeaderID int32  `json:"leader_id"`
			Voters   []struct {
				ID  int32 `json:"id"`
				Lag int64 `json:"lag"`
			}
		}
		Health struct {
			Healthy bool `json:"healthy"`
		}
	}
	for id, wantSource := range map[int]string{1: "controller", 2: "DescribeQuorum"} {
		var v cluster
		waitFor(t, 30*time.Second, func() bool {
			return consoleJSON(t, bases[id], "/v1/cluster", &v) == http.StatusOK && len(v.Brokers) == 1 && !v.Brokers[0].Fenced
		})
		if v.NodeID != int32(id) || v.Brokers[0].ID != 2 || v.Quorum.Source != wantSource || v.Quorum.LeaderID != 1 ||
			len(v.Quorum.Voters) != 1 || v.Quorum.Voters[0].ID != 1 || v.Quorum.Voters[0].Lag != 0 || !v.Health.Healthy {
			t.Errorf("node %d /v1/cluster: %+v; want broker 2 unfenced, quorum led by 1 with no lag from %s, healthy", id, v, wantSource)
		}
	}
	for _, path := range []string{"/v1/groups", "/v1/transactions", "/v1/throughput", "/v1/acls"} {
		if code := consoleJSON(t, bases[1], path, nil); code != http.StatusServiceUnavailable {
			t.Errorf("controller-only node %s: %d; want 503", path, code)
		}
		if code := consoleJSON(t, bases[2], path, nil); code != http.StatusOK {
			t.Errorf("broker %s: %d; want 200", path, code)
		}
	}
}
