package controller

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/authz"
	"spool/controller/metadata"
	"spool/protocol"
	"spool/security"
)

// TokenConfig is the delegation.token.* configuration (KIP-48). An empty
// SecretKey turns tokens off: every token request answers
// DELEGATION_TOKEN_AUTH_DISABLED.
type TokenConfig struct {
	SecretKey     string
	MaxLifetime   time.Duration // delegation.token.max.lifetime.ms
	RenewTime     time.Duration // delegation.token.expiry.time.ms
	CheckInterval time.Duration // delegation.token.expiry.check.interval.ms
}

// requestPrincipal is who a token request acts for: the principal a broker
// forwarded in ForwardedPrincipalTag when the connection is a node's (one
// allowed CLUSTER_ACTION, or any connection without an authorizer, where
// Kafka trusts every caller too), after the broker checked the client may
// ask for tokens; else the connection's own principal, which must be one
// that may (ok false: DELEGATION_TOKEN_REQUEST_NOT_ALLOWED).
func (c *Controller) requestPrincipal(req *protocol.Request, tags *kmsg.Tags) (principal string, ok bool) {
	var fwd string
	tags.Each(func(k uint32, v []byte) {
		if k == protocol.ForwardedPrincipalTag {
			fwd = string(v)
		}
	})
	if fwd != "" && c.clusterAllowed(req, kmsg.ACLOperationClusterAction) {
		return fwd, true
	}
	return req.Principal.String(), req.MayRequestTokens()
}

var tokenRequestNotAllowed = kerr.DelegationTokenRequestNotAllowed.Code

func (c *Controller) serveCreateDelegationToken(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.CreateDelegationTokenRequest)
	p, ok := c.requestPrincipal(req, &r.UnknownTags)
	refuse := func(code int16) protocol.Response {
		resp := r.ResponseKind().(*kmsg.CreateDelegationTokenResponse)
		resp.ErrorCode = code
		resp.PrincipalType, resp.PrincipalName = splitPrincipal(p)
		resp.TokenRequesterPrincipalType, resp.TokenRequesterPrincipalName = resp.PrincipalType, resp.PrincipalName
		return protocol.Msg(resp)
	}
	if !ok {
		return refuse(tokenRequestNotAllowed)
	}
	// A client of this listener (not a broker forwarding, which checked)
	// needs CREATE_TOKENS on another owner, as on a broker.
	if p == req.Principal.String() && r.OwnerPrincipalName != nil && *r.OwnerPrincipalName != "" {
		typ := "User"
		if r.OwnerPrincipalType != nil && *r.OwnerPrincipalType != "" {
			typ = *r.OwnerPrincipalType
		}
		owner := typ + ":" + *r.OwnerPrincipalName
		if owner != p && !c.cfg.Authorizer.Authorize(c.Image().ACLs, req.Principal, authz.HostOf(req.Remote),
			authz.Action{Op: kmsg.ACLOperationCreateTokens, Type: kmsg.ACLResourceTypeUser, Name: owner}) {
			return refuse(kerr.DelegationTokenAuthorizationFailed.Code)
		}
	}
	return protocol.Msg(c.CreateDelegationToken(ctx, p, r))
}

func (c *Controller) serveRenewDelegationToken(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.RenewDelegationTokenRequest)
	p, ok := c.requestPrincipal(req, &r.UnknownTags)
	if !ok {
		resp := r.ResponseKind().(*kmsg.RenewDelegationTokenResponse)
		resp.ErrorCode = tokenRequestNotAllowed
		return protocol.Msg(resp)
	}
	return protocol.Msg(c.RenewDelegationToken(ctx, p, r))
}

func (c *Controller) serveExpireDelegationToken(ctx context.Context, req *protocol.Request) protocol.Response {
	r := req.Msg.(*kmsg.ExpireDelegationTokenRequest)
	p, ok := c.requestPrincipal(req, &r.UnknownTags)
	if !ok {
		resp := r.ResponseKind().(*kmsg.ExpireDelegationTokenResponse)
		resp.ErrorCode = tokenRequestNotAllowed
		return protocol.Msg(resp)
	}
	return protocol.Msg(c.ExpireDelegationToken(ctx, p, r))
}

// serveDescribeDelegationToken answers from the controller's image, with
// the broker's rules (see the broker's handler).
func (c *Controller) serveDescribeDelegationToken(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.DescribeDelegationTokenRequest)
	resp := r.ResponseKind().(*kmsg.DescribeDelegationTokenResponse)
	secret := c.cfg.Tokens.SecretKey
	switch {
	case !req.MayRequestTokens():
		resp.ErrorCode = tokenRequestNotAllowed
	case secret == "":
		resp.ErrorCode = kerr.DelegationTokenAuthDisabled.Code
	default:
		img, az, host := c.Image(), c.cfg.Authorizer, authz.HostOf(req.Remote)
		resp = metadata.DescribeTokens(img, r, func(id string) []byte { return security.TokenHMAC(secret, id) },
			func(t *metadata.DelegationToken) bool {
				return t.OwnerOrRenewer(req.Principal.String()) ||
					az.Authorize(img.ACLs, req.Principal, host, authz.Action{Op: kmsg.ACLOperationDescribe, Type: kmsg.ACLResourceTypeDelegationToken, Name: t.TokenID}) ||
					az.Authorize(img.ACLs, req.Principal, host, authz.Action{Op: kmsg.ACLOperationDescribeTokens, Type: kmsg.ACLResourceTypeUser, Name: t.Owner})
			})
	}
	respond(protocol.Msg(resp))
}

// CreateDelegationToken issues a token owned by the request's owner (v3),
// else by the requester, and writes its DelegationTokenRecord. The broker
// has already checked that the requester may ask (a SASL connection not
// itself token-authenticated; CREATE_TOKENS on another owner).
func (c *Controller) CreateDelegationToken(ctx context.Context, requester string, r *kmsg.CreateDelegationTokenRequest) *kmsg.CreateDelegationTokenResponse {
	resp := r.ResponseKind().(*kmsg.CreateDelegationTokenResponse)
	owner := requester
	if r.OwnerPrincipalName != nil && *r.OwnerPrincipalName != "" {
		typ := "User"
		if r.OwnerPrincipalType != nil && *r.OwnerPrincipalType != "" {
			typ = *r.OwnerPrincipalType
		}
		owner = typ + ":" + *r.OwnerPrincipalName
	}
	resp.PrincipalType, resp.PrincipalName = splitPrincipal(owner)
	resp.TokenRequesterPrincipalType, resp.TokenRequesterPrincipalName = splitPrincipal(requester)
	tc := c.cfg.Tokens
	if tc.SecretKey == "" {
		resp.ErrorCode = kerr.DelegationTokenAuthDisabled.Code
		return resp
	}
	now := c.now().UnixMilli()
	life := tc.MaxLifetime.Milliseconds()
	if r.MaxLifetimeMillis > 0 {
		life = min(life, r.MaxLifetimeMillis)
	}
	rec := &metadata.DelegationTokenRecord{Owner: owner, Requester: requester, IssueTimestamp: now,
		MaxTimestamp: addMs(now, life), TokenID: newTokenID()}
	rec.ExpirationTimestamp = min(rec.MaxTimestamp, addMs(now, tc.RenewTime.Milliseconds()))
	for _, rn := range r.Renewers {
		if rn.PrincipalType != "User" {
			resp.ErrorCode = kerr.InvalidPrincipalType.Code
			return resp
		}
		rec.Renewers = append(rec.Renewers, rn.PrincipalType+":"+rn.PrincipalName)
	}
	err := c.write(ctx, func(*metadata.Image) ([]metadata.Record, error) { return []metadata.Record{rec}, nil })
	if err != nil {
		resp.ErrorCode = errorCode(err)
		return resp
	}
	resp.IssueTimestamp, resp.ExpiryTimestamp, resp.MaxTimestamp = rec.IssueTimestamp, rec.ExpirationTimestamp, rec.MaxTimestamp
	resp.TokenID, resp.HMAC = rec.TokenID, security.TokenHMAC(tc.SecretKey, rec.TokenID)
	return resp
}

// RenewDelegationToken moves a live token's expiry to now plus the
// requested period (delegation.token.expiry.time.ms when negative), never
// past its max timestamp.
func (c *Controller) RenewDelegationToken(ctx context.Context, principal string, r *kmsg.RenewDelegationTokenRequest) *kmsg.RenewDelegationTokenResponse {
	resp := r.ResponseKind().(*kmsg.RenewDelegationTokenResponse)
	period := r.RenewTimeMillis
	if period < 0 {
		period = c.cfg.Tokens.RenewTime.Milliseconds()
	}
	resp.ErrorCode, resp.ExpiryTimestamp = c.changeToken(ctx, principal, r.HMAC, func(t *metadata.DelegationToken, now int64) (metadata.Record, int64) {
		exp := min(t.MaxMs, addMs(now, period))
		return tokenRecord(t, exp), exp
	})
	return resp
}

// ExpireDelegationToken removes a token at once (a negative period) or
// brings its expiry forward to now plus the period.
func (c *Controller) ExpireDelegationToken(ctx context.Context, principal string, r *kmsg.ExpireDelegationTokenRequest) *kmsg.ExpireDelegationTokenResponse {
	resp := r.ResponseKind().(*kmsg.ExpireDelegationTokenResponse)
	resp.ErrorCode, resp.ExpiryTimestamp = c.changeToken(ctx, principal, r.HMAC, func(t *metadata.DelegationToken, now int64) (metadata.Record, int64) {
		if r.ExpiryPeriodMillis < 0 {
			return &metadata.RemoveDelegationTokenRecord{TokenID: t.TokenID}, now
		}
		exp := min(t.MaxMs, addMs(now, r.ExpiryPeriodMillis))
		return tokenRecord(t, exp), exp
	})
	return resp
}

// changeToken finds the token with hmac in the speculative image, applies
// Kafka's checks (NOT_FOUND, EXPIRED, OWNER_MISMATCH, in that order) and
// writes change's record.
func (c *Controller) changeToken(ctx context.Context, principal string, mac []byte,
	change func(t *metadata.DelegationToken, now int64) (metadata.Record, int64)) (int16, int64) {
	secret := c.cfg.Tokens.SecretKey
	if secret == "" {
		return kerr.DelegationTokenAuthDisabled.Code, 0
	}
	var mu sync.Mutex // the build runs on the controller's goroutine
	var code int16
	var expiry int64
	err := c.write(ctx, func(img *metadata.Image) ([]metadata.Record, error) {
		now := c.now().UnixMilli()
		mu.Lock()
		defer mu.Unlock()
		t := tokenByHMAC(img, secret, mac)
		switch {
		case t == nil:
			code = kerr.DelegationTokenNotFound.Code
		case t.MaxMs < now || t.ExpiryMs < now:
			code = kerr.DelegationTokenExpired.Code
		case !allowedToRenew(t, principal):
			code = kerr.DelegationTokenOwnerMismatch.Code
		default:
			rec, exp := change(t, now)
			expiry = exp
			return []metadata.Record{rec}, nil
		}
		return nil, nil
	})
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		return errorCode(err), 0
	}
	return code, expiry
}

func tokenByHMAC(img *metadata.Image, secret string, mac []byte) *metadata.DelegationToken {
	for id, t := range img.Tokens {
		if hmac.Equal(security.TokenHMAC(secret, id), mac) {
			return t
		}
	}
	return nil
}

// allowedToRenew is Kafka's controller rule for renew and expire: the
// owner or a renewer (not the requester, unlike describe).
func allowedToRenew(t *metadata.DelegationToken, principal string) bool {
	return t.Owner == principal || slices.Contains(t.Renewers, principal)
}

// addMs adds without overflowing, as Kafka's controller does: a huge
// lifetime means "never", not a timestamp in the past.
func addMs(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func tokenRecord(t *metadata.DelegationToken, expiry int64) *metadata.DelegationTokenRecord {
	return &metadata.DelegationTokenRecord{Owner: t.Owner, Requester: t.Requester, Renewers: t.Renewers,
		IssueTimestamp: t.IssueMs, MaxTimestamp: t.MaxMs, ExpirationTimestamp: expiry, TokenID: t.TokenID}
}

func splitPrincipal(p string) (string, string) {
	typ, name, ok := strings.Cut(p, ":")
	if !ok {
		return "User", p
	}
	return typ, name
}

// expireTokens removes the tokens past their expiry, every
// delegation.token.expiry.check.interval.ms on the active controller.
func (c *Controller) expireTokens(now time.Time) {
	if c.cfg.Tokens.SecretKey == "" || now.Before(c.nextTokenCheck) {
		return
	}
	c.nextTokenCheck = now.Add(c.cfg.Tokens.CheckInterval)
	var recs []metadata.Record
	for id, t := range c.spec.Tokens {
		if t.ExpiryMs < now.UnixMilli() || t.MaxMs < now.UnixMilli() {
			recs = append(recs, &metadata.RemoveDelegationTokenRecord{TokenID: id})
		}
	}
	if len(recs) > 0 {
		c.propose(recs, func(error) {})
	}
}

// newTokenID is a random id written as Kafka writes a Uuid (URL-safe
// base64, no padding), as Kafka names its tokens.
func newTokenID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
