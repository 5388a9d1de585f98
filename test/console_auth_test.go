package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"spool/test/harness"
)

// With basic authentication on the HTTP listener, the pages, their assets
// and every API endpoint refuse requests without the right SCRAM
// password; the probes stay open. Authenticated, the console reads the
// cluster through its SASL_SSL inter-broker listener with the node's own
// credentials.
func TestConsoleRequiresAuthentication(t *testing.T) {
	n, pki, httpAddr := consoleSecureNode(t, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	alice := scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha512Mechanism()
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.DialTLSConfig(pki.clientTLS("")), kgo.SASL(alice), kgo.DefaultProduceTopic("secured"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 2, 1, nil, "secured"); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Partition: 0, Value: []byte("payload")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	base := "https://" + httpAddr
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: pki.clientTLS("")}}
	get := func(path, user, pass string) (int, []byte) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	waitFor(t, 60*time.Second, func() bool { code, _ := get("/readyz", "", ""); return code == http.StatusOK })

	paths := []string{"/", "/index.html", "/app.js", "/style.css", "/v1/cluster", "/v1/topics", "/v1/topics/secured",
		"/v1/topics/secured/partitions/0/records", "/v1/topics/secured/partitions/0/producers", "/v1/groups",
		"/v1/transactions", "/v1/acls", "/v1/quotas", "/v1/throughput", "/v1/no-such-endpoint", "/no-such-file"}
	for _, p := range paths {
		for _, cred := range [][2]string{{"", ""}, {"alice", "wrong"}, {"mallory", "alice-secret"}} {
			if code, body := get(p, cred[0], cred[1]); code != http.StatusUnauthorized {
				t.Errorf("GET %s as %q: %d %.100s; want 401", p, cred[0], code, body)
			}
		}
	}
	if code, _ := get("/healthz", "", ""); code != http.StatusOK {
		t.Errorf("/healthz without credentials: %d; the probes stay open", code)
	}
	// Plain HTTP to the TLS port gets no page.
	if resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + httpAddr + "/v1/topics"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP on the TLS port answered 200: %.100s", b)
		}
	}

	code, body := get("/v1/topics/secured", "alice", "alice-secret")
	var topic struct {
		Partitions int `json:"partitions"`
		List       []struct {
			HighWater int64 `json:"high_watermark"`
		} `json:"partition_list"`
		Errors []string
	}
	if code != http.StatusOK || json.Unmarshal(body, &topic) != nil || topic.Partitions != 2 || len(topic.Errors) != 0 || topic.List[0].HighWater != 1 {
		t.Fatalf("authenticated /v1/topics/secured: %d %s; want 2 partitions and one record in partition 0", code, body)
	}
	code, body = get("/v1/topics/secured/partitions/0/records?offset=earliest", "alice", "alice-secret")
	var recs consoleRecords
	if code != http.StatusOK || json.Unmarshal(body, &recs) != nil || len(recs.Records) != 1 || recs.Records[0].Value.Text != "payload" {
		t.Fatalf("authenticated records: %d %s", code, body)
	}
	if code, _ := get("/", "alice", "alice-secret"); code != http.StatusOK {
		t.Fatalf("authenticated /: %d", code)
	}
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// consoleSecureNode starts a node whose only client listener is SASL_SSL
// with SCRAM users broker (its inter-broker identity) and alice, and whose
// HTTP listener uses HTTPS with basic authentication.
func consoleSecureNode(t *testing.T, extra map[string]string) (*harness.Node, *testPKI, string) {
	t.Helper()
	pki := newPKI(t, "cluster")
	httpAddr := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	props := map[string]string{
		"listener.security.protocol.map": "SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT",
		"inter.broker.listener.name":     "SASL_SSL",
		"ssl.keystore.type":              "PEM", "ssl.keystore.location": pki.issue("broker"),
		"ssl.truststore.type": "PEM", "ssl.truststore.location": pki.CAFile,
		"sasl.enabled.mechanisms":                               "SCRAM-SHA-512",
		"sasl.mechanism.inter.broker.protocol":                  "SCRAM-SHA-512",
		"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": scramModule + ` required username="broker" password="broker-secret";`,
		"http.listener":                                         httpAddr,
		"http.listener.security.protocol":                       "SSL",
		"http.authentication":                                   "basic",
	}
	for k, v := range extra {
		props[k] = v
	}
	n := secureNode(t, "SASL_SSL", props, pki.clientTLS(""),
		"SCRAM-SHA-512=[name=broker,password=broker-secret]", "SCRAM-SHA-512=[name=alice,password=alice-secret]")
	return n, pki, httpAddr
}
