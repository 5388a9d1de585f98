package test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/test/harness"
)

// cfgValue describes one config of a resource and returns its value and
// source.
func cfgValue(t *testing.T, adm *kadm.Client, typ kmsg.ConfigResourceType, name, key string) (string, kmsg.ConfigSource) {
	t.Helper()
	ctx := ctxT(t, time.Minute)
	var rcs kadm.ResourceConfigs
	var err error
	if typ == kmsg.ConfigResourceTypeTopic {
		rcs, err = adm.DescribeTopicConfigs(ctx, name)
	} else {
		rcs, err = adm.DescribeBrokerConfigs(ctx, 1)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range rcs {
		if rc.Err != nil {
			t.Fatalf("describe %s: %v", name, rc.Err)
		}
		for _, c := range rc.Configs {
			if c.Key == key {
				return c.MaybeValue(), c.Source
			}
		}
	}
	t.Fatalf("%s has no config %s", name, key)
	return "", 0
}

// cfgAlter runs one incremental alter and returns its error.
func cfgAlter(t *testing.T, adm *kadm.Client, topic string, ops ...kadm.AlterConfig) error {
	t.Helper()
	resps, err := adm.AlterTopicConfigs(ctxT(t, time.Minute), ops, topic)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range resps {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

func set(k, v string) kadm.AlterConfig {
	return kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: &v}
}

// TestDynamicConfigsApplyLiveAndSurviveRestart changes topic configs on a
// running node and checks each takes effect without a restart: a smaller
// max.message.bytes refuses a big record, a short retention.ms deletes
// closed segments. Then it restarts the node and checks the configs stayed.
func TestDynamicConfigsApplyLiveAndSurviveRestart(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, map[string]string{"log.retention.check.interval.ms": "200"})
	n.Start()
	adm := admin(t, n.Addr)
	ctx := ctxT(t, 3*time.Minute)
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "live"); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.DefaultProduceTopic("live"), kgo.RecordRetries(2))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	// max.message.bytes: a 4 KiB record passes, then is refused.
	// Random bytes: the client compresses, and the limit is on the batch
	// as sent.
	big := make([]byte, 4096)
	rand.Read(big)
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: big}).FirstErr(); err != nil {
		t.Fatalf("4 KiB record before the change: %v", err)
	}
	if err := cfgAlter(t, adm, "live", set("max.message.bytes", "1024")); err != nil {
		t.Fatal(err)
	}
	if v, src := cfgValue(t, adm, kmsg.ConfigResourceTypeTopic, "live", "max.message.bytes"); v != "1024" || src != kmsg.ConfigSourceDynamicTopicConfig {
		t.Fatalf("max.message.bytes = %s (%v), want 1024 from the topic", v, src)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: big}).FirstErr(); !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("4 KiB record after max.message.bytes=1024: got %v, want MESSAGE_TOO_LARGE", err)
	}

	// Invalid values are refused with the key and the rule.
	err = cfgAlter(t, adm, "live", set("retention.ms", "-7"))
	if !errors.Is(err, kerr.InvalidConfig) {
		t.Fatalf("retention.ms=-7: got %v, want INVALID_CONFIG", err)
	}

	// retention.ms: with small segments, a short retention deletes the
	// closed ones.
	if err := cfgAlter(t, adm, "live", set("internal.segment.bytes", "200"), set("max.message.bytes", "1048588")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: bytes.Repeat([]byte{'a' + byte(i)}, 120)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(n.Dir, "live-0")
	before := segmentCount(t, dir)
	if before < 4 {
		t.Fatalf("%d segments with internal.segment.bytes=200, want several", before)
	}
	if err := cfgAlter(t, adm, "live", set("retention.ms", "1000")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for segmentCount(t, dir) > 1 {
		if time.Now().After(deadline) {
			t.Fatalf("retention.ms=1000 left %d segments after 30s", segmentCount(t, dir))
		}
		time.Sleep(100 * time.Millisecond)
	}
	starts, err := adm.ListStartOffsets(ctx, "live")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := starts.Lookup("live", 0); o.Offset == 0 {
		t.Errorf("log start offset still 0 after retention deleted segments")
	}

	// Cluster-wide dynamic broker default, visible on the broker.
	if _, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{set("log.retention.ms", "7200000")}); err != nil {
		t.Fatal(err)
	}
	if v, src := cfgValue(t, adm, kmsg.ConfigResourceTypeBroker, "1", "log.retention.ms"); v != "7200000" || src != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
		t.Fatalf("log.retention.ms = %s (%v), want 7200000 from the dynamic default", v, src)
	}

	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	n.Start()
	adm = admin(t, n.Addr)
	for key, want := range map[string]string{"retention.ms": "1000", "internal.segment.bytes": "200", "max.message.bytes": "1048588"} {
		if v, src := cfgValue(t, adm, kmsg.ConfigResourceTypeTopic, "live", key); v != want || src != kmsg.ConfigSourceDynamicTopicConfig {
			t.Errorf("after restart %s = %s (%v), want %s from the topic", key, v, src, want)
		}
	}
	if v, _ := cfgValue(t, adm, kmsg.ConfigResourceTypeBroker, "1", "log.retention.ms"); v != "7200000" {
		t.Errorf("after restart log.retention.ms = %s, want 7200000", v)
	}
}

func segmentCount(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".log") {
			n++
		}
	}
	return n
}

// TestAlterConfigsReplacesAndValidates covers the legacy AlterConfigs
// (whole-set replacement), validateOnly, and broker-key rules.
func TestAlterConfigsReplacesAndValidates(t *testing.T) {
	t.Parallel()
	n := harness.SingleNode(t, nil)
	n.Start()
	adm := admin(t, n.Addr)
	ctx := ctxT(t, 2*time.Minute)
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"retention.ms": strp("1000"), "cleanup.policy": strp("compact")}, "t"); err != nil {
		t.Fatal(err)
	}
	// validateOnly changes nothing.
	if _, err := adm.ValidateAlterTopicConfigs(ctx, []kadm.AlterConfig{set("retention.ms", "5000")}, "t"); err != nil {
		t.Fatal(err)
	}
	if v, _ := cfgValue(t, adm, kmsg.ConfigResourceTypeTopic, "t", "retention.ms"); v != "1000" {
		t.Fatalf("validateOnly changed retention.ms to %s", v)
	}
	// AlterConfigs replaces the set: cleanup.policy goes back to default.
	resps, err := adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{set("segment.ms", "60000")}, "t")
	if err != nil || resps[0].Err != nil {
		t.Fatalf("AlterConfigs: %v %v", err, resps)
	}
	if v, src := cfgValue(t, adm, kmsg.ConfigResourceTypeTopic, "t", "cleanup.policy"); v != "delete" || src != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("cleanup.policy after replace = %s (%v), want the default", v, src)
	}
	if v, _ := cfgValue(t, adm, kmsg.ConfigResourceTypeTopic, "t", "segment.ms"); v != "60000" {
		t.Errorf("segment.ms = %s, want 60000", v)
	}
	// Static-only broker keys cannot change at runtime.
	bresps, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{set("log.dirs", "/x")}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(bresps[0].Err, kerr.InvalidRequest) || !strings.Contains(bresps[0].ErrMessage, "log.dirs") {
		t.Errorf("log.dirs: got %v %q, want INVALID_REQUEST (as Kafka) naming the key", bresps[0].Err, bresps[0].ErrMessage)
	}
	// Unknown topic.
	resps, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{set("retention.ms", "1")}, "missing")
	if err != nil || !errors.Is(resps[0].Err, kerr.UnknownTopicOrPartition) {
		t.Errorf("unknown topic: %v %v", err, resps)
	}
}
