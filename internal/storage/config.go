package storage

import (
	"fmt"
	"log/slog"
	"math"
	"time"
)

// FlushPolicy says when appended data counts as flushed.
type FlushPolicy int

const (
	// FlushDurable (the default): data is flushed once fdatasync'ed by the
	// manager's syncer; WaitFlushed blocks until then (group commit).
	FlushDurable FlushPolicy = iota
	// FlushOS leaves writeback to the page cache; WaitFlushed returns at
	// once. Segments are still synced when they roll and at Close.
	FlushOS
)

// String implements fmt.Stringer.
func (p FlushPolicy) String() string {
	switch p {
	case FlushDurable:
		return "durable"
	case FlushOS:
		return "os"
	}
	return fmt.Sprintf("FlushPolicy(%d)", int(p))
}

// TimestampType is message.timestamp.type.
type TimestampType int

const (
	// CreateTime keeps the producer's timestamps.
	CreateTime TimestampType = iota
	// LogAppendTime stamps each batch with the broker's clock at append.
	LogAppendTime
)

// String implements fmt.Stringer.
func (t TimestampType) String() string {
	switch t {
	case CreateTime:
		return "CreateTime"
	case LogAppendTime:
		return "LogAppendTime"
	}
	return fmt.Sprintf("TimestampType(%d)", int(t))
}

// Config is the per-log (per partition) configuration. It can change at
// runtime through Log.SetConfig (AlterConfigs).
type Config struct {
	SegmentBytes       int64         // segment.bytes: roll when a segment would grow past this
	SegmentAge         time.Duration // segment.ms: roll a non-empty segment this long after its first append
	RetentionBytes     int64         // retention.bytes: -1 = unlimited
	RetentionAge       time.Duration // retention.ms: < 0 = unlimited
	IndexIntervalBytes int           // index.interval.bytes: bytes between offset index entries
	MaxMessageBytes    int           // max.message.bytes: largest batch accepted
	TimestampType      TimestampType // message.timestamp.type
	// TopicID names the topic incarnation the log belongs to; zero means
	// unchecked. It is fixed when the log is opened (SetConfig ignores it):
	// a directory left behind by an earlier topic of the same name (deleted
	// and recreated around a crash) holds another id and is replaced.
	TopicID [16]byte
}

// DefaultConfig returns Kafka's topic defaults.
func DefaultConfig() Config {
	return Config{
		SegmentBytes:       1 << 30,
		SegmentAge:         7 * 24 * time.Hour,
		RetentionBytes:     -1,
		RetentionAge:       7 * 24 * time.Hour,
		IndexIntervalBytes: 4096,
		MaxMessageBytes:    1048588,
		TimestampType:      CreateTime,
	}
}

// Validate checks the ranges Kafka accepts (segment.bytes is capped at
// MaxInt32 because index positions are 32-bit).
func (c Config) Validate() error {
	switch {
	case c.SegmentBytes < BatchHeaderSize || c.SegmentBytes > math.MaxInt32:
		return fmt.Errorf("segment bytes %d not in [%d, %d]: %w", c.SegmentBytes, BatchHeaderSize, math.MaxInt32, ErrInvalidConfig)
	case c.SegmentAge <= 0:
		return fmt.Errorf("segment age %v not positive: %w", c.SegmentAge, ErrInvalidConfig)
	case c.RetentionBytes < -1:
		return fmt.Errorf("retention bytes %d below -1: %w", c.RetentionBytes, ErrInvalidConfig)
	case c.IndexIntervalBytes < 0:
		return fmt.Errorf("index interval bytes %d negative: %w", c.IndexIntervalBytes, ErrInvalidConfig)
	case c.MaxMessageBytes < 0:
		return fmt.Errorf("max message bytes %d negative: %w", c.MaxMessageBytes, ErrInvalidConfig)
	case c.TimestampType != CreateTime && c.TimestampType != LogAppendTime:
		return fmt.Errorf("timestamp type %d unknown: %w", int(c.TimestampType), ErrInvalidConfig)
	}
	return nil
}

// ManagerConfig configures a Manager: where logs live and how they are
// flushed, recovered and trimmed.
type ManagerConfig struct {
	Dir    string       // data directory; logs live in Dir/topics/<topic>-<partition>/
	FS     FS           // nil = the operating system
	Flush  FlushPolicy  // default FlushDurable
	Logger *slog.Logger // nil = discard

	// RetentionCheckInterval is how often the background loop applies
	// retention and expires idle producers. Default 5 minutes.
	RetentionCheckInterval time.Duration
	// Now is the clock for segment age, retention, LogAppendTime and
	// producer expiry. nil = time.Now.
	Now func() time.Time

	// SyncMinBytes: the syncer lingers up to SyncMaxDelay after waking
	// until this many bytes are pending, so that one fdatasync round covers
	// many appends. Default 256 KiB.
	SyncMinBytes int64
	// SyncMaxDelay bounds that linger. 0 = the default 1ms; < 0 = no linger.
	SyncMaxDelay time.Duration
	// SyncConcurrency is how many logs one sync round fdatasyncs at once.
	// Default 4.
	SyncConcurrency int
	// CheckpointBytes: after this many flushed bytes in a log the syncer
	// also writes its recovery checkpoint and a producer-state snapshot,
	// so an unclean start scans at most about this much of the log.
	// Default 64 MiB.
	CheckpointBytes int64
	// ProducerIDExpiration (producer.id.expiration.ms) drops the state of
	// producers idle this long. Default 24h.
	ProducerIDExpiration time.Duration
}

// DefaultManagerConfig returns the defaults for every field but Dir.
func DefaultManagerConfig() ManagerConfig {
	return ManagerConfig{
		Flush:                  FlushDurable,
		RetentionCheckInterval: 5 * time.Minute,
		SyncMinBytes:           256 << 10,
		SyncMaxDelay:           time.Millisecond,
		SyncConcurrency:        4,
		CheckpointBytes:        64 << 20,
		ProducerIDExpiration:   24 * time.Hour,
	}
}

// withDefaults fills zero fields from DefaultManagerConfig.
func (c ManagerConfig) withDefaults() ManagerConfig {
	d := DefaultManagerConfig()
	if c.FS == nil {
		c.FS = OSFS{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.RetentionCheckInterval == 0 {
		c.RetentionCheckInterval = d.RetentionCheckInterval
	}
	if c.SyncMinBytes == 0 {
		c.SyncMinBytes = d.SyncMinBytes
	}
	if c.SyncMaxDelay == 0 {
		c.SyncMaxDelay = d.SyncMaxDelay
	}
	if c.SyncConcurrency == 0 {
		c.SyncConcurrency = d.SyncConcurrency
	}
	if c.CheckpointBytes == 0 {
		c.CheckpointBytes = d.CheckpointBytes
	}
	if c.ProducerIDExpiration == 0 {
		c.ProducerIDExpiration = d.ProducerIDExpiration
	}
	return c
}

// Validate checks the fields after defaults are applied.
func (c ManagerConfig) Validate() error {
	switch {
	case c.Dir == "":
		return fmt.Errorf("manager dir empty: %w", ErrInvalidConfig)
	case c.Flush != FlushDurable && c.Flush != FlushOS:
		return fmt.Errorf("flush policy %d unknown: %w", int(c.Flush), ErrInvalidConfig)
	case c.RetentionCheckInterval < 0:
		return fmt.Errorf("retention check interval %v negative: %w", c.RetentionCheckInterval, ErrInvalidConfig)
	case c.SyncMinBytes < 0:
		return fmt.Errorf("sync min bytes %d negative: %w", c.SyncMinBytes, ErrInvalidConfig)
	case c.SyncConcurrency < 0:
		return fmt.Errorf("sync concurrency %d negative: %w", c.SyncConcurrency, ErrInvalidConfig)
	case c.CheckpointBytes < 0:
		return fmt.Errorf("checkpoint bytes %d negative: %w", c.CheckpointBytes, ErrInvalidConfig)
	case c.ProducerIDExpiration < 0:
		return fmt.Errorf("producer id expiration %v negative: %w", c.ProducerIDExpiration, ErrInvalidConfig)
	}
	return nil
}
