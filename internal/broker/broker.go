package broker

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/samsa-streaming/samsa/internal/group"
	"github.com/samsa-streaming/samsa/internal/meta"
	"github.com/samsa-streaming/samsa/internal/storage"
	"github.com/samsa-streaming/samsa/internal/txn"
)

// Config configures a Broker. Only cmd/samsa turns flags into it.
type Config struct {
	// NodeID is this broker's id in metadata responses.
	NodeID int32
	// DataDir holds everything on disk: meta/ and topics/.
	DataDir string
	// Rack is advertised in metadata; empty means none.
	Rack string
	// DefaultPartitions is num.partitions: used by auto-create and by
	// CreateTopics with NumPartitions -1.
	DefaultPartitions int32
	// DefaultReplicationFactor is default.replication.factor.
	DefaultReplicationFactor int16
	// AutoCreateTopics is auto.create.topics.enable.
	AutoCreateTopics bool
	// Flush is the flush policy of every log.
	Flush storage.FlushPolicy
	// Log holds the broker-wide defaults for topic configs (log.segment.bytes,
	// log.retention.ms, message.max.bytes ...); topics override them.
	Log storage.Config
	// RetentionCheckInterval is log.retention.check.interval.ms.
	RetentionCheckInterval time.Duration
	// FS replaces the OS file system for storage (tests); nil = the OS.
	FS storage.FS
	// Group configures the group coordinator; its Logger and TopicExists
	// are set by Open.
	Group group.Config
	// Logger receives the broker's logs.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults a newcomer gets.
func DefaultConfig() Config {
	return Config{
		NodeID:                   1,
		DataDir:                  "samsa-data",
		DefaultPartitions:        3,
		DefaultReplicationFactor: 1,
		AutoCreateTopics:         true,
		Flush:                    storage.FlushDurable,
		Log:                      storage.DefaultConfig(),
		RetentionCheckInterval:   5 * time.Minute,
		Group:                    group.DefaultConfig(),
		Logger:                   slog.Default(),
	}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	switch {
	case c.NodeID < 0:
		return fmt.Errorf("broker: node id %d must not be negative", c.NodeID)
	case c.DataDir == "":
		return errors.New("broker: data directory is empty")
	case c.DefaultPartitions < 1:
		return fmt.Errorf("broker: default partitions %d must be at least 1", c.DefaultPartitions)
	case c.DefaultReplicationFactor < 1:
		return fmt.Errorf("broker: default replication factor %d must be at least 1", c.DefaultReplicationFactor)
	case c.Logger == nil:
		return errors.New("broker: logger is nil")
	}
	gc := c.Group
	gc.Logger = c.Logger
	if err := gc.Validate(); err != nil {
		return err
	}
	return c.Log.Validate()
}

// Broker serves the Kafka APIs of one node on top of its logs and the
// cluster metadata.
type Broker struct {
	lock  *dirLock // held until Close
	cfg   Config
	log   *slog.Logger
	meta  *meta.Store
	store *storage.Manager
	pids  *txn.ProducerIDs

	groups *group.Coordinator // owns the groups of the local __consumer_offsets partitions

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the metadata watcher and acks=0 flush waiters

	reconcileMu sync.Mutex // serialises reconcile

	mu     sync.RWMutex // guards topics
	topics map[string]*topicState
}

// topicState is the set of local partitions of one topic incarnation.
// Immutable once published in Broker.topics.
type topicState struct {
	id    [16]byte
	parts []*partition // index = partition id; nil where not hosted here
}

// Open opens metadata and storage under cfg.DataDir and the logs of every
// partition hosted here.
func Open(ctx context.Context, cfg Config) (*Broker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	mcfg := meta.DefaultConfig()
	mcfg.Dir = cfg.DataDir
	mcfg.NodeID = cfg.NodeID
	mcfg.Logger = cfg.Logger.With("component", "meta")
	ms, err := meta.Open(ctx, mcfg)
	if err != nil {
		lock.release()
		return nil, fmt.Errorf("open metadata: %w", err)
	}
	store, err := storage.OpenManager(storage.ManagerConfig{
		Dir:                    cfg.DataDir,
		FS:                     cfg.FS,
		Flush:                  cfg.Flush,
		Logger:                 cfg.Logger.With("component", "storage"),
		RetentionCheckInterval: cfg.RetentionCheckInterval,
	})
	if err != nil {
		ms.Close()
		lock.release()
		return nil, fmt.Errorf("open storage: %w", err)
	}
	gcfg := cfg.Group
	gcfg.Logger = cfg.Logger.With("component", "group")
	gcfg.TopicExists = func(topic string) bool { return ms.State().Topic(topic) != nil }
	groups, err := group.New(gcfg)
	if err != nil {
		store.Close()
		ms.Close()
		lock.release()
		return nil, fmt.Errorf("start group coordinator: %w", err)
	}
	b := &Broker{
		lock:   lock,
		cfg:    cfg,
		log:    cfg.Logger,
		meta:   ms,
		store:  store,
		pids:   txn.NewProducerIDs(ms),
		groups: groups,
		topics: make(map[string]*topicState),
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	if err := b.reconcile(); err != nil {
		b.Close()
		return nil, err
	}
	if err := b.removeOrphanLogs(); err != nil {
		b.Close()
		return nil, err
	}
	b.wg.Add(1)
	go b.watchMeta()
	return b, nil
}

// Register publishes this broker's advertised address in the metadata.
func (b *Broker) Register(ctx context.Context, host string, port int32) error {
	br := meta.Broker{ID: b.cfg.NodeID, Host: host, Port: port, Rack: b.cfg.Rack}
	if err := b.meta.RegisterBroker(ctx, br); err != nil {
		return fmt.Errorf("register broker %d at %s:%d: %w", br.ID, host, port, err)
	}
	return nil
}

// Close stops background work, flushes and closes every log, then the
// metadata store. Requests must no longer be arriving (close the server
// first).
func (b *Broker) Close() error {
	b.cancel()
	b.wg.Wait()
	var errs []error
	if err := b.groups.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := b.store.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := b.meta.Close(); err != nil {
		errs = append(errs, err)
	}
	b.lock.release()
	return errors.Join(errs...)
}

// watchMeta reconciles local logs with the metadata whenever it changes.
func (b *Broker) watchMeta() {
	defer b.wg.Done()
	for {
		ch := b.meta.Changes()
		select {
		case <-b.ctx.Done():
			return
		case <-ch:
			if err := b.reconcile(); err != nil {
				b.log.Error("reconcile logs with metadata", "err", err)
			}
		}
	}
}

// reconcile opens logs for partitions this node hosts, deletes those of
// topics that are gone (or were recreated under a new id) and pushes config
// changes into open logs. Handlers call it right after their metadata change
// so that a created topic is usable as soon as CreateTopics answers.
func (b *Broker) reconcile() error {
	b.reconcileMu.Lock()
	defer b.reconcileMu.Unlock()
	st := b.meta.State()

	b.mu.RLock()
	old := b.topics
	b.mu.RUnlock()

	// Delete first, so a topic recreated under the same name gets fresh
	// directories.
	for name, ts := range old {
		t := st.Topic(name)
		if t != nil && t.ID == ts.id {
			continue
		}
		b.mu.Lock()
		delete(b.topics, name)
		b.mu.Unlock()
		b.topicDeleted(name)
		for _, p := range ts.parts {
			if p == nil {
				continue
			}
			p.close()
			if err := b.store.DeleteLog(name, p.index); err != nil {
				return fmt.Errorf("delete log %s-%d: %w", name, p.index, err)
			}
		}
		b.log.Info("deleted topic logs", "topic", name)
	}

	var errs []error
	for _, name := range st.TopicNames() {
		t := st.Topic(name)
		cfg := b.logConfig(st, t)
		b.mu.RLock()
		ts := b.topics[name]
		b.mu.RUnlock()
		if ts != nil && len(ts.parts) == len(t.Partitions) {
			for _, p := range ts.parts {
				if p != nil {
					p.log.SetConfig(cfg)
					p.leaderEpoch.Store(t.Partitions[p.index].LeaderEpoch)
				}
			}
			continue
		}
		next := &topicState{id: t.ID, parts: make([]*partition, len(t.Partitions))}
		if ts != nil {
			copy(next.parts, ts.parts)
		}
		for i, mp := range t.Partitions {
			if next.parts[i] != nil {
				next.parts[i].log.SetConfig(cfg)
				continue
			}
			if !hosts(mp, b.cfg.NodeID) {
				continue
			}
			l, err := b.store.OpenLog(name, mp.ID, cfg)
			if err != nil {
				errs = append(errs, fmt.Errorf("open log %s-%d: %w", name, mp.ID, err))
				continue
			}
			next.parts[i] = newPartition(name, t.ID, mp.ID, mp.LeaderEpoch, l, b.cfg.Flush == storage.FlushDurable)
		}
		b.mu.Lock()
		b.topics[name] = next
		b.mu.Unlock()
	}
	b.handGroupLogs()
	return errors.Join(errs...)
}

// removeOrphanLogs deletes log directories of partitions the metadata no
// longer places here: a crash can come between a topic's deletion in the
// metadata and the removal of its files.
func (b *Broker) removeOrphanLogs() error {
	onDisk, err := b.store.LogsOnDisk()
	if err != nil {
		return err
	}
	st := b.meta.State()
	for _, id := range onDisk {
		t := st.Topic(id.Topic)
		if t != nil && int(id.Partition) < len(t.Partitions) && hosts(t.Partitions[id.Partition], b.cfg.NodeID) {
			continue
		}
		b.log.Warn("removing log of a partition that no longer exists", "topic", id.Topic, "partition", id.Partition)
		if err := b.store.DeleteLog(id.Topic, id.Partition); err != nil {
			return err
		}
	}
	return nil
}

func hosts(p meta.Partition, node int32) bool {
	for _, r := range p.Replicas {
		if r == node {
			return true
		}
	}
	return false
}

// partition returns the local partition, or an error that errors.go maps to
// UNKNOWN_TOPIC_OR_PARTITION or NOT_LEADER_OR_FOLLOWER.
func (b *Broker) partition(topic string, idx int32) (*partition, error) {
	b.mu.RLock()
	ts := b.topics[topic]
	b.mu.RUnlock()
	if ts == nil || idx < 0 || int(idx) >= len(ts.parts) {
		return nil, errUnknownTopicOrPartition
	}
	p := ts.parts[idx]
	if p == nil {
		return nil, errNotLeader
	}
	return p, nil
}

// localTopic returns the local state of a topic, nil if unknown here.
func (b *Broker) localTopic(name string) *topicState {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.topics[name]
}

// assignReplicas places n new partitions starting at partition index first,
// spreading leaders round-robin over the registered brokers as Kafka does.
func assignReplicas(st *meta.State, first, n int32, rf int16) ([]meta.Partition, error) {
	brokers := st.Brokers
	if int(rf) > len(brokers) {
		return nil, fail(errInvalidReplicationFactor, "replication factor: %d larger than available brokers: %d", rf, len(brokers))
	}
	ids := make([]int32, len(brokers))
	for i, br := range brokers {
		ids[i] = br.ID
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	parts := make([]meta.Partition, n)
	for i := range n {
		idx := first + i
		replicas := make([]int32, rf)
		for r := range int32(rf) {
			replicas[r] = ids[(int(idx)+int(r))%len(ids)]
		}
		parts[i] = meta.Partition{ID: idx, Leader: replicas[0], Replicas: replicas, ISR: append([]int32(nil), replicas...)}
	}
	return parts, nil
}

func newTopicID() [16]byte {
	var id [16]byte
	rand.Read(id[:])
	id[6] = id[6]&0x0f | 0x40 // UUID v4, as Kafka's Uuid.randomUuid
	id[8] = id[8]&0x3f | 0x80
	return id
}
