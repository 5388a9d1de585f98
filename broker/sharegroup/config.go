package sharegroup

import "time"

// Config is a share group's settings: the broker's group.share.* configs.
type Config struct {
	SessionTimeout    time.Duration // group.share.session.timeout.ms
	HeartbeatInterval time.Duration // group.share.heartbeat.interval.ms
	MaxSize           int           // group.share.max.size
	// LockDuration is how long acquired records stay with the member
	// that acquired them (group.share.record.lock.duration.ms).
	LockDuration time.Duration
	// DeliveryLimit is the delivery attempts after which a record is
	// archived instead of made available again
	// (group.share.delivery.count.limit).
	DeliveryLimit int16
	// MaxRecordLocks bounds the in-flight window: end - start
	// (group.share.partition.max.record.locks).
	MaxRecordLocks int
}

// DefaultConfig is Kafka's defaults.
func DefaultConfig() Config {
	return Config{
		SessionTimeout: 45 * time.Second, HeartbeatInterval: 5 * time.Second,
		MaxSize: 200, LockDuration: 30 * time.Second, DeliveryLimit: 5, MaxRecordLocks: 2000,
	}
}
