package controller

import (
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

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

// guard serves a request only if its principal may perform op on the
// cluster (see clusterAllowed); otherwise it answers with Kafka's
// authorization errors, or closes the connection for a raft message,
// which has no error to carry. With a secured controller listener this is
// what keeps raft messages and broker lifecycle requests to principals
// that are nodes: super users, or principals granted CLUSTER_ACTION.
func (c *Controller) guard(op kmsg.ACLOperation, serve protocol.ServeFunc) protocol.ServeFunc {
	return func(req *protocol.Request, respond func(protocol.Response)) {
		if c.clusterAllowed(req, op) {
			serve(req, respond)
			return
		}
		c.authRefused.Add(1)
		if ok, dropped := c.refusedLog.Allow(c.now()); ok {
			c.log.Warn("request refused: principal not authorized", zap.String("api", kmsg.NameForKey(req.Key)),
				zap.Stringer("principal", req.Principal), zap.Stringer("remote", req.Remote),
				zap.Stringer("operation", op), zap.Int("lines_suppressed", dropped))
		}
		if req.Msg != nil {
			if resp := authz.Refuse(req.Msg); resp != nil {
				respond(protocol.Msg(resp))
				return
			}
		}
		if req.Key == protocol.RaftMessageKey {
			c.raftRefused.Add(1)
		}
		respond(protocol.CloseConn)
	}
}

// AuthRefused counts requests refused for lack of authorization.
func (c *Controller) AuthRefused() int64 { return c.authRefused.Load() }
