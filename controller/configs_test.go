package controller

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
)

func TestValidateConfig(t *testing.T) {
	topic, broker, group := metadata.ConfigResourceTopic, metadata.ConfigResourceBroker, metadata.ConfigResourceGroup
	cases := []struct {
		name     string
		typ      int8
		key, val string
		want     *kerr.Error
		wantMsg  string // substring of the message
	}{
		{"topic retention", topic, "retention.ms", "60000", nil, ""},
		{"topic retention forever", topic, "retention.ms", "-1", nil, ""},
		{"topic retention below -1", topic, "retention.ms", "-5", kerr.InvalidConfig, "retention.ms: must be at least -1"},
		{"topic retention not a number", topic, "retention.ms", "soon", kerr.InvalidConfig, "not a valid long"},
		{"topic unknown key", topic, "no.such", "1", kerr.InvalidConfig, "Unknown topic config name: no.such"},
		{"topic broker-only key", topic, "log.retention.ms", "1", kerr.InvalidConfig, "Unknown topic config name"},
		{"topic policy list", topic, "cleanup.policy", "compact,delete", nil, ""},
		{"topic policy bad item", topic, "cleanup.policy", "compact,shred", kerr.InvalidConfig, `item "shred" must be one of delete, compact`},
		{"topic segment too small", topic, "segment.bytes", "10", kerr.InvalidConfig, "segment.bytes: must be at least 1048576"},
		{"topic timestamp type", topic, "message.timestamp.type", "LogAppendTime", nil, ""},
		{"topic timestamp type bad", topic, "message.timestamp.type", "Now", kerr.InvalidConfig, "must be one of CreateTime, LogAppendTime"},
		{"topic ratio", topic, "min.cleanable.dirty.ratio", "1.5", kerr.InvalidConfig, "between 0 and 1"},
		{"topic int overflow", topic, "max.message.bytes", "99999999999", kerr.InvalidConfig, "not a valid int"},
		{"broker dynamic", broker, "log.retention.ms", "1000", nil, ""},
		{"broker dynamic bad", broker, "message.max.bytes", "-1", kerr.InvalidConfig, "message.max.bytes: must be at least 0"},
		{"broker static only", broker, "log.dirs", "/tmp/x", kerr.InvalidRequest, "Cannot update these configs dynamically: log.dirs"},
		{"broker unknown", broker, "no.such", "1", kerr.InvalidConfig, "Unknown broker config name: no.such"},
		{"group session timeout", group, "consumer.session.timeout.ms", "50000", nil, ""},
		{"group interval not a number", group, "consumer.heartbeat.interval.ms", "soon", kerr.InvalidConfig, "not a valid int"},
		{"group assignment interval negative", group, "consumer.assignment.interval.ms", "-1", kerr.InvalidConfig, "must be at least 0"},
		{"group broker key", group, "group.consumer.session.timeout.ms", "50000", kerr.InvalidConfig, "Unknown group config name"},
		{"group share key", group, "share.session.timeout.ms", "50000", kerr.InvalidConfig, "Unknown group config name"},
	}
	for _, tc := range cases {
		e := validateConfig(tc.typ, tc.key, tc.val)
		switch {
		case tc.want == nil && e != nil:
			t.Errorf("%s: unexpected error %v: %s", tc.name, e.err, e.msg)
		case tc.want != nil && e == nil:
			t.Errorf("%s: accepted, want %v", tc.name, tc.want)
		case tc.want != nil && (e.err != tc.want || !strings.Contains(e.msg, tc.wantMsg) && !strings.Contains(tc.key+": "+e.msg, tc.wantMsg)):
			t.Errorf("%s: got %v %q, want %v containing %q", tc.name, e.err, e.msg, tc.want, tc.wantMsg)
		}
	}
}

func TestConfigRecords(t *testing.T) {
	img := imageWith(t, []int32{1}, "orders")
	d := metadata.NewDelta(img)
	d.Replay(&metadata.ConfigRecord{ResourceType: 2, ResourceName: "orders", Name: "retention.ms", Value: strp("1000")})
	d.Replay(&metadata.ConfigRecord{ResourceType: 2, ResourceName: "orders", Name: "cleanup.policy", Value: strp("compact")})
	img = d.Apply()

	set := func(name string, op kmsg.IncrementalAlterConfigOp, v *string) kmsg.IncrementalAlterConfigsRequestResourceConfig {
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Name, c.Op, c.Value = name, op, v
		return c
	}
	incr := func(typ int8, ops ...kmsg.IncrementalAlterConfigsRequestResourceConfig) configChange {
		return func(cur map[string]string) (map[string]string, *topicError) { return incrementalConfigs(typ, cur, ops) }
	}
	repl := func(kv ...string) configChange {
		var cs []kmsg.AlterConfigsRequestResourceConfig
		for i := 0; i < len(kv); i += 2 {
			c := kmsg.NewAlterConfigsRequestResourceConfig()
			c.Name, c.Value = kv[i], strp(kv[i+1])
			cs = append(cs, c)
		}
		return func(map[string]string) (map[string]string, *topicError) { return replaceConfigs(cs) }
	}
	topic := metadata.ConfigResource{Type: 2, Name: "orders"}
	cases := []struct {
		name   string
		res    metadata.ConfigResource
		change configChange
		want   *kerr.Error
		recs   string // name=value or name=<nil>, space separated
	}{
		{"set new", topic, incr(2, set("max.message.bytes", 0, strp("2097152"))), nil, "max.message.bytes=2097152"},
		{"set same value writes nothing", topic, incr(2, set("retention.ms", 0, strp("1000"))), nil, ""},
		{"delete", topic, incr(2, set("retention.ms", 1, nil)), nil, "retention.ms=<nil>"},
		{"delete absent writes nothing", topic, incr(2, set("segment.ms", 1, nil)), nil, ""},
		{"append to own value", topic, incr(2, set("cleanup.policy", 2, strp("delete"))), nil, "cleanup.policy=compact,delete"},
		{"append present item", topic, incr(2, set("cleanup.policy", 2, strp("compact"))), nil, ""},
		{"subtract", topic, incr(2, set("cleanup.policy", 3, strp("compact"))), nil, "cleanup.policy="},
		{"append to non-list", topic, incr(2, set("retention.ms", 2, strp("5"))), kerr.InvalidConfig, ""},
		{"append validates items", topic, incr(2, set("cleanup.policy", 2, strp("shred"))), kerr.InvalidConfig, ""},
		{"null set", topic, incr(2, set("retention.ms", 0, nil)), kerr.InvalidRequest, ""},
		{"duplicate keys", topic, incr(2, set("retention.ms", 0, strp("1")), set("retention.ms", 1, nil)), kerr.InvalidRequest, ""},
		{"bad op", topic, incr(2, set("retention.ms", 9, strp("1"))), kerr.InvalidRequest, ""},
		{"unknown topic", metadata.ConfigResource{Type: 2, Name: "nope"}, incr(2, set("retention.ms", 0, strp("1"))), kerr.UnknownTopicOrPartition, ""},
		{"replace drops the rest", topic, repl("segment.ms", "60000"), nil, "segment.ms=60000 cleanup.policy=<nil> retention.ms=<nil>"},
		{"replace invalid", topic, repl("segment.ms", "0"), kerr.InvalidConfig, ""},
		{"broker default", metadata.ConfigResource{Type: 4}, incr(4, set("log.retention.ms", 0, strp("5000"))), nil, "log.retention.ms=5000"},
		{"broker by id", metadata.ConfigResource{Type: 4, Name: "7"}, incr(4, set("message.max.bytes", 0, strp("5000"))), nil, "message.max.bytes=5000"},
		{"broker bad name", metadata.ConfigResource{Type: 4, Name: "one"}, incr(4, set("message.max.bytes", 0, strp("5000"))), kerr.InvalidRequest, ""},
		{"broker static key", metadata.ConfigResource{Type: 4}, incr(4, set("log.dirs", 0, strp("/x"))), kerr.InvalidRequest, ""},
		{"broker append list", metadata.ConfigResource{Type: 4}, incr(4, set("log.cleanup.policy", 2, strp("compact"))), nil, "log.cleanup.policy=delete,compact"},
		{"group resource", metadata.ConfigResource{Type: 32, Name: "g"}, incr(32, set("consumer.session.timeout.ms", 0, strp("50000"))), nil, "consumer.session.timeout.ms=50000"},
		{"group default resource", metadata.ConfigResource{Type: 32}, incr(32, set("consumer.session.timeout.ms", 0, strp("50000"))), kerr.InvalidRequest, ""},
		{"client metrics resource", metadata.ConfigResource{Type: 16, Name: "m"}, incr(16), kerr.InvalidRequest, ""},
	}
	for _, tc := range cases {
		recs, e := configRecords(img, tc.res, tc.change, nil, nil)
		if tc.want != nil {
			if e == nil || e.err != tc.want {
				t.Errorf("%s: got %v, want %v", tc.name, e, tc.want)
			}
			continue
		}
		if e != nil {
			t.Errorf("%s: %v: %s", tc.name, e.err, e.msg)
			continue
		}
		var got []string
		for _, r := range recs {
			cr := r.(*metadata.ConfigRecord)
			v := "<nil>"
			if cr.Value != nil {
				v = *cr.Value
			}
			got = append(got, cr.Name+"="+v)
		}
		if g := strings.Join(got, " "); g != tc.recs {
			t.Errorf("%s: records %q, want %q", tc.name, g, tc.recs)
		}
	}
}

func strp(s string) *string { return &s }
