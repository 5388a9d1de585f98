package controller

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/authz"
	"spool/protocol"
)

// clusterAllowed reports whether req's principal may perform op on the
// cluster. With an authorizer, a principal with CLUSTER_ACTION (a broker
// or another controller) may also perform any admin operation here:
// brokers forward their clients' requests over their own connections
// after authorizing the client themselves, where Kafka wraps them in an
// Envelope carrying the client's principal. Without an authorizer
// everything is allowed, as in Kafka.
func (c *Controller) clusterAllowed(req *protocol.Request, op kmsg.ACLOperation) bool {
	az := c.cfg.Authorizer
	if !az.Enabled() {
		return true
	}
	acls := c.Image().ACLs
	host := authz.HostOf(req.Remote)
	if az.Authorize(acls, req.Principal, host, authz.Action{Op: op, Type: kmsg.ACLResourceTypeCluster, Name: authz.ClusterName}) {
		return true
	}
	return op != kmsg.ACLOperationClusterAction &&
		az.Authorize(acls, req.Principal, host, authz.Action{Op: kmsg.ACLOperationClusterAction, Type: kmsg.ACLResourceTypeCluster, Name: authz.ClusterName})
}
