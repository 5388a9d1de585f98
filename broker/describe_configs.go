package broker

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/config"
	"spool/controller/metadata"
	"spool/protocol"
)

// handleDescribeConfigs answers from this broker's image: every known key
// of a topic or of this broker, with its effective value and where it came
// from. Describing the cluster default (broker "") lists only the keys set
// as dynamic defaults, as Kafka does.
func (b *Broker) handleDescribeConfigs(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.DescribeConfigsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeConfigsResponse)
	d := configDescriber{
		img:      b.Image(),
		synonyms: r.IncludeSynonyms,
		docs:     r.IncludeDocumentation,
	}
	d.layers = b.configLayers(d.img)
	d.static = b.cfg.Static.Explicit()
	for _, res := range r.Resources {
		rr := kmsg.NewDescribeConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
		var e *kerr.Error
		var msg string
		switch int8(res.ResourceType) {
		case metadata.ConfigResourceTopic:
			e, msg = d.topic(&rr, res)
		case metadata.ConfigResourceBroker:
			switch res.ResourceName {
			case "":
				d.clusterDefaults(&rr, res)
			case strconv.Itoa(int(b.cfg.NodeID)):
				d.broker(&rr, res)
			default:
				e, msg = kerr.InvalidRequest, fmt.Sprintf("Unexpected broker id, expected %d or empty string, but received %s", b.cfg.NodeID, res.ResourceName)
			}
		case metadata.ConfigResourceGroup:
			e, msg = d.group(&rr, res)
		default:
			e, msg = kerr.InvalidRequest, fmt.Sprintf("Unsupported resource type %d: configs can be described for topics (2), brokers (4) and groups (32).", res.ResourceType)
		}
		if e != nil {
			rr.ErrorCode, rr.ErrorMessage = e.Code, &msg
			rr.Configs = nil
		}
		resp.Resources = append(resp.Resources, rr)
	}
	respond(protocol.Msg(resp))
}

// configDescriber builds DescribeConfigs entries against one image.
type configDescriber struct {
	img      *metadata.Image
	layers   config.Layers
	static   map[string]string // the keys set in the static configuration
	synonyms bool
	docs     bool
}

// wanted filters by the request's key names; nil names mean every key.
func wanted(res kmsg.DescribeConfigsRequestResource, name string) bool {
	return res.ConfigNames == nil || slices.Contains(res.ConfigNames, name)
}

func (d *configDescriber) topic(rr *kmsg.DescribeConfigsResponseResource, res kmsg.DescribeConfigsRequestResource) (*kerr.Error, string) {
	if msg := metadata.TopicNameProblem(res.ResourceName); msg != "" {
		return kerr.InvalidTopicException, msg
	}
	if d.img.Topics.ByName(res.ResourceName) == nil {
		return kerr.UnknownTopicOrPartition, fmt.Sprintf("The topic '%s' does not exist.", res.ResourceName)
	}
	own := d.img.TopicConfig(res.ResourceName)
	for _, def := range config.TopicDefs() {
		if _, set := own[def.Name]; !wanted(res, def.Name) || def.Internal && !set {
			continue
		}
		value, src := d.layers.Topic(own, def.Name)
		e := d.entry(def, value, src, false)
		if d.synonyms {
			if v, ok := own[def.Name]; ok {
				e.ConfigSynonyms = append(e.ConfigSynonyms, synonym(def, def.Name, v, config.SourceTopic))
			}
			if def.BrokerKey != "" {
				e.ConfigSynonyms = append(e.ConfigSynonyms, d.brokerSynonyms(def.BrokerKey, true)...)
			}
		}
		rr.Configs = append(rr.Configs, e)
	}
	return nil, ""
}

func (d *configDescriber) broker(rr *kmsg.DescribeConfigsResponseResource, res kmsg.DescribeConfigsRequestResource) {
	for _, def := range config.BrokerDefs() {
		if !wanted(res, def.Name) {
			continue
		}
		value, src := d.layers.Broker(def.Name)
		if !def.HasDefault && !d.layers.IsSet(def.Name) {
			// Unset, it has no value of its own even where a sibling
			// supplies the effective one (log.retention.ms from
			// log.retention.hours), as Kafka describes it.
			value, src = "", config.SourceDefault
		}
		e := d.entry(def, value, src, !def.Dynamic)
		if d.synonyms {
			e.ConfigSynonyms = d.brokerSynonyms(def.Name, true)
		}
		rr.Configs = append(rr.Configs, e)
	}
}

func (d *configDescriber) clusterDefaults(rr *kmsg.DescribeConfigsResponseResource, res kmsg.DescribeConfigsRequestResource) {
	for _, def := range config.BrokerDefs() {
		v, ok := d.layers.DynamicAll[def.Name]
		if !ok || !wanted(res, def.Name) {
			continue
		}
		e := d.entry(def, v, config.SourceDynamicDefaultBroker, !def.Dynamic)
		if d.synonyms {
			e.ConfigSynonyms = d.brokerSynonyms(def.Name, false)
		}
		rr.Configs = append(rr.Configs, e)
	}
}

func (d *configDescriber) entry(def *config.Def, value string, src config.Source, readOnly bool) kmsg.DescribeConfigsResponseResourceConfig {
	e := kmsg.NewDescribeConfigsResponseResourceConfig()
	e.Name = def.Name
	e.Source = kmsg.ConfigSource(src)
	e.IsDefault = src == config.SourceDefault
	e.ReadOnly = readOnly
	e.IsSensitive = sensitive(def)
	e.ConfigType = kmsg.ConfigType(def.Type)
	// A key without a default that nothing sets has no value (Kafka's null).
	if !e.IsSensitive && !(value == "" && src == config.SourceDefault && !def.HasDefault) {
		v := value
		e.Value = &v
	}
	if d.docs {
		doc := def.Doc
		e.Documentation = &doc
	}
	return e
}

// brokerSynonyms lists every layer that sets key or one of its unit
// siblings, most specific first: this broker's dynamic configs, the
// cluster's dynamic defaults, the static file, then the built-in default.
// The cluster-default resource shows only its own layer.
func (d *configDescriber) brokerSynonyms(key string, perBroker bool) []kmsg.DescribeConfigsResponseResourceConfigConfigSynonym {
	var out []kmsg.DescribeConfigsResponseResourceConfigConfigSynonym
	names := config.BrokerSynonyms(key)
	add := func(m map[string]string, src config.Source) {
		for _, n := range names {
			if v, ok := m[n]; ok {
				out = append(out, synonym(config.LookupBroker(n), n, v, src))
			}
		}
	}
	if perBroker {
		add(d.layers.DynamicBroker, config.SourceDynamicBroker)
	}
	add(d.layers.DynamicAll, config.SourceDynamicDefaultBroker)
	if !perBroker {
		return out
	}
	add(d.static, config.SourceStaticBroker)
	for _, n := range names {
		if def := config.LookupBroker(n); def != nil && def.HasDefault {
			out = append(out, synonym(def, n, def.Default, config.SourceDefault))
		}
	}
	return out
}

func synonym(def *config.Def, name, value string, src config.Source) kmsg.DescribeConfigsResponseResourceConfigConfigSynonym {
	s := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
	s.Name, s.Source = name, kmsg.ConfigSource(src)
	if def == nil || !sensitive(def) {
		v := value
		s.Value = &v
	}
	return s
}

func sensitive(def *config.Def) bool { return def.Sensitive || def.Type == config.TypePassword }
