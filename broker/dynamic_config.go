package broker

import (
	"maps"
	"reflect"
	"strconv"

	"go.uber.org/zap"

	"spool/config"
	"spool/controller/metadata"
	"spool/storage"
)

// configLayers are the places a config value can come from on this broker:
// its own dynamic configs, the cluster-wide dynamic defaults, then its
// static configuration.
func (b *Broker) configLayers(img *metadata.Image) config.Layers {
	return config.Layers{
		Static:        b.cfg.Static,
		DynamicBroker: img.Configs[b.brokerResource()],
		DynamicAll:    img.Configs[metadata.ConfigResource{Type: metadata.ConfigResourceBroker}],
	}
}

func (b *Broker) brokerResource() metadata.ConfigResource {
	return metadata.ConfigResource{Type: metadata.ConfigResourceBroker, Name: strconv.Itoa(int(b.cfg.NodeID))}
}

// onConfigs applies changed configs to the open logs, so retention, segment
// rolling and flushing follow an AlterConfigs without a restart. A topic's
// own configs change only its partitions; this broker's dynamic configs or
// the cluster defaults may change any topic's effective values. (Produce
// validation reads the image on every request and needs nothing here.)
func (rm *replicaManager) onConfigs(prev, next *metadata.Image, _ metadata.TopicChanges) {
	// A delta copies the configs map only when a config changed.
	if reflect.ValueOf(prev.Configs).UnsafePointer() == reflect.ValueOf(next.Configs).UnsafePointer() {
		return
	}
	self := rm.b.brokerResource()
	all := metadata.ConfigResource{Type: metadata.ConfigResourceBroker}
	brokerWide := !maps.Equal(prev.Configs[self], next.Configs[self]) || !maps.Equal(prev.Configs[all], next.Configs[all])
	rm.mu.RLock()
	var parts []*partition
	for _, p := range rm.parts {
		if brokerWide || !maps.Equal(prev.TopicConfig(p.topic), next.TopicConfig(p.topic)) {
			parts = append(parts, p)
		}
	}
	rm.mu.RUnlock()
	cfgs := map[string]storage.Config{}
	for _, p := range parts {
		c, ok := cfgs[p.topic]
		if !ok {
			c = rm.storageConfig(next, p.topic)
			cfgs[p.topic] = c
			rm.log.Info("applying changed configs", zap.String("topic", p.topic), zap.Int64("retention_ms", c.RetentionMs), zap.Int64("segment_bytes", c.SegmentBytes))
		}
		p.log.SetConfig(c)
	}
}
