package test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

func quotaEntity(parts ...string) kadm.ClientQuotaEntity {
	var e kadm.ClientQuotaEntity
	for i := 0; i+1 < len(parts); i += 2 {
		c := kadm.ClientQuotaEntityComponent{Type: parts[i]}
		if parts[i+1] != "" {
			name := parts[i+1]
			c.Name = &name
		}
		e = append(e, c)
	}
	return e
}

func alterQuota(ctx context.Context, t *testing.T, adm *kadm.Client, e kadm.ClientQuotaEntity, ops ...kadm.AlterClientQuotaOp) error {
	t.Helper()
	res, err := adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{{Entity: e, Ops: ops}})
	if err != nil {
		t.Fatalf("alter client quotas: %v", err)
	}
	if len(res) != 1 {
		t.Fatalf("%d results", len(res))
	}
	return res[0].Err
}

// quotaValues describes one entity strictly and returns its values.
func quotaValues(ctx context.Context, t *testing.T, adm *kadm.Client, e kadm.ClientQuotaEntity) map[string]float64 {
	t.Helper()
	var comps []kadm.DescribeClientQuotaComponent
	for _, c := range e {
		if c.Name == nil {
			comps = append(comps, kadm.DescribeClientQuotaComponent{Type: c.Type, MatchType: 1})
		} else {
			comps = append(comps, kadm.DescribeClientQuotaComponent{Type: c.Type, MatchName: c.Name})
		}
	}
	got, err := adm.DescribeClientQuotas(ctx, true, comps)
	if err != nil {
		t.Fatalf("describe client quotas: %v", err)
	}
	out := map[string]float64{}
	for _, d := range got {
		for _, v := range d.Values {
			out[v.Key] = v.Value
		}
	}
	return out
}

// Quotas set through the broker (forwarded to the controller) read back
// at once, survive a restart (the metadata log), and can be removed.
func TestClientQuotasAlterDescribeRestart(t *testing.T) {
	n := harness.SingleNode(t, nil)
	n.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr))
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	alice, aliceApp, anyClient := quotaEntity("user", "alice"), quotaEntity("user", "alice", "client-id", "app"), quotaEntity("client-id", "")
	for _, c := range []struct {
		e   kadm.ClientQuotaEntity
		ops []kadm.AlterClientQuotaOp
	}{
		{alice, []kadm.AlterClientQuotaOp{{Key: "producer_byte_rate", Value: 1 << 20}, {Key: "request_percentage", Value: 25.5}}},
		{aliceApp, []kadm.AlterClientQuotaOp{{Key: "consumer_byte_rate", Value: 2 << 20}}},
		{anyClient, []kadm.AlterClientQuotaOp{{Key: "producer_byte_rate", Value: 4096}}},
	} {
		if err := alterQuota(ctx, t, adm, c.e, c.ops...); err != nil {
			t.Fatalf("alter %v: %v", c.e, err)
		}
	}
	if err := alterQuota(ctx, t, adm, alice, kadm.AlterClientQuotaOp{Key: "producer_byte_rate", Value: 1.5}); !errors.Is(err, kerr.InvalidRequest) {
		t.Fatalf("fractional byte rate: %v, want INVALID_REQUEST", err)
	}
	check := func(when string) {
		t.Helper()
		if got := quotaValues(ctx, t, adm, alice); got["producer_byte_rate"] != 1<<20 || got["request_percentage"] != 25.5 || len(got) != 2 {
			t.Fatalf("%s: alice %v", when, got)
		}
		if got := quotaValues(ctx, t, adm, aliceApp); got["consumer_byte_rate"] != 2<<20 || len(got) != 1 {
			t.Fatalf("%s: alice/app %v", when, got)
		}
		if got := quotaValues(ctx, t, adm, anyClient); got["producer_byte_rate"] != 4096 || len(got) != 1 {
			t.Fatalf("%s: default client %v", when, got)
		}
	}
	check("after alter")
	cl.Close()
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	n.Start()
	cl, err = kgo.NewClient(kgo.SeedBrokers(n.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm = kadm.NewClient(cl)
	check("after restart")
	if err := alterQuota(ctx, t, adm, alice, kadm.AlterClientQuotaOp{Key: "request_percentage", Remove: true}); err != nil {
		t.Fatal(err)
	}
	if got := quotaValues(ctx, t, adm, alice); len(got) != 1 || got["producer_byte_rate"] != 1<<20 {
		t.Fatalf("after remove: alice %v", got)
	}
}

// With an authorizer, the quota APIs need ALTER_CONFIGS / DESCRIBE_CONFIGS
// on the cluster, as in Kafka.
func TestClientQuotasAuthorization(t *testing.T) {
	n := aclNode(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin := kadm.NewClient(aclClient(t, n.Addr, "admin"))
	alice := kadm.NewClient(aclClient(t, n.Addr, "alice"))
	bob := quotaEntity("user", "bob")
	if err := alterQuota(ctx, t, alice, bob, kadm.AlterClientQuotaOp{Key: "producer_byte_rate", Value: 1}); !errors.Is(err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("alice alter: %v, want CLUSTER_AUTHORIZATION_FAILED", err)
	}
	if _, err := alice.DescribeClientQuotas(ctx, false, nil); !errors.Is(err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("alice describe: %v, want CLUSTER_AUTHORIZATION_FAILED", err)
	}
	if err := alterQuota(ctx, t, admin, bob, kadm.AlterClientQuotaOp{Key: "producer_byte_rate", Value: 1000}); err != nil {
		t.Fatalf("admin alter: %v", err)
	}
	grant := kadm.NewACLs().Allow("User:alice").AllowHosts("*").Clusters().ResourcePatternType(kadm.ACLPatternLiteral).
		Operations(kadm.OpDescribeConfigs)
	if _, err := admin.CreateACLs(ctx, grant); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := alice.DescribeClientQuotas(ctx, false, nil)
		if err == nil && len(got) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alice describe after grant: %v %v", got, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
