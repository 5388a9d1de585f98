package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"spool/test/harness"
)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// scrape reads /metrics, lints it as `promtool check metrics` does, and
// returns the families by name.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := httpGet(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// value sums the samples of a counter, gauge or histogram (its count) whose
// labels include want.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	var sum float64
	found := false
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			if labels[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum, found
}

func TestHTTPMetricsMoveWithTraffic(t *testing.T) {
	httpAddr := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	n := harness.SingleNode(t, map[string]string{"http.listener": httpAddr, "group.initial.rebalance.delay.ms": "0"})
	n.Start()
	base := "http://" + httpAddr
	waitReady(t, base)
	if code, body := httpGet(t, base+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d %s", code, body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.ConsumerGroup("metrics-group"), kgo.ConsumeTopics("metrics-topic"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 2, 1, nil, "metrics-topic"); err != nil {
		t.Fatal(err)
	}
	const records = 100
	for i := 0; i < records; i++ {
		cl.Produce(ctx, &kgo.Record{Topic: "metrics-topic", Value: []byte(strings.Repeat("x", 100))}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := 0
	for got < records {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d: %v", got, records, err)
		}
		got += fs.NumRecords()
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}

	fams := scrape(t, base)
	topic := map[string]string{"topic": "metrics-topic"}
	for _, c := range []struct {
		name   string
		labels map[string]string
		min    float64
	}{
		{"spool_topic_records_in_total", topic, records},
		{"spool_topic_bytes_in_total", topic, records * 100},
		{"spool_topic_bytes_out_total", topic, records * 100},
		{"spool_topic_produce_requests_total", topic, 1},
		{"spool_topic_fetch_requests_total", topic, 1},
		{"spool_log_size_bytes", topic, records * 100},
		{"spool_log_segments", topic, 2},
		{"spool_requests_total", map[string]string{"api": "Produce", "listener": "PLAINTEXT"}, 1},
		{"spool_requests_total", map[string]string{"api": "Fetch", "listener": "PLAINTEXT"}, 1},
		{"spool_requests_total", map[string]string{"api": "JoinGroup"}, 1},
		{"spool_request_duration_seconds", map[string]string{"api": "Metadata"}, 1},
		{"spool_requests_total", map[string]string{"listener": "CONTROLLER", "api": "BrokerHeartbeat"}, 1},
		{"spool_connections", map[string]string{"listener": "PLAINTEXT"}, 1},
		{"spool_leader_partitions", nil, 2},
		{"spool_partitions", nil, 2},
		{"spool_groups", map[string]string{"state": "Stable"}, 1},
		{"spool_group_rebalances_total", nil, 1},
		{"spool_controller_active", nil, 1},
		{"spool_raft_term", nil, 1},
		{"spool_raft_commit_index", nil, 1},
		{"spool_controller_partitions", nil, 2},
		{"spool_controller_brokers", map[string]string{"state": "active"}, 1},
		{"spool_broker_registered", nil, 1},
		{"spool_broker_serving", nil, 1},
		{"spool_log_flush_duration_seconds", nil, 0},
		{"go_goroutines", nil, 1},
		{"process_resident_memory_bytes", nil, 1},
	} {
		v, ok := value(fams, c.name, c.labels)
		if !ok || v < c.min {
			t.Errorf("%s%v = %v (present %v); want at least %v", c.name, c.labels, v, ok, c.min)
		}
	}
	for _, zero := range []string{"spool_under_replicated_partitions", "spool_under_min_isr_partitions", "spool_broker_fenced", "spool_controller_offline_partitions"} {
		if v, ok := value(fams, zero, nil); !ok || v != 0 {
			t.Errorf("%s = %v (present %v); want 0", zero, v, ok)
		}
	}
	// Everything was consumed and committed: the lag series exist and are 0.
	if v, ok := value(fams, "spool_consumer_group_lag", map[string]string{"group": "metrics-group", "topic": "metrics-topic"}); !ok || v != 0 {
		t.Errorf("spool_consumer_group_lag = %v (present %v); want 0", v, ok)
	}

	// More records without consuming them: the lag and bytes in grow.
	for i := 0; i < 10; i++ {
		cl.Produce(ctx, &kgo.Record{Topic: "metrics-topic", Value: []byte("y")}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	after := scrape(t, base)
	if v, _ := value(after, "spool_consumer_group_total_lag", map[string]string{"group": "metrics-group"}); v != 10 {
		t.Errorf("spool_consumer_group_total_lag = %v after 10 unconsumed records; want 10", v)
	}
	checkDashboard(t, after)
	if out := n.Output(); !strings.Contains(out, "topics created") || !strings.Contains(out, "metrics-topic (2 partitions)") {
		t.Errorf("topic creation not logged:\n%s", out)
	}
	before, _ := value(fams, "spool_topic_records_in_total", topic)
	if v, _ := value(after, "spool_topic_records_in_total", topic); v != before+10 {
		t.Errorf("spool_topic_records_in_total went from %v to %v; want +10", before, v)
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, body := httpGet(t, base+"/readyz")
		if code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never answered 200: %d %s", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A broker is not ready until a controller registers and unfences it; the
// probe says why meanwhile.
func TestHTTPReadyOnlyOnceUnfenced(t *testing.T) {
	c := harness.NewCluster(t, []string{"controller", "broker"}, nil)
	brk := c.Node(2)
	httpAddr := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
	brk.Props["http.listener"] = httpAddr
	brk.Rewrite()
	base := "http://" + httpAddr
	brk.StartArgs("--config", brk.ConfigFile, "--cluster-id", brk.ClusterID)
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _ := httpGet(t, base+"/healthz")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz never answered 200\n%s", brk.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, body := httpGet(t, base+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "not registered") {
		t.Fatalf("/readyz without a controller: %d %q; want 503 naming the registration", code, body)
	}
	fams := scrape(t, base)
	if v, _ := value(fams, "spool_broker_fenced", nil); v != 1 {
		t.Errorf("spool_broker_fenced = %v before registration; want 1", v)
	}
	ctrl := c.Node(1)
	ctrl.StartArgs("--config", ctrl.ConfigFile, "--cluster-id", ctrl.ClusterID)
	waitReady(t, base)
	brk.WaitServing(30 * time.Second)
	fams = scrape(t, base)
	if v, _ := value(fams, "spool_broker_fenced", nil); v != 0 {
		t.Errorf("spool_broker_fenced = %v once ready; want 0", v)
	}
	if out := brk.Output(); !strings.Contains(out, "brokers unfenced") {
		t.Errorf("unfencing not logged:\n%s", out)
	}
}

// A listener reachable from the network without authentication is refused
// on a node whose Kafka listeners require it, and so is basic auth without
// TLS.
func TestHTTPListenerFailsClosed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		props map[string]string
		want  string
	}{
		{"basic without TLS", map[string]string{"http.listener": "127.0.0.1:0", "http.authentication": "basic"}, "needs http.listener.security.protocol=SSL"},
		{"SSL without keystore", map[string]string{"http.listener": "127.0.0.1:0", "http.listener.security.protocol": "SSL"}, "http.listener (SSL)"},
		{"bad address", map[string]string{"http.listener": "nowhere"}, "http.listener"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := harness.SingleNode(t, tc.props)
			out, code := harness.Run(t, "server", "--config", n.ConfigFile, "--cluster-id", n.ClusterID)
			if code != 2 || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, want 2 with %q:\n%s", code, tc.want, out)
			}
		})
	}
}

// checkDashboard holds the Grafana dashboard to what Grafana needs to
// import it (a title, a uid, panels with unique ids, positions and
// queries) and to the metrics the node exports: every name its queries use
// must be a family on /metrics.
func checkDashboard(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	raw, err := os.ReadFile("../deploy/grafana/spool.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title         string `json:"title"`
		UID           string `json:"uid"`
		SchemaVersion int    `json:"schemaVersion"`
		Panels        []struct {
			ID      int                     `json:"id"`
			Type    string                  `json:"type"`
			Title   string                  `json:"title"`
			GridPos map[string]int          `json:"gridPos"`
			Targets []struct{ Expr string } `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("dashboard does not parse: %v", err)
	}
	if d.Title == "" || d.UID == "" || d.SchemaVersion == 0 || len(d.Panels) == 0 {
		t.Fatalf("dashboard lacks a title, uid, schemaVersion or panels")
	}
	ids := map[int]bool{}
	names := regexp.MustCompile(`\b(?:spool|go|process)_[a-z_]+`)
	queried := 0
	for _, p := range d.Panels {
		if ids[p.ID] || p.Title == "" || len(p.GridPos) == 0 {
			t.Errorf("panel %d %q: duplicate id, no title or no position", p.ID, p.Title)
		}
		ids[p.ID] = true
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, name := range names.FindAllString(tg.Expr, -1) {
				queried++
				base := name
				if fams[base] == nil {
					for _, suffix := range []string{"_bucket", "_sum", "_count"} {
						base = strings.TrimSuffix(base, suffix)
					}
				}
				if fams[base] == nil {
					t.Errorf("panel %q queries %s, which /metrics does not export", p.Title, name)
				}
			}
		}
	}
	if queried < 30 {
		t.Errorf("dashboard queries only %d metrics", queried)
	}
}

// A restart logs one summary line for the groups it loads, not one per
// __consumer_offsets partition.
func TestGroupLoadLoggedOnce(t *testing.T) {
	n := harness.SingleNode(t, map[string]string{"group.initial.rebalance.delay.ms": "0"})
	n.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "load-log", Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	offs := kadm.Offsets{}
	offs.Add(kadm.Offset{Topic: "load-log", Partition: 0, At: 1})
	for _, g := range []string{"g1", "g2", "g3"} {
		if _, err := adm.CommitOffsets(ctx, g, offs); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	n.Start()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(n.Output(), "loaded groups") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	out := n.Output()
	if c := strings.Count(out, "loaded groups"); c != 1 || !strings.Contains(out, `"groups": 3`) {
		t.Fatalf("%d \"loaded groups\" lines (want 1, with 3 groups):\n%s", c, out)
	}
}
