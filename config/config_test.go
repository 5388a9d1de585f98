package config

import (
	"strings"
	"testing"
)

func TestReadProperties(t *testing.T) {
	in := `# comment
! another comment
process.roles = broker,controller
node.id:1
listeners=PLAINTEXT://:9092,\
    CONTROLLER://:9093
log.dirs   /data/a
escaped\ key=tab\there
empty=
`
	props, err := ReadProperties(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"process.roles": "broker,controller",
		"node.id":       "1",
		"listeners":     "PLAINTEXT://:9092,CONTROLLER://:9093",
		"log.dirs":      "/data/a",
		"escaped key":   "tab\there",
		"empty":         "",
	}
	if len(props) != len(want) {
		t.Fatalf("got %v", props)
	}
	for k, v := range want {
		if props[k] != v {
			t.Errorf("%q = %q, want %q", k, props[k], v)
		}
	}
}

func TestNewChecksTypesAndRules(t *testing.T) {
	_, problems, unknown := New(map[string]string{
		"num.partitions":            "0",
		"auto.create.topics.enable": "maybe",
		"log.retention.ms":          "-5",
		"log.cleanup.policy":        "compact,shred",
		"no.such.key":               "1",
		"message.max.bytes":         "2097152",
	})
	got := map[string]string{}
	for _, p := range problems {
		got[p.Key] = p.Message
	}
	for key, frag := range map[string]string{
		"num.partitions":            "must be at least 1",
		"auto.create.topics.enable": "expected true or false",
		"log.retention.ms":          "must be at least -1",
		"log.cleanup.policy":        `item "shred" must be one of delete, compact`,
	} {
		if !strings.Contains(got[key], frag) {
			t.Errorf("%s: %q, want it to contain %q", key, got[key], frag)
		}
	}
	if len(problems) != 4 {
		t.Errorf("problems %v", problems)
	}
	if len(unknown) != 1 || unknown[0] != "no.such.key" {
		t.Errorf("unknown %v", unknown)
	}
}

func TestNodeRules(t *testing.T) {
	base := func() map[string]string {
		return map[string]string{
			"process.roles":             "broker,controller",
			"node.id":                   "1",
			"listeners":                 "PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093",
			"controller.listener.names": "CONTROLLER",
			"controller.quorum.voters":  "1@localhost:9093",
		}
	}
	n, ps := MustNew(base()).Node()
	if len(ps) != 0 {
		t.Fatalf("valid config: %v", ps)
	}
	if !n.Broker || !n.Controller || n.NodeID != 1 || len(n.Advertised) != 1 || n.Advertised[0].Name != "PLAINTEXT" || n.InterBrokerListener != "PLAINTEXT" {
		t.Fatalf("node %+v", n)
	}
	if n.LogDirs[0] != "/tmp/kafka-logs" || n.MetadataLogDir != "/tmp/kafka-logs" {
		t.Fatalf("log dirs %v %s", n.LogDirs, n.MetadataLogDir)
	}
	cases := []struct {
		name   string
		change func(map[string]string)
		want   string
	}{
		{"no roles", func(p map[string]string) { delete(p, "process.roles") }, "process.roles: must be set"},
		{"no node id", func(p map[string]string) { delete(p, "node.id") }, "node.id: must be set"},
		{"no controller listener names", func(p map[string]string) { delete(p, "controller.listener.names") }, "controller.listener.names: must name"},
		{"voter missing", func(p map[string]string) { p["controller.quorum.voters"] = "2@localhost:9093" }, "not one of the voters"},
		{"bad voter", func(p map[string]string) { p["controller.quorum.voters"] = "x@localhost:9093" }, "invalid id"},
		{"no voters", func(p map[string]string) { p["controller.quorum.voters"] = "" }, "must list the controllers"},
		{"duplicate listener", func(p map[string]string) {
			p["listeners"] = "PLAINTEXT://:1,PLAINTEXT://:2,CONTROLLER://:3"
		}, "appears twice"},
		{"unmapped listener", func(p map[string]string) { p["listeners"] = "CLIENT://:1,CONTROLLER://:3" }, "not in listener.security.protocol.map"},
		{"broker without broker listener", func(p map[string]string) { p["listeners"] = "CONTROLLER://:3" }, "the broker role needs a listener"},
		{"broker-only binding controller listener", func(p map[string]string) {
			p["process.roles"] = "broker"
		}, "is a controller listener but this process has no controller role"},
		{"bad port", func(p map[string]string) { p["listeners"] = "PLAINTEXT://:99999,CONTROLLER://:3" }, "invalid port"},
	}
	for _, tc := range cases {
		p := base()
		tc.change(p)
		_, ps := MustNew(p).Node()
		found := false
		for _, pr := range ps {
			found = found || strings.Contains(pr.Error(), tc.want)
		}
		if !found {
			t.Errorf("%s: problems %v, want one containing %q", tc.name, ps, tc.want)
		}
	}
}

func TestLayersResolution(t *testing.T) {
	static := MustNew(map[string]string{"log.retention.hours": "2", "log.segment.bytes": "1048576"})
	l := Layers{Static: static}
	if v, src := l.Topic(nil, "retention.ms"); v != "7200000" || src != SourceStaticBroker {
		t.Errorf("retention.ms from hours: %s %d", v, src)
	}
	l.DynamicAll = map[string]string{"log.retention.minutes": "3"}
	if v, _ := l.Topic(nil, "retention.ms"); v != "180000" {
		t.Errorf("retention.ms from dynamic minutes: %s", v)
	}
	l.DynamicBroker = map[string]string{"log.retention.ms": "1000"}
	if v, src := l.Topic(nil, "retention.ms"); v != "1000" || src != SourceDynamicBroker {
		t.Errorf("retention.ms from dynamic ms: %s %d", v, src)
	}
	if v, src := l.Topic(map[string]string{"retention.ms": "5"}, "retention.ms"); v != "5" || src != SourceTopic {
		t.Errorf("topic override: %s %d", v, src)
	}
	if v, src := l.Topic(nil, "segment.bytes"); v != "1048576" || src != SourceStaticBroker {
		t.Errorf("segment.bytes: %s %d", v, src)
	}
	if v, src := l.Topic(nil, "max.message.bytes"); v != "1048588" || src != SourceDefault {
		t.Errorf("max.message.bytes: %s %d", v, src)
	}
	if n := l.TopicInt(nil, "segment.ms"); n != 7*24*3600*1000 {
		t.Errorf("segment.ms from log.roll.hours default: %d", n)
	}
	if v, _ := (Layers{Static: MustNew(map[string]string{"log.retention.hours": "-1"})}).Topic(nil, "retention.ms"); v != "-1" {
		t.Errorf("infinite retention: %s", v)
	}
}

// Every topic config with a broker synonym names a real broker config of
// the same type, so the defaults can never silently diverge.
func TestTopicSynonymsExist(t *testing.T) {
	for _, d := range TopicDefs() {
		if d.BrokerKey == "" {
			continue
		}
		b := LookupBroker(d.BrokerKey)
		if b == nil {
			t.Errorf("%s: broker synonym %s is not a broker config", d.Name, d.BrokerKey)
			continue
		}
		if b.Type != d.Type && !(b.Type == TypeInt && d.Type == TypeLong) && !(b.Type == TypeLong && d.Type == TypeInt) {
			t.Errorf("%s (%s) and %s (%s) differ in type", d.Name, d.Type, b.Name, b.Type)
		}
		if d.Check(d.Default) != nil {
			t.Errorf("%s: default %q fails its own rule", d.Name, d.Default)
		}
	}
	for _, d := range BrokerDefs() {
		if d.HasDefault && d.Default != "" && d.Check(d.Default) != nil {
			t.Errorf("%s: default %q fails its own rule: %v", d.Name, d.Default, d.Check(d.Default))
		}
	}
}
