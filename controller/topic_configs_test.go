package controller

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/config"
)

// A created topic's answer lists every topic key with its effective value
// and source, as Kafka's controller does; the Java admin client fails a
// create whose answer has no list.
func TestCreatedTopicConfigs(t *testing.T) {
	img := imageWith(t, []int32{1})
	static := config.MustNew(map[string]string{"log.retention.ms": "123456"})
	req := kmsg.NewCreateTopicsRequestTopic()
	req.Topic, req.NumPartitions, req.ReplicationFactor = "configs", 1, 1
	mir := kmsg.NewCreateTopicsRequestTopicConfig()
	mir.Name, mir.Value = "min.insync.replicas", kmsg.StringPtr("1")
	req.Configs = append(req.Configs, mir)
	resp := kmsg.NewCreateTopicsResponseTopic()
	if _, err := newTopicCreator(img, static).create(&req, &resp); err != nil {
		t.Fatalf("create: %v: %s", err.err, err.msg)
	}
	listed := 0
	for _, d := range config.TopicDefs() {
		if !d.Internal {
			listed++
		}
	}
	if len(resp.Configs) != listed {
		t.Fatalf("%d configs in the answer, want every topic key but the internal ones (%d)", len(resp.Configs), listed)
	}
	got := map[string]kmsg.CreateTopicsResponseTopicConfig{}
	for i, c := range resp.Configs {
		if i > 0 && resp.Configs[i-1].Name >= c.Name {
			t.Fatalf("configs not sorted by name: %s before %s", resp.Configs[i-1].Name, c.Name)
		}
		got[c.Name] = c
	}
	for _, want := range []struct {
		name, value string
		src         config.Source
	}{
		{"min.insync.replicas", "1", config.SourceTopic},
		{"retention.ms", "123456", config.SourceStaticBroker},
		{"cleanup.policy", "delete", config.SourceDefault},
	} {
		c, ok := got[want.name]
		if !ok || c.Value == nil || *c.Value != want.value || c.Source != int8(want.src) || c.ReadOnly || c.IsSensitive {
			t.Errorf("%s: got %+v (value %v), want %q from source %d", want.name, c, c.Value, want.value, want.src)
		}
	}
}
