package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Config is a broker's static configuration: the keys set in the properties
// file and overrides, validated per key, with defaults from the table.
// It is immutable once built; dynamic changes live in the metadata image.
type Config struct {
	set map[string]string
}

// Problem is one invalid setting, reported as a single line.
type Problem struct {
	Key     string
	Message string
}

func (p Problem) Error() string {
	if p.Key == "" {
		return p.Message
	}
	return p.Key + ": " + p.Message
}

// New builds a Config from explicitly set keys. Each known key's value is
// checked against its type and rule; unknown keys are returned separately so
// the caller can warn about them, as Kafka does.
func New(props map[string]string) (*Config, []Problem, []string) {
	c := &Config{set: make(map[string]string, len(props))}
	var problems []Problem
	var unknown []string
	for k, v := range props {
		c.set[k] = v
		d := LookupBroker(k)
		if lk, ok := LookupListenerKey(k); ok {
			d = lk.Def
		}
		if d == nil {
			if IsSecurityKey(k) {
				problems = append(problems, Problem{k, "unknown security setting; Spool refuses it rather than run without it"})
			} else if isTieredKey(k) {
				problems = append(problems, Problem{k, "unknown remote storage setting"})
			} else {
				unknown = append(unknown, k)
			}
			continue
		}
		if err := d.Check(v); err != nil {
			problems = append(problems, Problem{k, fmt.Sprintf("invalid value %q: %v", v, err)})
		}
	}
	sort.Slice(problems, func(i, j int) bool { return problems[i].Key < problems[j].Key })
	sort.Strings(unknown)
	return c, problems, unknown
}

// MustNew is New for values known to be valid (tests, built-in defaults).
func MustNew(props map[string]string) *Config {
	c, problems, _ := New(props)
	if len(problems) > 0 {
		panic(fmt.Sprintf("config: %v", problems))
	}
	return c
}

// Get returns the value of name: the set value, else the default.
func (c *Config) Get(name string) string {
	if v, ok := c.set[name]; ok {
		return strings.TrimSpace(v)
	}
	if d := LookupBroker(name); d != nil {
		return d.Default
	}
	return ""
}

// IsSet reports whether name was set explicitly.
func (c *Config) IsSet(name string) bool {
	_, ok := c.set[name]
	return ok
}

// Explicit returns a copy of the explicitly set keys.
func (c *Config) Explicit() map[string]string {
	out := make(map[string]string, len(c.set))
	for k, v := range c.set {
		out[k] = v
	}
	return out
}

// Int returns name as an integer; unset keys without a default are 0.
func (c *Config) Int(name string) int64 {
	n, _ := strconv.ParseInt(c.Get(name), 10, 64)
	return n
}

// Float returns name as a float.
func (c *Config) Float(name string) float64 {
	f, _ := strconv.ParseFloat(c.Get(name), 64)
	return f
}

// Bool returns name as a boolean.
func (c *Config) Bool(name string) bool {
	return strings.EqualFold(c.Get(name), "true")
}

// List returns name as a list.
func (c *Config) List(name string) []string { return SplitList(c.Get(name)) }
