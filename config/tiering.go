package config

import (
	"fmt"
	"slices"
	"strings"
)

// CheckTiering applies Kafka's rules across a topic's tiered-storage keys to
// its configs after a change (next; prev before it, nil for a new topic),
// resolving unset keys through l. systemEnabled is this node's
// remote.log.storage.system.enable.
func CheckTiering(l Layers, prev, next map[string]string, systemEnabled bool) error {
	enabled := func(m map[string]string) bool {
		v, _ := l.Topic(m, "remote.storage.enable")
		return strings.EqualFold(v, "true")
	}
	if prev != nil && enabled(prev) && !enabled(next) {
		return tieringError("Disabling remote storage feature on the topic level is not supported.")
	}
	if !enabled(next) {
		return nil
	}
	if !systemEnabled {
		return tieringError("Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.")
	}
	policy, _ := l.Topic(next, "cleanup.policy")
	if slices.Contains(SplitList(strings.ToLower(policy)), "compact") {
		return tieringError("Remote log storage is unsupported for the compacted topics")
	}
	for _, k := range [][2]string{{"local.retention.ms", "retention.ms"}, {"local.retention.bytes", "retention.bytes"}} {
		if err := checkLocalRetention(l, next, k[0], k[1]); err != nil {
			return err
		}
	}
	return nil
}

// checkLocalRetention: a local limit is -2 (follow the total), or at most
// the total when the total is bounded.
func checkLocalRetention(l Layers, m map[string]string, local, total string) error {
	lv, tv := l.TopicInt(m, local), l.TopicInt(m, total)
	if tv == -1 || lv == -2 {
		return nil
	}
	if lv == -1 {
		return tieringErrorf("Invalid value -1 for configuration %s: Value must not be -1 as %s value is set as %d.", local, total, tv)
	}
	if lv > tv {
		return tieringErrorf("Invalid value %d for configuration %s: Value must not be more than %s property value: %d", lv, local, total, tv)
	}
	return nil
}

// LocalRetention resolves a local limit: -2 means the total's value.
func LocalRetention(l Layers, m map[string]string, local, total string) int64 {
	if v := l.TopicInt(m, local); v != -2 {
		return v
	}
	return l.TopicInt(m, total)
}

// tieringError carries Kafka's own message, capitalised as Kafka's is.
type tieringError string

func (e tieringError) Error() string { return string(e) }

func tieringErrorf(format string, args ...any) error {
	return tieringError(fmt.Sprintf(format, args...))
}
