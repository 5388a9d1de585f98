package controller

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

// Kafka's DescribeCluster endpoint types (KIP-919).
const (
	endpointBrokers     int8 = 1
	endpointControllers int8 = 2
)

// serveDescribeCluster describes the controllers on the controller listener
// (KIP-919): the voters at their controller addresses, and the active one
// as ControllerID, so admin clients given --bootstrap-controller find the
// quorum. Brokers are described on the broker listener only.
func (c *Controller) serveDescribeCluster(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.DescribeClusterRequest)
	resp := r.ResponseKind().(*kmsg.DescribeClusterResponse)
	resp.ClusterID = c.cfg.ClusterID
	resp.EndpointType = endpointControllers
	resp.ClusterAuthorizedOperations = -2147483648
	if r.EndpointType != endpointControllers {
		resp.ErrorCode = kerr.MismatchedEndpointType.Code
		msg := "the controller listener describes controllers only; ask a broker listener for brokers"
		resp.ErrorMessage = &msg
		respond(protocol.Msg(resp))
		return
	}
	resp.ControllerID = c.LeaderID()
	v := c.view.Load()
	for _, id := range v.voters {
		m, ok := v.members[id]
		if !ok {
			continue
		}
		e := m.EndpointFor(c.listenerName())
		b := kmsg.NewDescribeClusterResponseBroker()
		b.NodeID, b.Host, b.Port = id, e.Host, int32(e.Port)
		resp.Brokers = append(resp.Brokers, b)
	}
	slices.SortFunc(resp.Brokers, func(a, b kmsg.DescribeClusterResponseBroker) int { return int(a.NodeID - b.NodeID) })
	respond(protocol.Msg(resp))
}
