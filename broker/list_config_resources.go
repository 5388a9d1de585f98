package broker

import (
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"spool/controller/metadata"
	"spool/protocol"
)

// handleListConfigResources (KIP-1142) lists the resources that have
// configs, of the types asked (none: all): every topic, this broker, and
// the groups with configs of their own. v0 (ListClientMetricsResources)
// asks only for client-metrics resources, which Spool does not have.
// BROKER_LOGGER resources are not listed: Spool's log levels are set on
// its HTTP listener (/v1/loggers), not with the config APIs.
func (b *Broker) handleListConfigResources(req *protocol.Request, respond func(protocol.Response)) {
	r := req.Msg.(*kmsg.ListConfigResourcesRequest)
	resp := r.ResponseKind().(*kmsg.ListConfigResourcesResponse)
	types := r.ResourceTypes
	if r.Version == 0 {
		types = []int8{metadata.ConfigResourceClientMetrics}
	}
	for _, t := range types {
		switch t {
		case metadata.ConfigResourceTopic, metadata.ConfigResourceBroker, metadata.ConfigResourceBrokerLogger,
			metadata.ConfigResourceClientMetrics, metadata.ConfigResourceGroup:
		default:
			// Kafka's answer to a type it does not know.
			resp.ErrorCode = kerr.UnsupportedVersion.Code
			respond(protocol.Msg(resp))
			return
		}
	}
	want := func(t int8) bool { return len(types) == 0 || slices.Contains(types, t) }
	add := func(t int8, name string) {
		c := kmsg.NewListConfigResourcesResponseConfigResource()
		c.Name, c.Type = name, t
		resp.ConfigResources = append(resp.ConfigResources, c)
	}
	img := b.Image()
	if want(metadata.ConfigResourceBroker) {
		add(metadata.ConfigResourceBroker, strconv.Itoa(int(b.cfg.NodeID)))
	}
	if want(metadata.ConfigResourceTopic) {
		var names []string
		img.Topics.Range(func(t *metadata.Topic) bool {
			names = append(names, t.Name)
			return true
		})
		slices.Sort(names)
		for _, n := range names {
			add(metadata.ConfigResourceTopic, n)
		}
	}
	if want(metadata.ConfigResourceGroup) {
		var groups []string
		for res := range img.Configs {
			if res.Type == metadata.ConfigResourceGroup {
				groups = append(groups, res.Name)
			}
		}
		slices.Sort(groups)
		for _, g := range groups {
			add(metadata.ConfigResourceGroup, g)
		}
	}
	respond(protocol.Msg(resp))
}
