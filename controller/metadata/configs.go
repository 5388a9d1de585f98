package metadata

// ConfigResource names what a config applies to. Type uses Kafka's resource
// type numbers; the cluster-wide broker default is the broker resource with
// the empty name.
type ConfigResource struct {
	Type int8
	Name string
}

// Kafka's config resource types.
const (
	ConfigResourceTopic         int8 = 2
	ConfigResourceBroker        int8 = 4
	ConfigResourceBrokerLogger  int8 = 8
	ConfigResourceClientMetrics int8 = 16
	ConfigResourceGroup         int8 = 32
)

// TopicConfig returns the overrides set on topic name (nil if none). The map
// belongs to the image: do not modify it.
func (img *Image) TopicConfig(name string) map[string]string {
	return img.Configs[ConfigResource{ConfigResourceTopic, name}]
}

// configsDelta changes configs copy-on-write: the outer map is copied on the
// first change and each resource's map on its first change.
type configsDelta struct {
	base  map[ConfigResource]map[string]string
	next  map[ConfigResource]map[string]string // nil until the first change
	owned map[ConfigResource]bool
}

func (c *configsDelta) writable() map[ConfigResource]map[string]string {
	if c.next == nil {
		c.next = cloneMap(c.base)
		c.owned = make(map[ConfigResource]bool)
	}
	return c.next
}

func (c *configsDelta) set(res ConfigResource, name string, value *string) {
	all := c.writable()
	m := all[res]
	if !c.owned[res] {
		m = cloneMap(m)
		c.owned[res] = true
	}
	if m == nil {
		m = make(map[string]string)
	}
	if value == nil {
		delete(m, name)
	} else {
		m[name] = *value
	}
	if len(m) == 0 {
		delete(all, res)
		return
	}
	all[res] = m
}

func (c *configsDelta) remove(res ConfigResource) {
	if _, ok := c.current()[res]; !ok {
		return
	}
	delete(c.writable(), res)
	delete(c.owned, res)
}

func (c *configsDelta) current() map[ConfigResource]map[string]string {
	if c.next != nil {
		return c.next
	}
	return c.base
}
