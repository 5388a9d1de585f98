package storage

import (
	"math"
	"os"
	"time"

	"go.uber.org/zap"

	"spool/record"
)

// Config holds the per-partition settings that shape the log. Names follow
// the topic-level Kafka configs they come from.
type Config struct {
	SegmentBytes          int64 // segment.bytes
	SegmentMs             int64 // segment.ms: roll when the first batch is older than this
	IndexIntervalBytes    int   // index.interval.bytes
	MaxIndexBytes         int   // segment.index.bytes
	FlushIntervalMessages int64 // flush.messages
	FlushIntervalMs       int64 // flush.ms; negative means never by time
	RetentionMs           int64 // retention.ms; -1 keeps forever
	RetentionBytes        int64 // retention.bytes; -1 is unlimited

	// cleanup.policy: Compact runs the cleaner over the log; Delete applies
	// retention. A log with neither set deletes, as Kafka's default does.
	Compact                bool
	Delete                 bool
	MinCleanableDirtyRatio float64 // min.cleanable.dirty.ratio
	MinCompactionLagMs     int64   // min.compaction.lag.ms
	MaxCompactionLagMs     int64   // max.compaction.lag.ms
	DeleteRetentionMs      int64   // delete.retention.ms: how long tombstones outlive their first clean
}

// DefaultConfig returns Kafka's defaults.
func DefaultConfig() Config {
	return Config{
		SegmentBytes:          1 << 30,
		SegmentMs:             7 * 24 * 60 * 60 * 1000,
		IndexIntervalBytes:    4096,
		MaxIndexBytes:         10 << 20,
		FlushIntervalMessages: math.MaxInt64,
		FlushIntervalMs:       -1,
		RetentionMs:           7 * 24 * 60 * 60 * 1000,
		RetentionBytes:        -1,

		Delete:                 true,
		MinCleanableDirtyRatio: 0.5,
		MaxCompactionLagMs:     math.MaxInt64,
		DeleteRetentionMs:      24 * 60 * 60 * 1000,
	}
}

// retains reports whether retention deletes old segments: every policy but
// compact alone.
func (c Config) retains() bool { return c.Delete || !c.Compact }

// sanitized replaces values that would break the log's arithmetic.
func (c Config) sanitized() Config {
	d := DefaultConfig()
	if c.SegmentBytes <= 0 {
		c.SegmentBytes = d.SegmentBytes
	}
	// Positions in the offset index are 32 bits.
	if c.SegmentBytes > math.MaxInt32 {
		c.SegmentBytes = math.MaxInt32
	}
	if c.SegmentMs <= 0 {
		c.SegmentMs = math.MaxInt64
	}
	if c.IndexIntervalBytes < 0 {
		c.IndexIntervalBytes = 0
	}
	if c.MaxIndexBytes < 2*timeEntrySize {
		c.MaxIndexBytes = 2 * timeEntrySize
	}
	if c.FlushIntervalMessages <= 0 {
		c.FlushIntervalMessages = math.MaxInt64
	}
	if c.MaxCompactionLagMs <= 0 {
		c.MaxCompactionLagMs = math.MaxInt64
	}
	c.MinCompactionLagMs = max(c.MinCompactionLagMs, 0)
	c.DeleteRetentionMs = max(c.DeleteRetentionMs, 0)
	return c
}

// Options carries what the log needs from its host rather than its topic.
type Options struct {
	Logger *zap.Logger
	// Now is the clock for retention and time-based flushing.
	Now func() time.Time
	// Files is the descriptor cache shared by all logs of a process; nil
	// gives this log a private cache without a bound.
	Files *FileCache
	// Fsync makes a segment file's data durable; nil means fdatasync. Tests
	// replace it to observe the order of writes and syncs.
	Fsync func(f *os.File) error
	// Flushes, when set, times every flush of the log (shared by the logs
	// of a process, for the flush latency metric).
	Flushes *FlushStats
	// OnFail, when set, is called once, on its own goroutine, when the log
	// fails for good (a failed fsync, an I/O error writing, its directory
	// gone): the broker takes the whole log directory offline.
	OnFail func(l *Log, err error)
	// Clean says the log was closed with CloseUnmarked and its log dir's
	// clean-shutdown record (TakeCleanShutdown) lists it: Open skips
	// recovery as after Close.
	Clean bool
	// Created says the caller has just created dir, empty: Open skips
	// looking for what is not there (a new partition costs a few file
	// creations instead of some thirty system calls).
	Created bool
	// Inflate lends the memory compressed batches are inflated into when
	// a timestamp lookup reads their records (nil: no bound beyond
	// record.MaxInflated per batch). The broker passes its
	// queued.max.inflated.bytes budget, so a log of hostile batches costs
	// no more than produce validation may take.
	Inflate *record.Budget
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Files == nil {
		o.Files = NewFileCache(0)
	}
	if o.Fsync == nil {
		o.Fsync = fdatasync
	}
	return o
}
