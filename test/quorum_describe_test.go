package test

import (
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// Three controllers and a broker-only node: the broker forwards
// DescribeQuorum to the active controller (v2 with the voters' endpoints),
// and every controller listener describes the controllers with
// DescribeCluster, refusing the broker endpoint type.
func TestDescribeQuorumAndControllersOnEveryListener(t *testing.T) {
	t.Parallel()
	c := harness.NewCluster(t, []string{"controller", "controller", "controller", "broker"}, nil)
	c.Start()
	defer logOnFailure(t, c.Nodes...)

	var leader int32 = -1
	deadline := time.Now().Add(60 * time.Second)
	for leader < 0 && time.Now().Before(deadline) {
		req := kmsg.NewPtrDescribeQuorumRequest()
		req.SetVersion(2)
		rt := kmsg.NewDescribeQuorumRequestTopic()
		rt.Topic = "__cluster_metadata"
		rt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
		req.Topics = append(req.Topics, rt)
		raw, err := harness.Request(c.Node(4).Addr, req, 40*time.Second)
		if err != nil {
			t.Fatalf("DescribeQuorum on the broker listener: %v", err)
		}
		resp := raw.(*kmsg.DescribeQuorumResponse)
		if resp.ErrorCode != 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			t.Fatalf("DescribeQuorum: %+v", resp)
		}
		p := resp.Topics[0].Partitions[0]
		if p.ErrorCode != 0 {
			t.Fatalf("DescribeQuorum partition error %v", kerr.ErrorForCode(p.ErrorCode))
		}
		var voters []int32
		for _, v := range p.CurrentVoters {
			voters = append(voters, v.ReplicaID)
		}
		slices.Sort(voters)
		if !slices.Equal(voters, []int32{1, 2, 3}) || p.LeaderID < 1 || p.LeaderID > 3 || p.HighWatermark <= 0 || len(resp.Nodes) != 3 {
			t.Fatalf("DescribeQuorum: leader %d voters %v hw %d nodes %+v", p.LeaderID, voters, p.HighWatermark, resp.Nodes)
		}
		for _, n := range resp.Nodes {
			if len(n.Listeners) != 1 || n.Listeners[0].Name != "CONTROLLER" || c.Node(int(n.NodeID)).CtrlAddr != hostPort(n.Listeners[0].Host, n.Listeners[0].Port) {
				t.Fatalf("DescribeQuorum node %+v", n)
			}
		}
		leader = p.LeaderID
	}

	for _, n := range c.Nodes[:3] {
		req := kmsg.NewPtrDescribeClusterRequest()
		req.SetVersion(1)
		req.EndpointType = 2
		raw, err := harness.Request(n.CtrlAddr, req, 10*time.Second)
		if err != nil {
			t.Fatalf("DescribeCluster on controller %d: %v", n.ID, err)
		}
		resp := raw.(*kmsg.DescribeClusterResponse)
		var ids []int32
		for _, b := range resp.Brokers {
			ids = append(ids, b.NodeID)
			if c.Node(int(b.NodeID)).CtrlAddr != hostPort(b.Host, uint16(b.Port)) {
				t.Fatalf("controller %d described at %s:%d", b.NodeID, b.Host, b.Port)
			}
		}
		if resp.ErrorCode != 0 || resp.EndpointType != 2 || resp.ControllerID != leader || !slices.Equal(ids, []int32{1, 2, 3}) || resp.ClusterID != n.ClusterID {
			t.Fatalf("DescribeCluster on controller %d: %+v", n.ID, resp)
		}
		req.EndpointType = 1
		raw, err = harness.Request(n.CtrlAddr, req, 10*time.Second)
		if err != nil || raw.(*kmsg.DescribeClusterResponse).ErrorCode != kerr.MismatchedEndpointType.Code {
			t.Fatalf("DescribeCluster for brokers on controller %d: %v %+v", n.ID, err, raw)
		}
	}
}

func hostPort(host string, port uint16) string {
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}
