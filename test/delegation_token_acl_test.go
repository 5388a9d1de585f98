package test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

func grantACL(t *testing.T, admin *kgo.Client, principal string, rt kmsg.ACLResourceType, name string, op kmsg.ACLOperation) {
	t.Helper()
	create := kmsg.NewPtrCreateACLsRequest()
	cr := kmsg.NewCreateACLsRequestCreation()
	cr.ResourceType, cr.ResourceName, cr.ResourcePatternType = rt, name, kmsg.ACLResourcePatternTypeLiteral
	cr.Principal, cr.Host, cr.Operation, cr.PermissionType = principal, "*", op, kmsg.ACLPermissionTypeAllow
	create.Creations = append(create.Creations, cr)
	resp, err := create.RequestWith(context.Background(), admin)
	if err != nil || resp.Results[0].ErrorCode != 0 {
		t.Fatalf("CreateAcls %s %v on %s: %v %+v", principal, op, name, err, resp)
	}
}

func createTokenFor(t *testing.T, cl *kgo.Client, owner string) *kmsg.CreateDelegationTokenResponse {
	t.Helper()
	req := kmsg.NewPtrCreateDelegationTokenRequest()
	req.OwnerPrincipalType, req.OwnerPrincipalName = kmsg.StringPtr("User"), kmsg.StringPtr(owner)
	req.MaxLifetimeMillis = -1
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestDelegationTokenACLs: with the StandardAuthorizer, a token for
// another owner needs CREATE_TOKENS on that user, and describe shows only
// the tokens a principal owns or renews, or may DESCRIBE.
func TestDelegationTokenACLs(t *testing.T) {
	n := aclNode(t, map[string]string{"delegation.token.secret.key": "acl-secret"})
	admin, alice, bob := aclClient(t, n.Addr, "admin"), aclClient(t, n.Addr, "alice"), aclClient(t, n.Addr, "bob")

	if r := createTokenFor(t, alice, "bob"); r.ErrorCode != kerr.DelegationTokenAuthorizationFailed.Code {
		t.Fatalf("alice creating bob's token without CREATE_TOKENS: error %d, want DELEGATION_TOKEN_AUTHORIZATION_FAILED", r.ErrorCode)
	}
	grantACL(t, admin, "User:alice", kmsg.ACLResourceTypeUser, "User:bob", kmsg.ACLOperationCreateTokens)
	var forBob *kmsg.CreateDelegationTokenResponse
	deadline := time.Now().Add(15 * time.Second)
	for forBob = createTokenFor(t, alice, "bob"); forBob.ErrorCode == kerr.DelegationTokenAuthorizationFailed.Code; forBob = createTokenFor(t, alice, "bob") {
		if time.Now().After(deadline) {
			t.Fatal("alice still refused after CREATE_TOKENS was granted")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if forBob.ErrorCode != 0 || forBob.PrincipalName != "bob" || forBob.TokenRequesterPrincipalName != "alice" {
		t.Fatalf("alice creating bob's token: %+v", forBob)
	}
	own := createToken(t, alice, -1)
	if own.ErrorCode != 0 {
		t.Fatalf("alice's own token: error %d", own.ErrorCode)
	}

	ids := func(cl *kgo.Client) map[string]bool {
		d := describeTokens(t, cl)
		if d.ErrorCode != 0 {
			t.Fatalf("describe: error %d", d.ErrorCode)
		}
		out := map[string]bool{}
		for _, td := range d.TokenDetails {
			out[td.TokenID] = true
		}
		return out
	}
	if got := ids(bob); len(got) != 1 || !got[forBob.TokenID] {
		t.Fatalf("bob sees %v, want only his token %s", got, forBob.TokenID)
	}
	if got := ids(alice); len(got) != 2 {
		t.Fatalf("alice (owner of one, requester of the other) sees %v", got)
	}
	grantACL(t, admin, "User:bob", kmsg.ACLResourceTypeDelegationToken, own.TokenID, kmsg.ACLOperationDescribe)
	deadline = time.Now().Add(15 * time.Second)
	for !ids(bob)[own.TokenID] {
		if time.Now().After(deadline) {
			t.Fatal("bob does not see alice's token after DESCRIBE on it was granted")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Renew is the owner's or a renewer's: alice only requested bob's.
	renew := kmsg.NewPtrRenewDelegationTokenRequest()
	renew.HMAC, renew.RenewTimeMillis = forBob.HMAC, -1
	if r, err := renew.RequestWith(context.Background(), alice); err != nil || r.ErrorCode != kerr.DelegationTokenOwnerMismatch.Code {
		t.Fatalf("alice renewing bob's token: %v %+v, want DELEGATION_TOKEN_OWNER_MISMATCH", err, r)
	}
	if r, err := renew.RequestWith(context.Background(), bob); err != nil || r.ErrorCode != 0 {
		t.Fatalf("bob renewing his token: %v %+v", err, r)
	}
}

// TestDelegationTokensRefused: no tokens over PLAINTEXT, and none at all
// without delegation.token.secret.key.
func TestDelegationTokensRefused(t *testing.T) {
	plain := harness.SingleNode(t, map[string]string{"delegation.token.secret.key": "s"})
	plain.Start()
	t.Cleanup(func() { plain.Stop() })
	cl := saslClient(t, plain.Addr, kgo.RetryTimeout(10*time.Second))
	if r := createToken(t, cl, -1); r.ErrorCode != kerr.DelegationTokenRequestNotAllowed.Code {
		t.Fatalf("create over PLAINTEXT: error %d, want DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", r.ErrorCode)
	}
	if r := describeTokens(t, cl); r.ErrorCode != kerr.DelegationTokenRequestNotAllowed.Code {
		t.Fatalf("describe over PLAINTEXT: error %d", r.ErrorCode)
	}

	off := aclNode(t, nil)
	alice := aclClient(t, off.Addr, "alice")
	if r := createToken(t, alice, -1); r.ErrorCode != kerr.DelegationTokenAuthDisabled.Code {
		t.Fatalf("create without a secret key: error %d, want DELEGATION_TOKEN_AUTH_DISABLED", r.ErrorCode)
	}
	if r := describeTokens(t, alice); r.ErrorCode != kerr.DelegationTokenAuthDisabled.Code {
		t.Fatalf("describe without a secret key: error %d", r.ErrorCode)
	}
}

// TestDelegationTokensOverTLS: on an SSL listener a client certificate is
// an identity that may ask for tokens; a client without one is ANONYMOUS
// and may not, as Kafka refuses one-way SSL.
func TestDelegationTokensOverTLS(t *testing.T) {
	pki := newPKI(t, "cluster")
	alice := pki.issue("alice")
	n := secureNode(t, "SSL", map[string]string{
		"ssl.keystore.type": "PEM", "ssl.keystore.location": pki.issue("broker"),
		"ssl.truststore.type": "PEM", "ssl.truststore.location": pki.CAFile,
		"ssl.client.auth":             "requested",
		"ssl.principal.mapping.rules": `RULE:^CN=([^,]*),O=Spool$/$1/L,DEFAULT`,
		"delegation.token.secret.key": "tls-secret",
	}, pki.clientTLS(alice))
	withCert := saslClient(t, n.Addr, kgo.DialTLSConfig(pki.clientTLS(alice)))
	if r := createToken(t, withCert, -1); r.ErrorCode != 0 || r.PrincipalName != "alice" {
		t.Fatalf("create with a client certificate: %+v", r)
	}
	noCert := saslClient(t, n.Addr, kgo.DialTLSConfig(pki.clientTLS("")))
	if r := createToken(t, noCert, -1); r.ErrorCode != kerr.DelegationTokenRequestNotAllowed.Code {
		t.Fatalf("create over one-way SSL: error %d, want DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", r.ErrorCode)
	}
}
