package meta

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config configures a Store. Start from DefaultConfig and set Dir and
// NodeID.
type Config struct {
	// Dir is the broker's data directory; the metadata lives in Dir/meta.
	Dir string
	// NodeID is this broker's node id, also its raft server id.
	NodeID int32
	// Logger receives the store's and raft's log lines; never nil.
	Logger *slog.Logger

	// ApplyTimeout bounds how long a change waits to be accepted by raft
	// when the caller's context has no deadline.
	ApplyTimeout time.Duration

	// HeartbeatTimeout, ElectionTimeout and LeaderLeaseTimeout are raft's.
	// A follower starts an election after between one and two heartbeat
	// timeouts without a leader, so they set how fast a node (and today's
	// single voter) becomes controller. The defaults are tuned for one
	// voter on an in-memory transport; the cluster issue revisits them.
	// Invariant: 5ms <= LeaderLeaseTimeout <= HeartbeatTimeout <= ElectionTimeout.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration

	// SnapshotInterval is how often raft checks whether SnapshotThreshold
	// entries have been applied since the last snapshot, and takes one if
	// so. TrailingLogs entries are kept in the log after a snapshot.
	SnapshotInterval  time.Duration
	SnapshotThreshold uint64
	TrailingLogs      uint64
	// SnapshotRetain is how many snapshots stay on disk.
	SnapshotRetain int
}

// DefaultConfig returns the defaults; Dir must still be set.
func DefaultConfig() Config {
	return Config{
		NodeID:             1,
		Logger:             slog.New(slog.DiscardHandler),
		ApplyTimeout:       10 * time.Second,
		HeartbeatTimeout:   10 * time.Millisecond,
		ElectionTimeout:    10 * time.Millisecond,
		LeaderLeaseTimeout: 10 * time.Millisecond,
		SnapshotInterval:   30 * time.Second,
		SnapshotThreshold:  1024,
		TrailingLogs:       1024,
		SnapshotRetain:     2,
	}
}

// Validate reports the first unusable setting.
func (c Config) Validate() error {
	const minTimeout = 5 * time.Millisecond // raft's own floor
	switch {
	case c.Dir == "":
		return errors.New("meta config: Dir is empty")
	case c.NodeID < 0:
		return fmt.Errorf("meta config: NodeID %d is negative", c.NodeID)
	case c.Logger == nil:
		return errors.New("meta config: Logger is nil")
	case c.ApplyTimeout <= 0:
		return fmt.Errorf("meta config: ApplyTimeout %s must be positive", c.ApplyTimeout)
	case c.LeaderLeaseTimeout < minTimeout:
		return fmt.Errorf("meta config: LeaderLeaseTimeout %s is below %s", c.LeaderLeaseTimeout, minTimeout)
	case c.HeartbeatTimeout < c.LeaderLeaseTimeout:
		return fmt.Errorf("meta config: HeartbeatTimeout %s is below LeaderLeaseTimeout %s", c.HeartbeatTimeout, c.LeaderLeaseTimeout)
	case c.ElectionTimeout < c.HeartbeatTimeout:
		return fmt.Errorf("meta config: ElectionTimeout %s is below HeartbeatTimeout %s", c.ElectionTimeout, c.HeartbeatTimeout)
	case c.SnapshotInterval < minTimeout:
		return fmt.Errorf("meta config: SnapshotInterval %s is below %s", c.SnapshotInterval, minTimeout)
	case c.SnapshotRetain < 1:
		return fmt.Errorf("meta config: SnapshotRetain %d must be at least 1", c.SnapshotRetain)
	}
	return nil
}
