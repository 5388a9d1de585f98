package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
	"spool/security"
)

// Delegation tokens (KIP-48). Create, Renew and Expire go to the active
// controller, which writes the records; the broker first applies the
// checks Kafka's broker makes (who may ask at all, CREATE_TOKENS for
// another owner) and tells the controller who asked (see
// protocol.ForwardedPrincipalTag). Describe is answered from the image.

func (b *Broker) tokenSecret() string { return b.cfg.Static.Get("delegation.token.secret.key") }

// forwardPrincipal tags a request the broker forwards with its client's
// principal.
func forwardPrincipal(tags *kmsg.Tags, req *protocol.Request) {
	tags.Set(protocol.ForwardedPrincipalTag, []byte(req.Principal.String()))
}

func (b *Broker) handleCreateDelegationToken(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.CreateDelegationTokenRequest)
	resp := r.ResponseKind().(*kmsg.CreateDelegationTokenResponse)
	resp.TokenRequesterPrincipalType, resp.TokenRequesterPrincipalName = req.Principal.Type, req.Principal.Name
	resp.PrincipalType, resp.PrincipalName = req.Principal.Type, req.Principal.Name
	otherOwner := r.OwnerPrincipalName != nil && *r.OwnerPrincipalName != ""
	if otherOwner {
		resp.PrincipalName = *r.OwnerPrincipalName
		if r.OwnerPrincipalType != nil && *r.OwnerPrincipalType != "" {
			resp.PrincipalType = *r.OwnerPrincipalType
		}
	}
	owner := security.Principal{Type: resp.PrincipalType, Name: resp.PrincipalName}
	switch {
	case !req.MayRequestTokens():
		resp.ErrorCode = kerr.DelegationTokenRequestNotAllowed.Code
	case otherOwner && owner != req.Principal && !b.allowed(req, kmsg.ACLOperationCreateTokens, kmsg.ACLResourceTypeUser, owner.String()):
		resp.ErrorCode = kerr.DelegationTokenAuthorizationFailed.Code
	case !renewersAreUsers(r.Renewers):
		resp.ErrorCode = kerr.InvalidPrincipalType.Code
	default:
		forwardPrincipal(&r.UnknownTags, req)
		raw, err := b.controllers.Request(ctx, r)
		if err != nil {
			resp.ErrorCode = kerr.RequestTimedOut.Code
			return protocol.Msg(resp)
		}
		b.catchUpMetadata(ctx)
		return protocol.Msg(raw)
	}
	return protocol.Msg(resp)
}

func renewersAreUsers(rs []kmsg.CreateDelegationTokenRequestRenewer) bool {
	for _, r := range rs {
		if r.PrincipalType != "User" {
			return false
		}
	}
	return true
}

func (b *Broker) handleRenewDelegationToken(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.RenewDelegationTokenRequest)
	resp := r.ResponseKind().(*kmsg.RenewDelegationTokenResponse)
	if !req.MayRequestTokens() {
		resp.ErrorCode = kerr.DelegationTokenRequestNotAllowed.Code
		return protocol.Msg(resp)
	}
	forwardPrincipal(&r.UnknownTags, req)
	raw, err := b.controllers.Request(ctx, r)
	if err != nil {
		resp.ErrorCode = kerr.RequestTimedOut.Code
		return protocol.Msg(resp)
	}
	b.catchUpMetadata(ctx)
	return protocol.Msg(raw)
}

func (b *Broker) handleExpireDelegationToken(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.ExpireDelegationTokenRequest)
	resp := r.ResponseKind().(*kmsg.ExpireDelegationTokenResponse)
	if !req.MayRequestTokens() {
		resp.ErrorCode = kerr.DelegationTokenRequestNotAllowed.Code
		return protocol.Msg(resp)
	}
	forwardPrincipal(&r.UnknownTags, req)
	raw, err := b.controllers.Request(ctx, r)
	if err != nil {
		resp.ErrorCode = kerr.RequestTimedOut.Code
		return protocol.Msg(resp)
	}
	b.catchUpMetadata(ctx)
	return protocol.Msg(raw)
}

// handleDescribeDelegationToken answers from the image: the tokens the
// principal owns, requested or may renew, plus those it may DESCRIBE
// (the DELEGATION_TOKEN resource) or whose owner it may DESCRIBE_TOKENS
// (the USER resource), as Kafka filters them.
func (b *Broker) handleDescribeDelegationToken(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.DescribeDelegationTokenRequest)
	resp := r.ResponseKind().(*kmsg.DescribeDelegationTokenResponse)
	secret := b.tokenSecret()
	switch {
	case !req.MayRequestTokens():
		resp.ErrorCode = kerr.DelegationTokenRequestNotAllowed.Code
	case secret == "":
		resp.ErrorCode = kerr.DelegationTokenAuthDisabled.Code
	default:
		who := req.Principal.String()
		resp = metadata.DescribeTokens(b.Image(), r, func(id string) []byte { return security.TokenHMAC(secret, id) },
			func(t *metadata.DelegationToken) bool {
				return t.OwnerOrRenewer(who) ||
					b.allowed(req, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeDelegationToken, t.TokenID) ||
					b.allowed(req, kmsg.ACLOperationDescribeTokens, kmsg.ACLResourceTypeUser, t.Owner)
			})
	}
	respond(protocol.Msg(resp))
}
