package broker

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/protocol"
)

func (b *Broker) handleDescribeCluster(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.DescribeClusterRequest)
	resp := r.ResponseKind().(*kmsg.DescribeClusterResponse)
	img := b.Image()
	resp.ClusterID = b.cfg.ClusterID
	resp.ControllerID = b.cfg.NodeID
	resp.ClusterAuthorizedOperations = b.authorizedOps(req, r.IncludeClusterAuthorizedOperations, kmsg.ACLResourceTypeCluster, "kafka-cluster", clusterOperations)
	resp.EndpointType = 1
	if r.EndpointType != 1 {
		// Controllers are described on the controller listener (KIP-919).
		resp.ErrorCode = kerr.MismatchedEndpointType.Code
		msg := "the broker listener describes brokers only"
		resp.ErrorMessage = &msg
		respond(protocol.Msg(resp))
		return
	}
	for _, br := range img.Brokers {
		ep, ok := br.Endpoint(req.Listener)
		if !ok || (br.Fenced && !r.IncludeFencedBrokers) {
			continue
		}
		db := kmsg.NewDescribeClusterResponseBroker()
		db.NodeID, db.Host, db.Port, db.Rack, db.IsFenced = br.ID, ep.Host, int32(ep.Port), br.Rack, br.Fenced
		resp.Brokers = append(resp.Brokers, db)
	}
	slices.SortFunc(resp.Brokers, func(a, b kmsg.DescribeClusterResponseBroker) int { return int(a.NodeID - b.NodeID) })
	respond(protocol.Msg(resp))
}
