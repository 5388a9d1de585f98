package config

import "strconv"

// Source says where an effective value came from, with Kafka's
// DescribeConfigs source numbers.
type Source int8

const (
	SourceTopic                Source = 1
	SourceDynamicBroker        Source = 2
	SourceDynamicDefaultBroker Source = 3
	SourceStaticBroker         Source = 4
	SourceDefault              Source = 5
	SourceGroup                Source = 8 // a group's own config (KIP-848)
)

// Layers are the places a value can come from, most specific first.
type Layers struct {
	Static        *Config
	DynamicBroker map[string]string // per-broker dynamic configs
	DynamicAll    map[string]string // cluster-wide dynamic broker defaults
}

// Broker resolves a broker config through dynamic and static layers,
// applying Kafka's unit fallbacks (log.retention.hours -> .ms and so on).
func (l Layers) Broker(name string) (string, Source) {
	if v, ok := l.DynamicBroker[name]; ok {
		return v, SourceDynamicBroker
	}
	if v, ok := l.DynamicAll[name]; ok {
		return v, SourceDynamicDefaultBroker
	}
	if l.Static != nil && l.Static.IsSet(name) {
		return l.Static.Get(name), SourceStaticBroker
	}
	if v, src, ok := l.fallback(name); ok {
		return v, src
	}
	if d := LookupBroker(name); d != nil {
		return d.Default, SourceDefault
	}
	return "", SourceDefault
}

// fallback derives the ms form of a config from its coarser siblings.
func (l Layers) fallback(name string) (string, Source, bool) {
	scaled := func(key string, mul int64) (string, Source, bool) {
		v, src := l.Broker(key)
		if v == "" {
			return "", 0, false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return "", 0, false
		}
		if n < 0 {
			return "-1", src, true
		}
		return strconv.FormatInt(n*mul, 10), src, true
	}
	switch name {
	case "log.retention.ms":
		if l.isSet("log.retention.minutes") {
			return scaled("log.retention.minutes", 60_000)
		}
		return scaled("log.retention.hours", 3_600_000)
	case "log.retention.minutes":
		return "", 0, false
	case "log.roll.ms":
		return scaled("log.roll.hours", 3_600_000)
	case "log.flush.interval.ms":
		return maxLong, SourceDefault, true
	}
	return "", 0, false
}

// IsSet reports whether any layer (dynamic or static) sets the key itself.
func (l Layers) IsSet(name string) bool { return l.isSet(name) }

func (l Layers) isSet(name string) bool {
	_, d := l.DynamicBroker[name]
	_, a := l.DynamicAll[name]
	return d || a || (l.Static != nil && l.Static.IsSet(name))
}

// Topic resolves a topic config: the topic's own value, else the broker key
// that supplies its default, else the topic default.
func (l Layers) Topic(topic map[string]string, name string) (string, Source) {
	if v, ok := topic[name]; ok {
		return v, SourceTopic
	}
	d := LookupTopic(name)
	if d == nil {
		return "", SourceDefault
	}
	if d.BrokerKey != "" {
		if v, src := l.Broker(d.BrokerKey); v != "" {
			return v, src
		}
	}
	return d.Default, SourceDefault
}

// TopicInt is Topic parsed as an integer.
func (l Layers) TopicInt(topic map[string]string, name string) int64 {
	v, _ := l.Topic(topic, name)
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

// TopicSegmentBytes is the size at which a topic's segments roll:
// internal.segment.bytes where set, else segment.bytes.
func (l Layers) TopicSegmentBytes(topic map[string]string) int64 {
	if _, ok := topic["internal.segment.bytes"]; ok {
		return l.TopicInt(topic, "internal.segment.bytes")
	}
	return l.TopicInt(topic, "segment.bytes")
}
