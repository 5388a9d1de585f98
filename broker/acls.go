package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/authz"
	"spool/protocol"
)

// The ACL APIs: DescribeAcls is answered from this broker's image;
// CreateAcls and DeleteAcls are forwarded to the active controller, which
// writes the records, and answered once this broker's image has them.
// Without an authorizer all three answer SECURITY_DISABLED, as Kafka's do.

const noAuthorizer = "No Authorizer is configured."

// aclGate is the error of an ACL request before it is looked at: no
// authorizer, or the principal lacks op on the cluster.
func (b *Broker) aclGate(req *protocol.Request, op kmsg.ACLOperation) (int16, *string) {
	az := b.cfg.Authorizer
	switch {
	case !az.Enabled():
		return kerr.SecurityDisabled.Code, kmsg.StringPtr(noAuthorizer)
	case !az.Authorize(b.Image().ACLs, req.Principal, authz.HostOf(req.Remote),
		authz.Action{Op: op, Type: kmsg.ACLResourceTypeCluster, Name: authz.ClusterName}):
		return kerr.ClusterAuthorizationFailed.Code, nil
	}
	return 0, nil
}

func (b *Broker) handleDescribeAcls(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.DescribeACLsRequest)
	if code, msg := b.aclGate(req, kmsg.ACLOperationDescribe); code != 0 {
		resp := r.ResponseKind().(*kmsg.DescribeACLsResponse)
		resp.ErrorCode, resp.ErrorMessage = code, msg
		respond(protocol.Msg(resp))
		return
	}
	respond(protocol.Msg(authz.Describe(b.Image().ACLs, r)))
}

// forwardACLs sends a CreateAcls or DeleteAcls the principal may make to
// the active controller and waits until this broker's image has the
// result; otherwise it returns the error every item of the answer gets.
func (b *Broker) forwardACLs(ctx context.Context, req *protocol.Request, r kmsg.Request) (kmsg.Response, int16, *string) {
	code, msg := b.aclGate(req, kmsg.ACLOperationAlter)
	if code != 0 {
		return nil, code, msg
	}
	raw, err := b.controllers.Request(ctx, r)
	if err != nil {
		return nil, kerr.RequestTimedOut.Code, kmsg.StringPtr(err.Error())
	}
	b.catchUpMetadata(ctx)
	return raw, 0, nil
}

func (b *Broker) handleCreateAcls(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.CreateACLsRequest)
	raw, code, msg := b.forwardACLs(ctx, req, r)
	if raw != nil {
		return protocol.Msg(raw)
	}
	resp := r.ResponseKind().(*kmsg.CreateACLsResponse)
	for range r.Creations {
		rr := kmsg.NewCreateACLsResponseResult()
		rr.ErrorCode, rr.ErrorMessage = code, msg
		resp.Results = append(resp.Results, rr)
	}
	return protocol.Msg(resp)
}

func (b *Broker) handleDeleteAcls(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.DeleteACLsRequest)
	raw, code, msg := b.forwardACLs(ctx, req, r)
	if raw != nil {
		return protocol.Msg(raw)
	}
	resp := r.ResponseKind().(*kmsg.DeleteACLsResponse)
	for range r.Filters {
		rr := kmsg.NewDeleteACLsResponseResult()
		rr.ErrorCode, rr.ErrorMessage = code, msg
		resp.Results = append(resp.Results, rr)
	}
	return protocol.Msg(resp)
}
