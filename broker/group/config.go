package group

import (
	"crypto/rand"
	"fmt"
	"time"
)

// Config is the broker configuration the coordinator follows.
type Config struct {
	MinSessionTimeout     time.Duration // group.min.session.timeout.ms
	MaxSessionTimeout     time.Duration // group.max.session.timeout.ms
	InitialRebalanceDelay time.Duration // group.initial.rebalance.delay.ms
	MaxSize               int           // group.max.size
	OffsetsRetention      time.Duration // offsets.retention.minutes
	MaxMetadataSize       int           // offset.metadata.max.bytes
	// NewMemberID makes a member id from a client id or instance id; tests
	// replace it to get predictable ids.
	NewMemberID func(prefix string) string
}

// DefaultConfig is Kafka's defaults.
func DefaultConfig() Config {
	return Config{
		MinSessionTimeout:     6 * time.Second,
		MaxSessionTimeout:     30 * time.Minute,
		InitialRebalanceDelay: 3 * time.Second,
		MaxSize:               1<<31 - 1,
		OffsetsRetention:      7 * 24 * time.Hour,
		MaxMetadataSize:       4096,
		NewMemberID:           randomMemberID,
	}
}

// randomMemberID is Kafka's form: the prefix, a dash and a random UUID.
func randomMemberID(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%s-%x-%x-%x-%x-%x", prefix, b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
