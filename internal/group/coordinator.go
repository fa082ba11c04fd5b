package group

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/samsa-streaming/samsa/internal/storage"
)

// Coordinator is the group coordinator of one broker: it owns the groups
// whose OffsetsTopic partitions are hosted here.
//
// mu guards shards, count and closed. Each group has its own lock (see
// group); the lock order is in doc.go.
type Coordinator struct {
	cfg    Config
	log    *slog.Logger
	clock  Clock
	timers timers

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // loaders, the write loop, the retention loop and timer callbacks

	// slots holds one token per write awaiting durability (at most
	// MaxPendingWrites); writes has the same capacity, so sending on it
	// after taking a token never blocks.
	slots  chan struct{}
	writes chan *write // closed by Close

	appendMu      sync.RWMutex  // held shared while queueing a write; Close takes it to close writes
	writesClosed  bool          // guarded by appendMu
	writeLoopDone chan struct{} // closed when the write loop has exited

	mu     sync.RWMutex
	shards map[int32]*shard // by partition of OffsetsTopic
	count  int32            // partitions of OffsetsTopic as last handed; 0 before any
	closed bool
}

// shard is one OffsetsTopic partition handed to the coordinator and the
// groups that live on it.
type shard struct {
	c       *Coordinator
	index   int32
	log     *storage.Log
	epoch   int32  // leader epoch stamped on appends; guarded by wmu
	flushed func() // nil or called after a write is durable

	mu       sync.Mutex // guards the fields below
	loading  bool       // replay running: requests get ErrCoordinatorLoadInProgress
	loaded   bool       // the load has finished: sessions armed, first cleanup queued
	unloaded bool       // taken away: requests get ErrNotCoordinator
	groups   map[string]*group

	// wmu serialises appends with their queueing, so the write loop sees
	// writes in log order.
	wmu sync.Mutex
}

// write is one appended batch whose durability the write loop awaits.
type write struct {
	s    *shard
	end  int64       // offset after the batch
	done func(error) // called by the write loop, without locks held
}

// Partition is one partition of OffsetsTopic handed to the coordinator by
// the broker.
type Partition struct {
	// Log is the partition's log; the coordinator appends to it and
	// replays it.
	Log *storage.Log
	// Count is the number of partitions OffsetsTopic has.
	Count int32
	// LeaderEpoch stamps the batches the coordinator appends.
	LeaderEpoch int32
	// Flushed, if not nil, is called after records the coordinator
	// appended became durable (the broker wakes waiting fetches).
	Flushed func()
}

// New starts a coordinator with no partitions; the broker hands them over
// with Load.
func New(cfg Config) (*Coordinator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	if cfg.NewMemberSuffix == nil {
		cfg.NewMemberSuffix = randomSuffix
	}
	c := &Coordinator{
		cfg:    cfg,
		log:    cfg.Logger,
		clock:  cfg.Clock,
		slots:  make(chan struct{}, cfg.MaxPendingWrites),
		writes: make(chan *write, cfg.MaxPendingWrites),
		shards: make(map[int32]*shard),

		writeLoopDone: make(chan struct{}),
	}
	c.timers = timers{clock: cfg.Clock, wg: &c.wg, live: make(map[*timer]struct{})}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.wg.Add(1)
	go c.writeLoop()
	c.scheduleRetention()
	return c, nil
}

// Close stops timers and background work and answers waiting requests
// with ErrClosed. The broker's logs must still be open.
func (c *Coordinator) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	shards := c.shards
	c.shards = map[int32]*shard{}
	c.mu.Unlock()
	// No append queues a write after this (each checks writesClosed
	// under appendMu); the write loop finishes the queued ones, still
	// waiting for their flush, and exits.
	c.appendMu.Lock()
	c.writesClosed = true
	close(c.writes)
	c.appendMu.Unlock()
	<-c.writeLoopDone
	c.cancel()
	c.timers.close()
	for _, s := range shards {
		s.unload(ErrClosed)
	}
	c.wg.Wait()
	return nil
}

// Load hands the coordinator a partition of OffsetsTopic. It returns at
// once; the partition's groups answer ErrCoordinatorLoadInProgress until
// the replay in the background has finished. Loading a partition that is
// already loaded with the same log only updates the topic's partition
// count and the leader epoch.
func (c *Coordinator) Load(p Partition) {
	idx := p.Log.Partition()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.count = p.Count
	old := c.shards[idx]
	if old != nil && old.log == p.Log {
		c.mu.Unlock()
		old.wmu.Lock()
		old.epoch = p.LeaderEpoch
		old.wmu.Unlock()
		return
	}
	s := &shard{c: c, index: idx, log: p.Log, epoch: p.LeaderEpoch, flushed: p.Flushed, loading: true, groups: map[string]*group{}}
	c.shards[idx] = s
	c.wg.Add(1)
	c.mu.Unlock()
	if old != nil {
		old.unload(ErrNotCoordinator)
	}
	go c.load(s)
}

// Unload takes a partition of OffsetsTopic away (the topic was deleted or
// this node no longer leads it): its groups are forgotten and their
// waiting members answered with ErrNotCoordinator.
func (c *Coordinator) Unload(partition int32) {
	c.mu.Lock()
	s := c.shards[partition]
	delete(c.shards, partition)
	c.mu.Unlock()
	if s != nil {
		s.unload(ErrNotCoordinator)
	}
}

// UnloadAll unloads every partition (OffsetsTopic was deleted).
func (c *Coordinator) UnloadAll() {
	c.mu.Lock()
	shards := c.shards
	c.shards = map[int32]*shard{}
	c.count = 0
	c.mu.Unlock()
	for _, s := range shards {
		s.unload(ErrNotCoordinator)
	}
}

// Loaded reports, for each partition handed over, whether it has finished
// loading: its groups are served, their members' session timers are armed
// and the cleanup that follows a load has queued its tombstones. Requests
// are served a little earlier, as soon as the replay is done.
func (c *Coordinator) Loaded() map[int32]bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(map[int32]bool, len(c.shards))
	for idx, s := range c.shards {
		s.mu.Lock()
		out[idx] = s.loaded
		s.mu.Unlock()
	}
	return out
}

// unload marks the shard gone and answers the waiting members of its
// groups with err.
func (s *shard) unload(err error) {
	s.mu.Lock()
	s.unloaded = true
	groups := s.groups
	s.groups = map[string]*group{}
	s.mu.Unlock()
	for _, g := range groups {
		g.mu.Lock()
		g.killLocked(err)
		g.mu.Unlock()
	}
}

// shardFor returns the loaded shard owning group id.
func (c *Coordinator) shardFor(id string) (*shard, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return nil, ErrClosed
	}
	if c.count == 0 {
		return nil, ErrNotCoordinator
	}
	s := c.shards[PartitionFor(id, c.count)]
	if s == nil {
		return nil, ErrNotCoordinator
	}
	return s, nil
}

// lookup returns the group, creating it (Empty) if create is set. It
// returns nil, nil for an unknown group when create is not set.
func (c *Coordinator) lookup(id string, create bool) (*group, error) {
	s, err := c.shardFor(id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.unloaded:
		return nil, ErrNotCoordinator
	case s.loading:
		return nil, ErrCoordinatorLoadInProgress
	}
	g := s.groups[id]
	if g == nil && create {
		g = newGroup(s, id)
		s.groups[id] = g
	}
	return g, nil
}

// removeGroup drops g from its shard if it is still the group of that id.
// Called with g.mu held (lock order: group before shard).
func (s *shard) removeGroup(g *group) {
	s.mu.Lock()
	if s.groups[g.id] == g {
		delete(s.groups, g.id)
	}
	s.mu.Unlock()
}

// groupList returns the shard's groups sorted by id, or an error while it
// is loading or after it was unloaded.
func (s *shard) groupList() ([]*group, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unloaded {
		return nil, ErrNotCoordinator
	}
	if s.loading {
		return nil, ErrCoordinatorLoadInProgress
	}
	out := make([]*group, 0, len(s.groups))
	for _, g := range s.groups {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out, nil
}

// loadedShards returns the shards handed over, by partition.
func (c *Coordinator) loadedShards() []*shard {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*shard, 0, len(c.shards))
	for _, s := range c.shards {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].index < out[j].index })
	return out
}

// append writes recs to the shard's log as one batch. done is called from
// the write loop, without locks held and in log order, once the batch is
// durable (nil) or cannot become so. Errors returned here mean nothing was
// written and done will not be called.
func (s *shard) append(recs []record, done func(error)) error {
	c := s.c
	select {
	case c.slots <- struct{}{}:
	default:
		return fmt.Errorf("%w: %d writes to %s already await durability", ErrCoordinatorNotAvailable, c.cfg.MaxPendingWrites, OffsetsTopic)
	}
	data := appendBatch(nil, recs, c.clock.Now())
	s.wmu.Lock()
	defer s.wmu.Unlock()
	c.appendMu.RLock()
	defer c.appendMu.RUnlock()
	if c.writesClosed {
		<-c.slots
		return ErrClosed
	}
	res, err := s.log.Append(data, s.epoch)
	if err != nil {
		<-c.slots
		return appendError(s, err)
	}
	c.writes <- &write{s: s, end: res.LastOffset + 1, done: done}
	return nil
}

// appendError maps a storage failure to the error clients get, as Kafka
// maps append errors for the coordinator.
func appendError(s *shard, err error) error {
	switch {
	case errors.Is(err, storage.ErrClosed):
		return fmt.Errorf("%w: %s-%d: %v", ErrNotCoordinator, OffsetsTopic, s.index, err)
	case errors.Is(err, storage.ErrMessageTooLarge):
		return fmt.Errorf("append to %s-%d: %w", OffsetsTopic, s.index, err)
	}
	return fmt.Errorf("%w: append to %s-%d: %v", ErrCoordinatorNotAvailable, OffsetsTopic, s.index, err)
}

// writeLoop waits for each appended batch to be durable, in append order,
// and completes it. Close lets it finish the queued ones.
func (c *Coordinator) writeLoop() {
	defer c.wg.Done()
	defer close(c.writeLoopDone)
	for w := range c.writes {
		err := w.s.log.WaitFlushed(c.ctx, w.end)
		if err == nil && w.s.flushed != nil {
			w.s.flushed()
		}
		if err != nil {
			err = appendError(w.s, err)
		}
		w.done(err)
		<-c.slots
	}
}

// load replays a shard's log, then publishes its groups.
func (c *Coordinator) load(s *shard) {
	defer c.wg.Done()
	start := time.Now()
	rs := newReplay()
	leo := s.log.LogEndOffset()
	off := s.log.LogStartOffset()
	records := 0
	for off < leo && c.ctx.Err() == nil {
		data, err := s.log.Read(off, c.cfg.LoadBatchBytes, leo)
		if errors.Is(err, storage.ErrOffsetOutOfRange) && s.log.LogStartOffset() > off {
			off = s.log.LogStartOffset()
			continue
		}
		if err != nil {
			c.log.Error("replay group partition", "topic", OffsetsTopic, "partition", s.index, "offset", off, "err", err)
			break
		}
		if len(data) == 0 {
			break
		}
		next, err := parseBatches(data, func(r logRecord) {
			records++
			rs.apply(r)
		})
		if err != nil {
			c.log.Warn("replay group partition", "topic", OffsetsTopic, "partition", s.index, "offset", off, "err", err)
		}
		if next <= off {
			c.log.Error("replay group partition: no progress", "topic", OffsetsTopic, "partition", s.index, "offset", off)
			break
		}
		off = next
	}
	if c.ctx.Err() != nil {
		return
	}
	groups := rs.build(s)
	// Once published the map is the shard's, which Join adds to under
	// s.mu: what is left to do here walks a list of the replayed groups.
	replayed := make([]*group, 0, len(groups))
	for _, g := range groups {
		replayed = append(replayed, g)
	}
	s.mu.Lock()
	if s.unloaded {
		s.mu.Unlock()
		return
	}
	s.groups = groups
	s.loading = false
	s.mu.Unlock()
	for _, g := range replayed {
		g.mu.Lock()
		for _, m := range g.memberList() {
			g.touchLocked(m, m.sessionTimeout)
		}
		g.mu.Unlock()
	}
	c.log.Info("loaded group partition", "topic", OffsetsTopic, "partition", s.index, "groups", len(replayed), "records", records, "offset", off, "duration", time.Since(start).Round(time.Microsecond))
	c.cleanupShard(s)
	s.mu.Lock()
	s.loaded = true
	s.mu.Unlock()
}
