package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Validator checks a well-typed value against a config's rule. The error
// text completes the sentence "KEY VALUE: ...".
type Validator func(v string) error

func atLeast(min int64) Validator {
	return func(v string) error {
		n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if n < min {
			return fmt.Errorf("must be at least %d", min)
		}
		return nil
	}
}

func betweenFloat(min, max float64) Validator {
	return func(v string) error {
		f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if f < min || f > max {
			return fmt.Errorf("must be between %g and %g", min, max)
		}
		return nil
	}
}

func oneOf(allowed ...string) Validator {
	return func(v string) error {
		for _, a := range allowed {
			if strings.EqualFold(strings.TrimSpace(v), a) {
				return nil
			}
		}
		return fmt.Errorf("must be one of %s", strings.Join(allowed, ", "))
	}
}

// listOf accepts a comma-separated list whose every item is allowed.
func listOf(allowed ...string) Validator {
	one := oneOf(allowed...)
	return func(v string) error {
		for _, item := range SplitList(v) {
			if err := one(item); err != nil {
				return fmt.Errorf("item %q %w", item, err)
			}
		}
		return nil
	}
}

// exactly accepts only want (case-sensitive, as Java class names are).
func exactly(want string) Validator {
	return func(v string) error {
		if strings.TrimSpace(v) != want {
			if want == "" {
				return fmt.Errorf("is not supported; leave it unset")
			}
			return fmt.Errorf("only %s is supported", want)
		}
		return nil
	}
}

func nonEmpty(v string) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("must not be empty")
	}
	return nil
}

// connectionOverrides checks max.connections.per.ip.overrides: a list of
// host:count or ip:count (an IPv6 address in brackets), counts at least 0.
func connectionOverrides(v string) error {
	_, err := ParseConnectionOverrides(v)
	return err
}

// ParseConnectionOverrides parses max.connections.per.ip.overrides into
// host (or IP) -> limit.
func ParseConnectionOverrides(v string) (map[string]int, error) {
	out := map[string]int{}
	for _, item := range SplitList(v) {
		i := strings.LastIndexByte(item, ':')
		if i <= 0 {
			return nil, fmt.Errorf("item %q is not host:count", item)
		}
		host := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(item[:i]), "["), "]")
		n, err := strconv.ParseInt(strings.TrimSpace(item[i+1:]), 10, 32)
		if err != nil || n < 0 || host == "" {
			return nil, fmt.Errorf("item %q is not host:count with a count of at least 0", item)
		}
		out[host] = int(n)
	}
	return out, nil
}

// throttledReplicas checks a *.replication.throttled.replicas value: empty,
// "*", or comma-separated partition:broker pairs of whole numbers, as
// Kafka's ThrottledReplicaListValidator requires.
func throttledReplicas(v string) error {
	v = strings.TrimSpace(v)
	if v == "" || v == "*" {
		return nil
	}
	for _, pair := range strings.Split(v, ",") {
		p, b, ok := strings.Cut(strings.TrimSpace(pair), ":")
		_, err1 := strconv.ParseUint(strings.TrimSpace(p), 10, 31)
		_, err2 := strconv.ParseUint(strings.TrimSpace(b), 10, 31)
		if !ok || err1 != nil || err2 != nil {
			return fmt.Errorf("must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId]")
		}
	}
	return nil
}

func between(min, max int64) Validator {
	return func(v string) error {
		n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if n < min || n > max {
			return fmt.Errorf("must be between %d and %d", min, max)
		}
		return nil
	}
}
