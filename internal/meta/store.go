package meta

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// Store is the cluster metadata of one node: the raft-replicated FSM, its
// stores under <data>/meta/, and the latest published State.
//
// state is written only by raft's FSM goroutine (through publish) and read
// by anyone. mu guards changed and closed. The watchLeader goroutine is
// started by Open and stopped by Close.
type Store struct {
	cfg    Config
	logger *slog.Logger

	raft  *raft.Raft
	logs  *logStore
	snaps *raft.FileSnapshotStore

	state atomic.Pointer[State]

	mu      sync.Mutex
	changed chan struct{} // closed and replaced at each publish; guarded by mu
	closed  bool          // guarded by mu

	ctx       context.Context // cancelled by Close
	cancel    context.CancelFunc
	notify    chan bool     // raft's leadership notifications
	stop      chan struct{} // closed by Close to stop watchLeader
	done      chan struct{} // closed when watchLeader returns
	ready     chan struct{} // closed after the first successful takeOver
	readyOnce sync.Once
	openErr   chan error // a takeOver failure while Open waits; capacity 1
}

// Open opens (or, on first start, creates) the metadata under
// cfg.Dir/meta, starts raft, and returns once this node is controller and
// every committed change is applied to State. On first start it also
// creates the cluster id. If ctx ends first, Open closes what it started
// and returns ctx's error.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dir := filepath.Join(cfg.Dir, "meta")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open meta dir %s: %w", dir, err)
	}
	s := &Store{
		cfg:     cfg,
		logger:  cfg.Logger,
		changed: make(chan struct{}),
		notify:  make(chan bool, 8),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		ready:   make(chan struct{}),
		openErr: make(chan error, 1),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.state.Store(emptyState())
	if err := s.openRaft(dir); err != nil {
		s.cancel()
		return nil, err
	}
	go s.watchLeader()

	select {
	case <-s.ready:
		return s, nil
	case err := <-s.openErr:
		s.Close()
		return nil, fmt.Errorf("open meta store %s: %w", dir, err)
	case <-ctx.Done():
		s.Close()
		return nil, fmt.Errorf("open meta store %s: wait for leadership: %w", dir, ctx.Err())
	}
}

// Close stops raft and the store's goroutine and closes its files. Calls
// made afterwards fail with ErrClosed. Close is safe to call twice.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()

	// Shut raft down first: that fails any future watchLeader waits on.
	s.cancel()
	var errs []error
	if err := s.raft.Shutdown().Error(); err != nil {
		errs = append(errs, fmt.Errorf("shut down raft: %w", err))
	}
	close(s.stop)
	<-s.done
	if err := s.logs.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *Store) checkOpen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}

// State returns the latest metadata. It is immutable; call it again for
// newer metadata.
func (s *Store) State() *State {
	return s.state.Load()
}

// Changes returns a channel that is closed at the next change of State.
// After it fires, call Changes again for the one after. To read a state
// and wait for the change after it without a gap, use Watch.
func (s *Store) Changes() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Watch returns the current State and the channel that is closed when it
// is replaced.
func (s *Store) Watch() (*State, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.Load(), s.changed
}

// publish makes next the current State and wakes the watchers.
func (s *Store) publish(next *State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.Store(next)
	close(s.changed)
	s.changed = make(chan struct{})
}

// IsController reports whether this node leads the raft group, and so may
// change metadata.
func (s *Store) IsController() bool {
	return s.raft.State() == raft.Leader
}

// RegisterBroker records b, replacing an earlier registration with the same
// ID. A broker registers at every start, since its address may change; an
// unchanged registration writes nothing.
func (s *Store) RegisterBroker(ctx context.Context, b Broker) error {
	if old, ok := s.State().Broker(b.ID); ok && old == b {
		return nil
	}
	_, err := s.apply(ctx, &command{Op: opRegisterBroker, Broker: &b})
	if err != nil {
		return fmt.Errorf("register broker %d: %w", b.ID, err)
	}
	return nil
}

// CreateTopic creates t. The caller fills Name, ID (NewUUID), the
// partitions with their replicas and leaders, Configs and Internal, so
// that applying the command stays deterministic. ErrTopicExists if the
// name or the ID is taken; ErrInvalidPartitions if the partitions are not
// numbered 0..n-1 or their assignment is inconsistent.
func (s *Store) CreateTopic(ctx context.Context, t Topic) error {
	if _, err := s.apply(ctx, &command{Op: opCreateTopic, Topic: &t}); err != nil {
		return fmt.Errorf("create topic %q: %w", t.Name, err)
	}
	return nil
}

// DeleteTopic deletes the named topic; ErrUnknownTopic if there is none.
func (s *Store) DeleteTopic(ctx context.Context, name string) error {
	if _, err := s.apply(ctx, &command{Op: opDeleteTopic, Name: name}); err != nil {
		return fmt.Errorf("delete topic %q: %w", name, err)
	}
	return nil
}

// CreatePartitions appends newParts to the named topic. Their IDs must
// continue the topic's numbering; an empty list (the total would not grow)
// is ErrInvalidPartitions.
func (s *Store) CreatePartitions(ctx context.Context, name string, newParts []Partition) error {
	if _, err := s.apply(ctx, &command{Op: opCreatePartitions, Name: name, Partitions: newParts}); err != nil {
		return fmt.Errorf("create partitions for topic %q: %w", name, err)
	}
	return nil
}

// AlterTopicConfigs sets the overrides in set and then removes the keys in
// del (IncrementalAlterConfigs semantics).
func (s *Store) AlterTopicConfigs(ctx context.Context, name string, set map[string]string, del []string) error {
	if _, err := s.apply(ctx, &command{Op: opAlterTopicConfigs, Name: name, Set: set, Delete: del}); err != nil {
		return fmt.Errorf("alter configs of topic %q: %w", name, err)
	}
	return nil
}

// ReplaceTopicConfigs makes cfg the topic's complete set of overrides;
// keys not in cfg revert to their defaults (AlterConfigs semantics).
func (s *Store) ReplaceTopicConfigs(ctx context.Context, name string, cfg map[string]string) error {
	if _, err := s.apply(ctx, &command{Op: opReplaceTopicConfigs, Name: name, Set: cfg}); err != nil {
		return fmt.Errorf("replace configs of topic %q: %w", name, err)
	}
	return nil
}

// AlterBrokerConfigs sets the cluster-wide broker config overrides in set
// and then removes the keys in del.
func (s *Store) AlterBrokerConfigs(ctx context.Context, set map[string]string, del []string) error {
	if _, err := s.apply(ctx, &command{Op: opAlterBrokerConfigs, Set: set, Delete: del}); err != nil {
		return fmt.Errorf("alter broker configs: %w", err)
	}
	return nil
}

// AllocateProducerIDs reserves n producer IDs and returns the first; the
// block is [first, first+n). The high-water mark is in the raft log, so no
// ID is handed out twice, even across restarts.
func (s *Store) AllocateProducerIDs(ctx context.Context, n int64) (int64, error) {
	if n <= 0 {
		return 0, fmt.Errorf("allocate %d producer ids: %w", n, ErrInvalidProducerIDCount)
	}
	res, err := s.apply(ctx, &command{Op: opAllocateProducerIDs, Count: n})
	if err != nil {
		return 0, fmt.Errorf("allocate %d producer ids: %w", n, err)
	}
	return res.value, nil
}

// Snapshot makes raft write a snapshot of the current state now and
// compact its log; normally raft does this by itself every
// SnapshotThreshold changes. Nothing new since the last snapshot is not an
// error.
func (s *Store) Snapshot() error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	err := s.raft.Snapshot().Error()
	switch {
	case err == nil, errors.Is(err, raft.ErrNothingNewToSnapshot):
		return nil
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrClosed
	}
	return fmt.Errorf("snapshot meta: %w", err)
}

// NewUUID returns a random version 4 UUID as Kafka generates them for
// topic and cluster ids: never all zero, never the reserved id 1, and never
// one whose string form starts with '-'.
func NewUUID() [16]byte {
	for {
		var id [16]byte
		rand.Read(id[:])
		id[6] = id[6]&0x0f | 0x40
		id[8] = id[8]&0x3f | 0x80
		if s := UUIDString(id); s[0] != '-' {
			return id
		}
	}
}

// UUIDString formats a UUID the way Kafka prints topic and cluster ids:
// base64url without padding, 22 characters.
func UUIDString(id [16]byte) string {
	return base64.RawURLEncoding.EncodeToString(id[:])
}

// ParseUUID parses the form UUIDString returns.
func ParseUUID(s string) ([16]byte, error) {
	var id [16]byte
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return id, fmt.Errorf("parse uuid %q: not 22 base64url characters", s)
	}
	copy(id[:], b)
	return id, nil
}
