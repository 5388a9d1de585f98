package broker

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/config"
	"spool/controller/metadata"
)

func TestDescribeConfigsSourcesAndSynonyms(t *testing.T) {
	d := metadata.NewDelta(metadata.Empty())
	strp := func(s string) *string { return &s }
	d.Replay(&metadata.TopicRecord{Name: "t", TopicID: [16]byte{1}})
	d.Replay(&metadata.ConfigRecord{ResourceType: 2, ResourceName: "t", Name: "segment.bytes", Value: strp("1000")})
	d.Replay(&metadata.ConfigRecord{ResourceType: 4, ResourceName: "", Name: "message.max.bytes", Value: strp("2000")})
	d.Replay(&metadata.ConfigRecord{ResourceType: 4, ResourceName: "1", Name: "message.max.bytes", Value: strp("3000")})
	img := d.Apply()
	static := config.MustNew(map[string]string{"log.retention.hours": "1", "node.id": "1"})
	desc := configDescriber{
		img:      img,
		layers:   config.Layers{Static: static, DynamicBroker: img.Configs[metadata.ConfigResource{Type: 4, Name: "1"}], DynamicAll: img.Configs[metadata.ConfigResource{Type: 4}]},
		static:   static.Explicit(),
		synonyms: true,
	}
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, "t"
	var rr kmsg.DescribeConfigsResponseResource
	if e, msg := desc.topic(&rr, res); e != nil {
		t.Fatal(msg)
	}
	byName := map[string]kmsg.DescribeConfigsResponseResourceConfig{}
	for _, c := range rr.Configs {
		byName[c.Name] = c
	}
	check := func(name, value string, src kmsg.ConfigSource, synonyms ...string) {
		t.Helper()
		c, ok := byName[name]
		if !ok {
			t.Fatalf("%s missing", name)
		}
		if c.Value == nil || *c.Value != value || c.Source != src {
			t.Errorf("%s = %v from %v, want %s from %v", name, c.Value, c.Source, value, src)
		}
		var got []string
		for _, s := range c.ConfigSynonyms {
			got = append(got, s.Name+"="+*s.Value+"@"+s.Source.String())
		}
		if len(got) != len(synonyms) {
			t.Errorf("%s synonyms %v, want %v", name, got, synonyms)
			return
		}
		for i := range got {
			if got[i] != synonyms[i] {
				t.Errorf("%s synonyms %v, want %v", name, got, synonyms)
				return
			}
		}
	}
	check("segment.bytes", "1000", kmsg.ConfigSourceDynamicTopicConfig,
		"segment.bytes=1000@DYNAMIC_TOPIC_CONFIG", "log.segment.bytes=1073741824@DEFAULT_CONFIG")
	check("max.message.bytes", "3000", kmsg.ConfigSourceDynamicBrokerConfig,
		"message.max.bytes=3000@DYNAMIC_BROKER_CONFIG", "message.max.bytes=2000@DYNAMIC_DEFAULT_BROKER_CONFIG", "message.max.bytes=1048588@DEFAULT_CONFIG")
	check("retention.ms", "3600000", kmsg.ConfigSourceStaticBrokerConfig,
		"log.retention.hours=1@STATIC_BROKER_CONFIG", "log.retention.hours=168@DEFAULT_CONFIG")

	// The broker itself: static-only keys are read-only.
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeBroker, "1"
	rr = kmsg.DescribeConfigsResponseResource{}
	desc.broker(&rr, res)
	for _, c := range rr.Configs {
		if def := config.LookupBroker(c.Name); def == nil || c.ReadOnly == def.Dynamic {
			t.Errorf("%s: read-only %v", c.Name, c.ReadOnly)
		}
	}
	// The cluster default lists only what is set there.
	rr = kmsg.DescribeConfigsResponseResource{}
	desc.clusterDefaults(&rr, res)
	if len(rr.Configs) != 1 || rr.Configs[0].Name != "message.max.bytes" || *rr.Configs[0].Value != "2000" {
		t.Errorf("cluster defaults: %+v", rr.Configs)
	}
}
