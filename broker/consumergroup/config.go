package consumergroup

import (
	"crypto/rand"
	"encoding/base64"
	"slices"
	"time"
)

// Config is the coordinator's settings for one group: the broker's
// group.consumer.* configs with the group's own overrides applied.
type Config struct {
	SessionTimeout     time.Duration // consumer.session.timeout.ms
	HeartbeatInterval  time.Duration // consumer.heartbeat.interval.ms
	AssignmentInterval time.Duration // consumer.assignment.interval.ms
	MaxSize            int           // group.consumer.max.size
	Assignors          []string      // group.consumer.assignors; the first is the default
	// RegexRefresh is how often a regex subscription is resolved again
	// even when the topics did not change (group.consumer.regex.refresh.interval.ms).
	RegexRefresh time.Duration
	// NewID makes member ids; nil is random (tests make them predictable).
	NewID func() string
}

// DefaultConfig is Kafka's defaults.
func DefaultConfig() Config {
	return Config{
		SessionTimeout: 45 * time.Second, HeartbeatInterval: 5 * time.Second,
		AssignmentInterval: time.Second, MaxSize: 1<<31 - 1,
		Assignors:    []string{"uniform", "range"},
		RegexRefresh: 10 * time.Minute,
	}
}

func (c *Config) hasAssignor(name string) bool { return slices.Contains(c.Assignors, name) }

// newID makes a member id for a v0 heartbeat or a classic JoinGroup
// without one: Kafka's random Uuid in its base64 form.
func (c *Config) newID() string {
	if c.NewID != nil {
		return c.NewID()
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
