package controller

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/config"
	"spool/controller/metadata"
)

// createdTopicConfigs is a created topic's effective configuration, as
// CreateTopics v5+ answers it: every topic key sorted by name, with its
// value and where it comes from (the request, the cluster's dynamic
// defaults, this controller's static file, or the built-in default). The
// Java admin client reads this list on every successful create, so an
// absent (null) list fails its createTopics.
func (tc *topicCreator) createdTopicConfigs(requested []kmsg.CreateTopicsRequestTopicConfig) []kmsg.CreateTopicsResponseTopicConfig {
	own := make(map[string]string, len(requested))
	for _, c := range requested {
		if c.Value != nil {
			own[c.Name] = *c.Value
		}
	}
	layers := config.Layers{
		Static:     tc.static,
		DynamicAll: tc.img.Configs[metadata.ConfigResource{Type: metadata.ConfigResourceBroker}],
	}
	defs := config.TopicDefs()
	out := make([]kmsg.CreateTopicsResponseTopicConfig, 0, len(defs))
	for _, def := range defs {
		if _, set := own[def.Name]; def.Internal && !set {
			continue
		}
		value, src := layers.Topic(own, def.Name)
		c := kmsg.NewCreateTopicsResponseTopicConfig()
		c.Name = def.Name
		c.Source = int8(src)
		c.IsSensitive = def.Sensitive || def.Type == config.TypePassword
		// A key without a default that nothing sets has no value (null),
		// and a sensitive one never shows its value.
		if !c.IsSensitive && !(value == "" && src == config.SourceDefault && !def.HasDefault) {
			v := value
			c.Value = &v
		}
		out = append(out, c)
	}
	return out
}
