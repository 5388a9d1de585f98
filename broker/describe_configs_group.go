package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/config"
	"spool/controller/metadata"
)

// group describes a group's configs (KIP-848) as Kafka does: every group
// key, its own value (source GROUP_CONFIG) or else the broker config that
// supplies it (DEFAULT_CONFIG). Any group id has configs, whether or not
// the group exists.
func (d *configDescriber) group(rr *kmsg.DescribeConfigsResponseResource, res kmsg.DescribeConfigsRequestResource) (*kerr.Error, string) {
	if res.ResourceName == "" {
		return kerr.InvalidRequest, "Group name must not be empty"
	}
	own := d.img.Configs[metadata.ConfigResource{Type: metadata.ConfigResourceGroup, Name: res.ResourceName}]
	for _, def := range config.GroupDefs() {
		if !wanted(res, def.Name) {
			continue
		}
		value, set := own[def.Name]
		src := config.SourceDefault
		if set {
			src = config.SourceGroup
		} else if def.BrokerKey != "" {
			value, _ = d.layers.Broker(def.BrokerKey)
		} else {
			value = def.Default // no broker config supplies it
		}
		e := d.entry(def, value, src, false)
		// Kafka marks no group config as default, even one the group does
		// not set.
		e.IsDefault = false
		if d.synonyms {
			if set {
				e.ConfigSynonyms = append(e.ConfigSynonyms, synonym(def, def.Name, value, src))
			}
			e.ConfigSynonyms = append(e.ConfigSynonyms, d.brokerSynonyms(def.BrokerKey, true)...)
		}
		rr.Configs = append(rr.Configs, e)
	}
	return nil, ""
}
