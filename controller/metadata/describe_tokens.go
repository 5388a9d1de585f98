package metadata

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// OwnerOrRenewer is Kafka's TokenInformation.ownerOrRenewer: the
// principals ("Type:Name") that may renew, expire and see a token without
// an ACL.
func (t *DelegationToken) OwnerOrRenewer(principal string) bool {
	if t.Owner == principal || t.Requester == principal {
		return true
	}
	for _, r := range t.Renewers {
		if r == principal {
			return true
		}
	}
	return false
}

// DescribeTokens answers DescribeDelegationToken from img: the tokens
// whose owner, requester or renewers include one of the requested owners
// (all with a null list, none with an empty one) and that visible allows.
// hmac derives a token's HMAC, which the answer carries.
func DescribeTokens(img *Image, r *kmsg.DescribeDelegationTokenRequest, hmac func(id string) []byte,
	visible func(*DelegationToken) bool) *kmsg.DescribeDelegationTokenResponse {
	resp := r.ResponseKind().(*kmsg.DescribeDelegationTokenResponse)
	if r.Owners != nil && len(r.Owners) == 0 {
		return resp
	}
	for _, id := range sortedKeys(img.Tokens) {
		t := img.Tokens[id]
		if r.Owners != nil && !anyOwner(t, r.Owners) {
			continue
		}
		if !visible(t) {
			continue
		}
		d := kmsg.NewDescribeDelegationTokenResponseTokenDetail()
		d.PrincipalType, d.PrincipalName = splitPrincipal(t.Owner)
		d.TokenRequesterPrincipalType, d.TokenRequesterPrincipalName = splitPrincipal(t.Requester)
		d.IssueTimestamp, d.ExpiryTimestamp, d.MaxTimestamp = t.IssueMs, t.ExpiryMs, t.MaxMs
		d.TokenID, d.HMAC = t.TokenID, hmac(t.TokenID)
		for _, p := range t.Renewers {
			rn := kmsg.NewDescribeDelegationTokenResponseTokenDetailRenewer()
			rn.PrincipalType, rn.PrincipalName = splitPrincipal(p)
			d.Renewers = append(d.Renewers, rn)
		}
		resp.TokenDetails = append(resp.TokenDetails, d)
	}
	return resp
}

func anyOwner(t *DelegationToken, owners []kmsg.DescribeDelegationTokenRequestOwner) bool {
	for _, o := range owners {
		if t.OwnerOrRenewer(o.PrincipalType + ":" + o.PrincipalName) {
			return true
		}
	}
	return false
}

func splitPrincipal(p string) (string, string) {
	typ, name, ok := strings.Cut(p, ":")
	if !ok {
		return "User", p
	}
	return typ, name
}
