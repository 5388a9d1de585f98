package controller

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/authz"
	"spool/protocol"
)

// Without an authorizer the ACL APIs answer SECURITY_DISABLED, as Kafka's
// do ("No Authorizer is configured").
const noAuthorizer = "No Authorizer is configured."

func (c *Controller) serveDescribeAcls(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.DescribeACLsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeACLsResponse)
	switch {
	case !c.cfg.Authorizer.Enabled():
		resp.ErrorCode, resp.ErrorMessage = kerr.SecurityDisabled.Code, kmsg.StringPtr(noAuthorizer)
	case !c.clusterAllowed(req, kmsg.ACLOperationDescribe):
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
	default:
		resp = authz.Describe(c.Image().ACLs, r)
	}
	respond(protocol.Msg(resp))
}

func (c *Controller) serveCreateAcls(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.CreateACLsRequest)
	code, msg := c.aclGate(req)
	if code == 0 {
		return protocol.Msg(c.CreateAcls(ctx, r))
	}
	resp := r.ResponseKind().(*kmsg.CreateACLsResponse)
	for range r.Creations {
		rr := kmsg.NewCreateACLsResponseResult()
		rr.ErrorCode, rr.ErrorMessage = code, msg
		resp.Results = append(resp.Results, rr)
	}
	return protocol.Msg(resp)
}

func (c *Controller) serveDeleteAcls(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.DeleteACLsRequest)
	code, msg := c.aclGate(req)
	if code == 0 {
		return protocol.Msg(c.DeleteAcls(ctx, r))
	}
	resp := r.ResponseKind().(*kmsg.DeleteACLsResponse)
	for range r.Filters {
		rr := kmsg.NewDeleteACLsResponseResult()
		rr.ErrorCode, rr.ErrorMessage = code, msg
		resp.Results = append(resp.Results, rr)
	}
	return protocol.Msg(resp)
}

// aclGate is the error every binding of a CreateAcls or DeleteAcls gets
// before anything is looked at: no authorizer, or no ALTER on the cluster.
func (c *Controller) aclGate(req *protocol.Request) (int16, *string) {
	switch {
	case !c.cfg.Authorizer.Enabled():
		return kerr.SecurityDisabled.Code, kmsg.StringPtr(noAuthorizer)
	case !c.clusterAllowed(req, kmsg.ACLOperationAlter):
		return kerr.ClusterAuthorizationFailed.Code, nil
	}
	return 0, nil
}
