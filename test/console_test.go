package test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// Every console endpoint against what the Kafka API says about the same
// cluster: a topic created with franz-go, records of every kind, a running
// group with lag and an open transaction.
func TestConsoleAPIMatchesKafka(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	s := newConsoleScene(t, ctx)

	t.Run("cluster", func(t *testing.T) { checkConsoleCluster(t, s) })
	t.Run("topics", func(t *testing.T) { checkConsoleTopics(t, ctx, s) })
	t.Run("records", func(t *testing.T) { checkConsoleRecords(t, s) })
	t.Run("groups", func(t *testing.T) { checkConsoleGroups(t, ctx, s) })
	t.Run("transactions", func(t *testing.T) { checkConsoleTransactions(t, ctx, s) })
	t.Run("acls and quotas", func(t *testing.T) {
		var acls struct {
			Enabled bool  `json:"enabled"`
			ACLs    []any `json:"acls"`
		}
		if code := consoleJSON(t, s.base, "/v1/acls", &acls); code != 200 || acls.Enabled || len(acls.ACLs) != 0 {
			t.Fatalf("/v1/acls on a node without an authorizer: %d %+v; want disabled and empty", code, acls)
		}
		checkConsoleQuotas(t, s)
	})
	t.Run("throughput", func(t *testing.T) {
		var tp struct {
			Samples []struct {
				BytesIn   int64 `json:"bytes_in"`
				RecordsIn int64 `json:"records_in"`
				BytesOut  int64 `json:"bytes_out"`
			}
		}
		if code := consoleJSON(t, s.base, "/v1/throughput", &tp); code != 200 || len(tp.Samples) == 0 {
			t.Fatalf("/v1/throughput: %d %+v", code, tp)
		}
		last := tp.Samples[len(tp.Samples)-1]
		if last.RecordsIn < 3*scenePerPar || last.BytesIn <= 0 || last.BytesOut <= 0 {
			t.Fatalf("throughput totals %+v; want at least %d records in and some bytes out", last, 3*scenePerPar)
		}
	})
	t.Run("read-only by default", func(t *testing.T) {
		var sess struct {
			ReadOnly  bool   `json:"read_only"`
			Principal string `json:"principal"`
		}
		if code := consoleJSON(t, s.base, "/v1/console", &sess); code != 200 || !sess.ReadOnly || sess.Principal != "User:ANONYMOUS" {
			t.Fatalf("/v1/console: %d %+v; want read-only for User:ANONYMOUS", code, sess)
		}
		hc := &http.Client{Timeout: 30 * time.Second}
		for _, w := range []struct{ method, path string }{
			{"POST", "/v1/topics"}, {"DELETE", "/v1/topics/" + sceneTopic}, {"PUT", "/v1/topics/" + sceneTopic + "/configs"},
			{"POST", "/v1/topics/" + sceneTopic + "/partitions/0/delete-records"}, {"POST", "/v1/groups/" + sceneGroup + "/offsets"},
		} {
			if code, out := consoleWrite(t, hc, s.base, w.method, w.path, map[string]any{"name": "never"}, nil); code != http.StatusForbidden {
				t.Errorf("%s %s on a read-only console: %d %v; want 403", w.method, w.path, code, out)
			}
		}
		if topics, _ := s.adm.ListTopics(context.Background(), sceneTopic, "never"); !topics.Has(sceneTopic) || topics.Has("never") {
			t.Fatalf("topics after refused changes: %v", topics.Names())
		}
	})
	t.Run("page", func(t *testing.T) {
		code, body := httpGet(t, s.base+"/")
		if code != http.StatusOK || !strings.Contains(body, `<script src="app.js">`) {
			t.Fatalf("GET /: %d %.200s", code, body)
		}
		if code := consoleJSON(t, s.base, "/v1/no-such-endpoint", nil); code != http.StatusNotFound {
			t.Fatalf("unknown endpoint: %d; want 404", code)
		}
	})
}

func checkConsoleCluster(t *testing.T, s *consoleScene) {
	var c struct {
		ClusterID  string `json:"cluster_id"`
		Partitions int    `json:"partitions"`
		Brokers    []struct {
			ID         int32 `json:"id"`
			Fenced     bool  `json:"fenced"`
			Partitions int   `json:"partitions"`
			Leaders    int   `json:"leaders"`
			Listeners  []struct {
				Name string `json:"name"`
				Port int    `json:"port"`
			}
		}
		Quorum struct {
			LeaderID int32 `json:"leader_id"`
			Epoch    int64 `json:"epoch"`
			Voters   []struct {
				ID  int32 `json:"id"`
				Lag int64 `json:"lag"`
			}
		}
		Health struct {
			Healthy bool    `json:"healthy"`
			Brokers []int32 `json:"brokers"`
		}
	}
	if code := consoleJSON(t, s.base, "/v1/cluster", &c); code != 200 {
		t.Fatalf("/v1/cluster: %d", code)
	}
	// orders (3), empty (1) and the internal topics the group and the
	// transaction created.
	m, err := s.adm.Metadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	partitions := 0
	for _, td := range m.Topics {
		partitions += len(td.Partitions)
	}
	if c.ClusterID != s.node.ClusterID || c.ClusterID != m.Cluster || c.Partitions != partitions {
		t.Fatalf("cluster %s with %d partitions; Metadata says %s with %d", c.ClusterID, c.Partitions, m.Cluster, partitions)
	}
	if len(c.Brokers) != 1 || c.Brokers[0].ID != 1 || c.Brokers[0].Fenced || c.Brokers[0].Leaders != partitions || c.Brokers[0].Partitions != partitions {
		t.Fatalf("brokers %+v; want broker 1 unfenced, leading and hosting all %d partitions", c.Brokers, partitions)
	}
	want := fmt.Sprint(m.Brokers[0].Port)
	if l := c.Brokers[0].Listeners; len(l) != 1 || fmt.Sprint(l[0].Port) != want || l[0].Name != "PLAINTEXT" {
		t.Fatalf("listeners %+v; want PLAINTEXT on port %s", l, want)
	}
	if c.Quorum.LeaderID != 1 || c.Quorum.Epoch < 1 || len(c.Quorum.Voters) != 1 || c.Quorum.Voters[0].Lag != 0 {
		t.Fatalf("quorum %+v; want leader 1, one voter with no lag", c.Quorum)
	}
	if !c.Health.Healthy || !slices.Equal(c.Health.Brokers, []int32{1}) {
		t.Fatalf("health %+v; want healthy with broker 1", c.Health)
	}
}

type consolePartition struct {
	Partition int32   `json:"partition"`
	Leader    int32   `json:"leader"`
	Replicas  []int32 `json:"replicas"`
	ISR       []int32 `json:"isr"`
	LogStart  int64   `json:"log_start_offset"`
	HighWater int64   `json:"high_watermark"`
	Size      int64   `json:"size"`
}

func checkConsoleTopics(t *testing.T, ctx context.Context, s *consoleScene) {
	var list struct {
		Topics []struct {
			Name        string `json:"name"`
			Internal    bool   `json:"internal"`
			Partitions  int    `json:"partitions"`
			Replication int    `json:"replication_factor"`
			Size        int64  `json:"size"`
		}
	}
	if code := consoleJSON(t, s.base, "/v1/topics", &list); code != 200 {
		t.Fatalf("/v1/topics: %d", code)
	}
	dirs, err := s.adm.DescribeAllLogDirs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[string]int64{}
	dirs.Each(func(d kadm.DescribedLogDir) {
		for topic, ps := range d.Topics {
			for _, p := range ps {
				sizes[topic] += p.Size
			}
		}
	})
	found := map[string]bool{}
	for _, tp := range list.Topics {
		found[tp.Name] = true
		if tp.Size != sizes[tp.Name] {
			t.Errorf("topic %s size %d; DescribeLogDirs says %d", tp.Name, tp.Size, sizes[tp.Name])
		}
		if tp.Internal != strings.HasPrefix(tp.Name, "__") {
			t.Errorf("topic %s internal=%v", tp.Name, tp.Internal)
		}
		if tp.Name == sceneTopic && (tp.Partitions != 3 || tp.Replication != 1 || tp.Size <= 0) {
			t.Errorf("topic %+v; want 3 partitions, RF 1 and a size", tp)
		}
	}
	if !found[sceneTopic] || !found["empty"] || !found["__consumer_offsets"] {
		t.Fatalf("topics %+v; want orders, empty and __consumer_offsets", list.Topics)
	}

	var detail struct {
		PartitionList []consolePartition `json:"partition_list"`
		Configs       []struct {
			Name   string  `json:"name"`
			Value  *string `json:"value"`
			Source string  `json:"source"`
		}
		Errors []string
	}
	if code := consoleJSON(t, s.base, "/v1/topics/"+sceneTopic, &detail); code != 200 || len(detail.Errors) != 0 {
		t.Fatalf("/v1/topics/%s: %d %v", sceneTopic, code, detail.Errors)
	}
	starts, err := s.adm.ListStartOffsets(ctx, sceneTopic)
	if err != nil {
		t.Fatal(err)
	}
	ends, err := s.adm.ListEndOffsets(ctx, sceneTopic)
	if err != nil {
		t.Fatal(err)
	}
	if len(detail.PartitionList) != 3 {
		t.Fatalf("partitions %+v; want 3", detail.PartitionList)
	}
	for _, p := range detail.PartitionList {
		st, _ := starts.Lookup(sceneTopic, p.Partition)
		en, _ := ends.Lookup(sceneTopic, p.Partition)
		if p.Leader != 1 || !slices.Equal(p.Replicas, []int32{1}) || !slices.Equal(p.ISR, []int32{1}) ||
			p.LogStart != st.Offset || p.HighWater != en.Offset || p.Size <= 0 {
			t.Errorf("partition %+v; ListOffsets says start %d end %d", p, st.Offset, en.Offset)
		}
	}
	var retention string
	for _, c := range detail.Configs {
		if c.Name == "retention.ms" && c.Source == "DYNAMIC_TOPIC_CONFIG" && c.Value != nil {
			retention = *c.Value
		}
		if c.Source == "DEFAULT_CONFIG" {
			t.Errorf("config %s listed at its default", c.Name)
		}
	}
	if retention != "3600000" {
		t.Errorf("configs %+v; want retention.ms=3600000 set on the topic", detail.Configs)
	}
	if code := consoleJSON(t, s.base, "/v1/topics/no-such-topic", nil); code != http.StatusNotFound {
		t.Errorf("unknown topic: %d; want 404", code)
	}
}

// checkConsoleQuotas sets quotas with AlterClientQuotas and finds
// /v1/quotas saying what DescribeClientQuotas says.
func checkConsoleQuotas(t *testing.T, s *consoleScene) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	alice := "alice"
	entries := []kadm.AlterClientQuotaEntry{
		{Entity: kadm.ClientQuotaEntity{{Type: "user", Name: &alice}}, Ops: []kadm.AlterClientQuotaOp{{Key: "producer_byte_rate", Value: 1048576}}},
		{Entity: kadm.ClientQuotaEntity{{Type: "client-id"}}, Ops: []kadm.AlterClientQuotaOp{{Key: "consumer_byte_rate", Value: 2097152}}},
	}
	if res, err := s.adm.AlterClientQuotas(ctx, entries); err != nil {
		t.Fatalf("AlterClientQuotas: %v %+v", err, res)
	}
	want, err := s.adm.DescribeClientQuotas(ctx, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	type quota struct {
		Entity map[string]string  `json:"entity"`
		Values map[string]float64 `json:"values"`
	}
	var got struct{ Quotas []quota }
	waitFor(t, 30*time.Second, func() bool {
		return consoleJSON(t, s.base, "/v1/quotas", &got) == 200 && len(got.Quotas) == len(want) && len(want) == 2
	})
	shown := map[string]string{}
	for _, q := range got.Quotas {
		shown[fmt.Sprint(q.Entity)] = fmt.Sprint(q.Values)
	}
	for _, w := range want {
		entity := map[string]string{}
		values := map[string]float64{}
		for _, c := range w.Entity {
			entity[c.Type] = "<default>"
			if c.Name != nil {
				entity[c.Type] = *c.Name
			}
		}
		for _, v := range w.Values {
			values[v.Key] = v.Value
		}
		if shown[fmt.Sprint(entity)] != fmt.Sprint(values) {
			t.Errorf("quota %v: console shows %q; DescribeClientQuotas says %v", entity, shown[fmt.Sprint(entity)], values)
		}
	}
}
