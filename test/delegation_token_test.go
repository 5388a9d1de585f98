package test

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"spool/test/harness"
)

// tokenNode is a single SASL_PLAINTEXT node with SCRAM users admin, alice
// and bob and delegation tokens on, removing expired ones every second.
func tokenNode(t *testing.T) *harness.Node {
	return secureNode(t, "SASL_PLAINTEXT", map[string]string{
		"sasl.enabled.mechanisms":                                     "SCRAM-SHA-256,SCRAM-SHA-512",
		"sasl.mechanism.inter.broker.protocol":                        "SCRAM-SHA-512",
		"listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": scramModule + ` required username="admin" password="admin-secret";`,
		"delegation.token.secret.key":                                 "token-signing-secret",
		"delegation.token.expiry.check.interval.ms":                   "1000",
	}, nil, "SCRAM-SHA-512=[name=admin,password=admin-secret]", "SCRAM-SHA-512=[name=alice,password=alice-secret]",
		"SCRAM-SHA-256=[name=bob,password=bob-secret]")
}

func saslClient(t *testing.T, addr string, m kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), m, kgo.RetryTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func createToken(t *testing.T, cl *kgo.Client, maxLife int64) *kmsg.CreateDelegationTokenResponse {
	t.Helper()
	req := kmsg.NewPtrCreateDelegationTokenRequest()
	req.MaxLifetimeMillis = maxLife
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func describeTokens(t *testing.T, cl *kgo.Client) *kmsg.DescribeDelegationTokenResponse {
	t.Helper()
	resp, err := kmsg.NewPtrDescribeDelegationTokenRequest().RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func tokenAuth(resp *kmsg.CreateDelegationTokenResponse) kgo.Opt {
	return kgo.SASL(scram.Auth{User: resp.TokenID, Pass: base64.StdEncoding.EncodeToString(resp.HMAC), IsToken: true}.AsSha512Mechanism())
}

func TestDelegationTokens(t *testing.T) {
	n := tokenNode(t)
	alice := saslClient(t, n.Addr, kgo.SASL(scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha512Mechanism()))
	bob := saslClient(t, n.Addr, kgo.SASL(scram.Auth{User: "bob", Pass: "bob-secret"}.AsSha256Mechanism()))

	tok := createToken(t, alice, -1)
	if tok.ErrorCode != 0 || tok.PrincipalName != "alice" || tok.TokenRequesterPrincipalName != "alice" || len(tok.HMAC) != 64 {
		t.Fatalf("create: %+v", tok)
	}
	if life := tok.MaxTimestamp - tok.IssueTimestamp; life != 7*24*3600*1000 {
		t.Fatalf("max lifetime %d ms, want delegation.token.max.lifetime.ms's default", life)
	}

	// A client logged in with the token acts as alice, produces and
	// consumes, and may not ask for more tokens.
	mech := scram.Auth{User: tok.TokenID, Pass: base64.StdEncoding.EncodeToString(tok.HMAC), IsToken: true}.AsSha512Mechanism()
	if err := roundTrip(t, n.Addr, "tokens", nil, mech); err != nil {
		t.Fatalf("produce and consume with the token: %v", err)
	}
	holder := saslClient(t, n.Addr, tokenAuth(tok))
	if r := createToken(t, holder, -1); r.ErrorCode != kerr.DelegationTokenRequestNotAllowed.Code {
		t.Fatalf("create over a token login: error %d, want DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", r.ErrorCode)
	}
	if r := describeTokens(t, holder); r.ErrorCode != kerr.DelegationTokenRequestNotAllowed.Code {
		t.Fatalf("describe over a token login: error %d", r.ErrorCode)
	}

	// Describe: alice sees her token with its HMAC; bob, neither owner
	// nor renewer (and no authorizer refusing him) sees it too, as Kafka
	// allows everything without an authorizer.
	d := describeTokens(t, alice)
	if d.ErrorCode != 0 || len(d.TokenDetails) != 1 || d.TokenDetails[0].TokenID != tok.TokenID ||
		string(d.TokenDetails[0].HMAC) != string(tok.HMAC) || d.TokenDetails[0].PrincipalName != "alice" {
		t.Fatalf("describe: %+v", d)
	}

	// Renew: only the owner or a renewer, and only with a known HMAC.
	renew := func(cl *kgo.Client, hmac []byte, period int64) *kmsg.RenewDelegationTokenResponse {
		req := kmsg.NewPtrRenewDelegationTokenRequest()
		req.HMAC, req.RenewTimeMillis = hmac, period
		resp, err := req.RequestWith(context.Background(), cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if r := renew(bob, tok.HMAC, -1); r.ErrorCode != kerr.DelegationTokenOwnerMismatch.Code {
		t.Fatalf("renew by bob: error %d, want DELEGATION_TOKEN_OWNER_MISMATCH", r.ErrorCode)
	}
	if r := renew(alice, []byte("not a token"), -1); r.ErrorCode != kerr.DelegationTokenNotFound.Code {
		t.Fatalf("renew of an unknown HMAC: error %d, want DELEGATION_TOKEN_NOT_FOUND", r.ErrorCode)
	}
	r := renew(alice, tok.HMAC, 2*3600*1000)
	if r.ErrorCode != 0 || r.ExpiryTimestamp < tok.IssueTimestamp+2*3600*1000 || r.ExpiryTimestamp > tok.MaxTimestamp {
		t.Fatalf("renew: %+v (token %+v)", r, tok)
	}
	if d := describeTokens(t, alice); len(d.TokenDetails) != 1 || d.TokenDetails[0].ExpiryTimestamp != r.ExpiryTimestamp {
		t.Fatalf("describe after renew: %+v, want expiry %d", d, r.ExpiryTimestamp)
	}

	// Expire at once: gone from describe, and its logins refused.
	ex := kmsg.NewPtrExpireDelegationTokenRequest()
	ex.HMAC, ex.ExpiryPeriodMillis = tok.HMAC, -1
	er, err := ex.RequestWith(context.Background(), alice)
	if err != nil || er.ErrorCode != 0 {
		t.Fatalf("expire: %v %+v", err, er)
	}
	if d := describeTokens(t, alice); len(d.TokenDetails) != 0 {
		t.Fatalf("describe after expire: %+v", d)
	}
	mustFail(t, "login with an expired token", roundTrip(t, n.Addr, "tokens", nil, mech), func(err error) bool {
		return errors.Is(err, kerr.SaslAuthenticationFailed)
	})

	// A token past its lifetime is refused, then removed by the
	// controller's expiry check.
	short := createToken(t, alice, 1000)
	if short.ErrorCode != 0 || short.MaxTimestamp-short.IssueTimestamp != 1000 {
		t.Fatalf("short token: %+v", short)
	}
	time.Sleep(1500 * time.Millisecond)
	shortMech := scram.Auth{User: short.TokenID, Pass: base64.StdEncoding.EncodeToString(short.HMAC), IsToken: true}.AsSha512Mechanism()
	mustFail(t, "login with a token past its lifetime", roundTrip(t, n.Addr, "tokens", nil, shortMech), func(err error) bool {
		return errors.Is(err, kerr.SaslAuthenticationFailed)
	})
	if r := renew(alice, short.HMAC, -1); r.ErrorCode != kerr.DelegationTokenExpired.Code && r.ErrorCode != kerr.DelegationTokenNotFound.Code {
		t.Fatalf("renew of an expired token: error %d", r.ErrorCode)
	}
	deadline := time.Now().Add(3 * 3 * time.Second)
	for len(describeTokens(t, alice).TokenDetails) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the controller did not remove the expired token")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
