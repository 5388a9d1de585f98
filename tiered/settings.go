package tiered

import (
	"errors"
	"time"

	"spool/config"
)

// Settings are the broker's tiered-storage configs, read once at start.
type Settings struct {
	Enabled         bool
	Bucket          string
	Endpoint        string
	Region          string
	PathStyle       bool
	AccessKeyID     string
	SecretAccessKey string
	Prefix          string
	PartSize        int64
	CallTimeout     time.Duration
	ChunkSize       int64
	CacheBytes      int64
	TaskInterval    time.Duration
	Workers         int
	Readers         int
}

// FromConfig reads the settings; with tiered storage on, a bucket is
// required and a half-given key pair is refused.
func FromConfig(c *config.Config) (Settings, error) {
	s := Settings{
		Enabled:         c.Bool("remote.log.storage.system.enable"),
		Bucket:          c.Get("rsm.config.storage.s3.bucket.name"),
		Endpoint:        c.Get("rsm.config.storage.s3.endpoint.url"),
		Region:          c.Get("rsm.config.storage.s3.region"),
		PathStyle:       c.Bool("rsm.config.storage.s3.path.style.access.enabled"),
		AccessKeyID:     c.Get("rsm.config.storage.aws.access.key.id"),
		SecretAccessKey: c.Get("rsm.config.storage.aws.secret.access.key"),
		Prefix:          c.Get("rsm.config.key.prefix"),
		PartSize:        c.Int("rsm.config.storage.s3.multipart.upload.part.size"),
		CallTimeout:     time.Duration(c.Int("rsm.config.storage.s3.api.call.timeout")) * time.Millisecond,
		ChunkSize:       c.Int("rsm.config.fetch.chunk.size"),
		CacheBytes:      c.Int("rsm.config.fetch.chunk.cache.size"),
		TaskInterval:    time.Duration(c.Int("remote.log.manager.task.interval.ms")) * time.Millisecond,
		Workers:         int(c.Int("remote.log.manager.thread.pool.size")),
		Readers:         int(c.Int("remote.log.reader.threads")),
	}
	if !s.Enabled {
		return s, nil
	}
	if s.Bucket == "" {
		return s, errors.New("remote.log.storage.system.enable=true needs rsm.config.storage.s3.bucket.name")
	}
	if (s.AccessKeyID == "") != (s.SecretAccessKey == "") {
		return s, errors.New("rsm.config.storage.aws.access.key.id and rsm.config.storage.aws.secret.access.key go together")
	}
	return s, nil
}
