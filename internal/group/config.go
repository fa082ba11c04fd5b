package group

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// OffsetsTopic is the internal topic holding committed offsets and group
// metadata.
const OffsetsTopic = "__consumer_offsets"

// Config configures a Coordinator. Start from DefaultConfig.
type Config struct {
	// OffsetsTopicPartitions is offsets.topic.num.partitions: the partition
	// count used when the broker creates OffsetsTopic. The coordinator
	// itself follows the topic's real partition count.
	OffsetsTopicPartitions int32
	// OffsetsTopicSegmentBytes is offsets.topic.segment.bytes.
	OffsetsTopicSegmentBytes int64

	// InitialRebalanceDelay is group.initial.rebalance.delay.ms: how long an
	// empty group waits for more members before its first generation; each
	// member joining in that window extends it by the same delay, up to the
	// rebalance timeout.
	InitialRebalanceDelay time.Duration
	// MinSessionTimeout and MaxSessionTimeout bound the session timeout a
	// member may ask for (group.min/max.session.timeout.ms).
	MinSessionTimeout time.Duration
	MaxSessionTimeout time.Duration
	// NewMemberJoinTimeout removes a member that joined during a rebalance
	// if that rebalance has not completed this long after its join (its
	// JoinGroup may have been abandoned by a disconnected client).
	NewMemberJoinTimeout time.Duration
	// MaxGroupSize is group.max.size: members (and pending members) one
	// group may have.
	MaxGroupSize int
	// MaxMetadataBytes is offset.metadata.max.bytes: the longest metadata
	// string a commit may carry.
	MaxMetadataBytes int

	// OffsetsRetention is offsets.retention.minutes: committed offsets of a
	// group that has been empty this long are deleted (KIP-211), as are
	// offsets of topics a stable consumer group no longer subscribes to.
	OffsetsRetention time.Duration
	// OffsetsRetentionCheckInterval is offsets.retention.check.interval.ms.
	OffsetsRetentionCheckInterval time.Duration

	// MaxPendingWrites bounds the records batches appended to
	// OffsetsTopic whose durability is still awaited. A write beyond it is
	// refused with ErrCoordinatorNotAvailable and the client retries.
	MaxPendingWrites int
	// LoadBatchBytes is how much of a partition one read takes during
	// replay.
	LoadBatchBytes int

	// Clock provides time and timers; nil means the system clock.
	Clock Clock
	// NewMemberSuffix returns the random part of a new member ID
	// (client ID or instance ID + "-" + suffix). nil means a random UUID.
	NewMemberSuffix func() string
	// TopicExists reports whether a topic still exists; offsets of topics
	// that do not are removed after a load and at each retention check.
	// nil means every topic exists.
	TopicExists func(topic string) bool
	// Logger receives lifecycle lines (loads, rebalances at Info, member
	// expiry) and errors; never nil.
	Logger *slog.Logger
}

// DefaultConfig returns Kafka's defaults, except for the initial rebalance
// delay (see doc.go).
func DefaultConfig() Config {
	return Config{
		OffsetsTopicPartitions:        50,
		OffsetsTopicSegmentBytes:      100 << 20,
		InitialRebalanceDelay:         300 * time.Millisecond,
		MinSessionTimeout:             6 * time.Second,
		MaxSessionTimeout:             30 * time.Minute,
		NewMemberJoinTimeout:          5 * time.Minute,
		MaxGroupSize:                  1000,
		MaxMetadataBytes:              4096,
		OffsetsRetention:              7 * 24 * time.Hour,
		OffsetsRetentionCheckInterval: 10 * time.Minute,
		MaxPendingWrites:              16384,
		LoadBatchBytes:                1 << 20,
		Logger:                        slog.New(slog.DiscardHandler),
	}
}

// Validate reports the first unusable setting.
func (c Config) Validate() error {
	switch {
	case c.OffsetsTopicPartitions < 1:
		return fmt.Errorf("group: offsets topic partitions %d must be at least 1", c.OffsetsTopicPartitions)
	case c.OffsetsTopicSegmentBytes < 1024:
		return fmt.Errorf("group: offsets topic segment bytes %d must be at least 1024", c.OffsetsTopicSegmentBytes)
	case c.InitialRebalanceDelay < 0:
		return fmt.Errorf("group: initial rebalance delay %v must not be negative", c.InitialRebalanceDelay)
	case c.MinSessionTimeout <= 0 || c.MaxSessionTimeout < c.MinSessionTimeout:
		return fmt.Errorf("group: session timeout bounds [%v, %v] must be positive and ordered", c.MinSessionTimeout, c.MaxSessionTimeout)
	case c.NewMemberJoinTimeout <= 0:
		return fmt.Errorf("group: new member join timeout %v must be positive", c.NewMemberJoinTimeout)
	case c.MaxGroupSize < 1:
		return fmt.Errorf("group: max group size %d must be at least 1", c.MaxGroupSize)
	case c.MaxMetadataBytes < 0:
		return fmt.Errorf("group: max metadata bytes %d must not be negative", c.MaxMetadataBytes)
	case c.OffsetsRetention <= 0:
		return fmt.Errorf("group: offsets retention %v must be positive", c.OffsetsRetention)
	case c.OffsetsRetentionCheckInterval <= 0:
		return fmt.Errorf("group: offsets retention check interval %v must be positive", c.OffsetsRetentionCheckInterval)
	case c.MaxPendingWrites < 1:
		return fmt.Errorf("group: max pending writes %d must be at least 1", c.MaxPendingWrites)
	case c.LoadBatchBytes < 1024:
		return fmt.Errorf("group: load batch bytes %d must be at least 1024", c.LoadBatchBytes)
	case c.Logger == nil:
		return errors.New("group: logger is nil")
	}
	return nil
}

// randomSuffix is a random UUID in its usual text form, as Kafka's member
// IDs carry.
func randomSuffix() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
