package config

import "sort"

// Scope says where a config may be set.
type Scope uint8

const (
	ScopeBroker Scope = 1 << iota // server.properties / broker resource
	ScopeTopic                    // topic resource
	ScopeGroup                    // group resource (KIP-848)
)

// Def describes one config: Kafka's name, type and default, and the rule its
// values must follow.
type Def struct {
	Name    string
	Type    Type
	Default string // "" with HasDefault false means no default (required or absent)
	// HasDefault distinguishes an empty default from no default.
	HasDefault bool
	Validate   Validator
	// Dynamic configs can change on a running broker (AlterConfigs).
	Dynamic bool
	Scope   Scope
	// BrokerKey names the broker config supplying a topic config's default
	// (segment.bytes <- log.segment.bytes).
	BrokerKey string
	Sensitive bool
	Doc       string
	// PerListener keys may be set as listener.name.<l>.<key>;
	// PerMechanism keys as listener.name.<l>.<mechanism>.<key>.
	PerListener, PerMechanism bool
	// Internal keys are listed (DescribeConfigs, CreateTopics) only where
	// set, as Kafka lists its internal.* test keys.
	Internal bool
}

// The one table of every config Spool knows, by scope and name. A few names
// (compression.type, min.insync.replicas, ...) exist in both scopes.
var (
	brokerByName = index(concat(brokerDefs, securityDefs, authzDefs, httpDefs, tieredDefs), ScopeBroker)
	topicByName  = index(topicDefs, ScopeTopic)
)

func concat(lists ...[]Def) []Def {
	var out []Def
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func index(list []Def, s Scope) map[string]*Def {
	m := make(map[string]*Def, len(list))
	for i := range list {
		list[i].Scope = s
		m[list[i].Name] = &list[i]
	}
	return m
}

// LookupBroker returns the broker config name, or nil if Spool does not know it.
func LookupBroker(name string) *Def { return brokerByName[name] }

// LookupTopic returns the topic config name, or nil if Spool does not know it.
func LookupTopic(name string) *Def { return topicByName[name] }

// TopicDefs returns every topic config definition, sorted by name.
func TopicDefs() []*Def { return sorted(topicByName) }

// BrokerDefs returns every broker config definition, sorted by name.
func BrokerDefs() []*Def { return sorted(brokerByName) }

func sorted(m map[string]*Def) []*Def {
	out := make([]*Def, 0, len(m))
	for _, d := range m {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Check reports whether v is a valid value for d.
func (d *Def) Check(v string) error {
	if err := d.Type.parse(v); err != nil {
		return err
	}
	if d.Validate != nil {
		return d.Validate(v)
	}
	return nil
}

func def(name string, t Type, dflt string, doc string) Def {
	return Def{Name: name, Type: t, Default: dflt, HasDefault: true, Doc: doc}
}

func (d Def) rule(v Validator) Def  { d.Validate = v; return d }
func (d Def) dynamic() Def          { d.Dynamic = true; return d }
func (d Def) broker(key string) Def { d.BrokerKey = key; return d }
func (d Def) noDefault() Def        { d.HasDefault = false; d.Default = ""; return d }
func (d Def) internal() Def         { d.Internal = true; return d }
