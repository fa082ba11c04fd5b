package group

// OffsetCommit, OffsetFetch and OffsetDelete, and the removal of offsets
// whose topic was deleted or whose retention passed.

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// OffsetCommit is one partition's commit.
type OffsetCommit struct {
	TopicPartition
	Offset      int64
	LeaderEpoch int32 // -1 when unknown
	Metadata    string
}

// CommitRequest is an OffsetCommit request. Generation -1 with no member
// ID is a simple commit, accepted only while the group has no members.
type CommitRequest struct {
	Group      string
	MemberID   string
	InstanceID *string
	Generation int32
	// Retention overrides the offsets' retention (OffsetCommit v2–v4);
	// 0 means the broker's rule.
	Retention time.Duration
	// GroupNotFoundError (OffsetCommit v9+): a commit with a generation
	// for an unknown group gets ErrGroupIDNotFound instead of
	// ErrIllegalGeneration.
	GroupNotFoundError bool
	Offsets            []OffsetCommit
}

// FetchedOffset is a committed offset; Offset -1 when the partition has
// none.
type FetchedOffset struct {
	TopicPartition
	Offset      int64
	LeaderEpoch int32
	Metadata    string
}

// CommitOffsets handles an OffsetCommit request. The returned channel
// (capacity 1) receives one error per Offsets entry (nil: committed) once
// the commit is durable, or at once when the request is refused.
func (c *Coordinator) CommitOffsets(req CommitRequest) <-chan []error {
	ch := make(chan []error, 1)
	errs := make([]error, len(req.Offsets))
	failAll := func(err error) <-chan []error {
		for i := range errs {
			errs[i] = err
		}
		ch <- errs
		return ch
	}
	g, err := c.lookup(req.Group, req.Generation < 0)
	if err != nil {
		return failAll(err)
	}
	if g == nil {
		if req.GroupNotFoundError {
			return failAll(ErrGroupIDNotFound)
		}
		return failAll(ErrIllegalGeneration)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.validateCommitLocked(req); err != nil {
		return failAll(err)
	}
	if m := g.members[req.MemberID]; m != nil && (g.state == StateStable || g.state == StatePreparingRebalance) {
		g.touchLocked(m, m.sessionTimeout)
	}
	now := c.clock.Now()
	var recs []record
	var idx []int
	var entries []*offsetEntry
	for i, o := range req.Offsets {
		if len(o.Metadata) > c.cfg.MaxMetadataBytes {
			errs[i] = fmt.Errorf("%w: %d bytes, at most %d", ErrOffsetMetadataTooLarge, len(o.Metadata), c.cfg.MaxMetadataBytes)
			continue
		}
		e := &offsetEntry{offset: o.Offset, leaderEpoch: o.LeaderEpoch, metadata: o.Metadata, commitTime: now}
		if req.Retention > 0 {
			e.expireTime = now.Add(req.Retention)
		}
		recs = append(recs, record{key: offsetKey(g.id, o.TopicPartition), value: offsetValue(e)})
		idx = append(idx, i)
		entries = append(entries, e)
	}
	if len(recs) == 0 {
		ch <- errs
		return ch
	}
	for _, i := range idx {
		g.inflight[req.Offsets[i].TopicPartition]++
	}
	applied := func(err error) {
		for k, i := range idx {
			tp := req.Offsets[i].TopicPartition
			if g.inflight[tp]--; g.inflight[tp] <= 0 {
				delete(g.inflight, tp)
			}
			if err != nil {
				errs[i] = commitError(err)
				continue
			}
			g.offsets[tp] = entries[k]
		}
		ch <- errs
	}
	err = g.s.append(recs, func(err error) {
		g.mu.Lock()
		defer g.mu.Unlock()
		applied(err)
	})
	if err != nil {
		applied(err)
	}
	return ch
}

// commitError is the error a commit gets when its write failed: Kafka
// answers INVALID_COMMIT_OFFSET_SIZE for a batch too large, else the
// coordinator error.
func commitError(err error) error {
	if errors.Is(err, ErrNotCoordinator) || errors.Is(err, ErrCoordinatorNotAvailable) || errors.Is(err, ErrClosed) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrInvalidCommitOffsetSize, err)
}

// validateCommitLocked is Kafka's check of who may commit: members of the
// current generation, or anyone (a simple commit) while the group is
// empty.
func (g *group) validateCommitLocked(req CommitRequest) error {
	if g.state == StateDead {
		return ErrCoordinatorNotAvailable
	}
	if req.Generation < 0 && g.state == StateEmpty {
		return nil
	}
	if req.Generation >= 0 || req.MemberID != "" || req.InstanceID != nil {
		if err := g.validateMemberLocked(req.MemberID, req.InstanceID); err != nil {
			return err
		}
		if req.Generation != g.generation {
			return ErrIllegalGeneration
		}
	} else if g.state != StateEmpty {
		return ErrUnknownMemberID
	}
	if g.state == StateCompletingRebalance {
		return ErrRebalanceInProgress
	}
	return nil
}

// FetchOffsets handles one group of an OffsetFetch request: the committed
// offsets of parts (Offset -1 where none), or of every partition with a
// commit when parts is nil, sorted by topic and partition.
func (c *Coordinator) FetchOffsets(group string, parts []TopicPartition) ([]FetchedOffset, error) {
	g, err := c.lookup(group, false)
	if err != nil {
		return nil, err
	}
	var offsets map[TopicPartition]*offsetEntry
	if g != nil {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.state != StateDead {
			offsets = g.offsets
		}
	}
	if parts == nil {
		for tp := range offsets {
			parts = append(parts, tp)
		}
		sort.Slice(parts, func(i, j int) bool {
			if parts[i].Topic != parts[j].Topic {
				return parts[i].Topic < parts[j].Topic
			}
			return parts[i].Partition < parts[j].Partition
		})
	}
	out := make([]FetchedOffset, len(parts))
	for i, tp := range parts {
		out[i] = FetchedOffset{TopicPartition: tp, Offset: -1, LeaderEpoch: -1}
		if e := offsets[tp]; e != nil {
			out[i].Offset, out[i].LeaderEpoch, out[i].Metadata = e.offset, e.leaderEpoch, e.metadata
		}
	}
	return out, nil
}

// DeleteOffsets handles an OffsetDelete request. The channel (capacity 1)
// receives one error per partition once the deletions are durable, or a
// request-level error at once.
func (c *Coordinator) DeleteOffsets(group string, parts []TopicPartition) <-chan OffsetDeleteResult {
	ch := make(chan OffsetDeleteResult, 1)
	fail := func(err error) <-chan OffsetDeleteResult {
		ch <- OffsetDeleteResult{Err: err}
		return ch
	}
	if group == "" {
		return fail(ErrInvalidGroupID)
	}
	g, err := c.lookup(group, false)
	if err != nil {
		return fail(err)
	}
	if g == nil {
		return fail(ErrGroupIDNotFound)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch g.state {
	case StateDead:
		return fail(ErrGroupIDNotFound)
	case StatePreparingRebalance, StateCompletingRebalance, StateStable:
		if g.protocolType != consumerProtocolType {
			return fail(ErrNonEmptyGroup)
		}
	}
	errs := make([]error, len(parts))
	var recs []record
	var del []TopicPartition
	for i, tp := range parts {
		if g.isSubscribedLocked(tp.Topic) {
			errs[i] = ErrGroupSubscribedToTopic
			continue
		}
		if g.offsets[tp] != nil || g.inflight[tp] > 0 {
			recs = append(recs, record{key: offsetKey(g.id, tp)})
			del = append(del, tp)
		}
	}
	if len(recs) == 0 {
		ch <- OffsetDeleteResult{PartitionErrs: errs}
		return ch
	}
	done := func(err error) {
		if err != nil {
			ch <- OffsetDeleteResult{Err: err}
			return
		}
		for _, tp := range del {
			delete(g.offsets, tp)
		}
		ch <- OffsetDeleteResult{PartitionErrs: errs}
	}
	if err := g.s.append(recs, func(err error) {
		g.mu.Lock()
		defer g.mu.Unlock()
		done(err)
	}); err != nil {
		done(err)
	}
	return ch
}

// OffsetDeleteResult answers DeleteOffsets: Err for the whole request, else
// one error per partition.
type OffsetDeleteResult struct {
	Err           error
	PartitionErrs []error
}

// DeleteTopicOffsets removes every group's committed offsets of a topic
// (the topic was deleted). The tombstones are written in the background;
// failures are logged.
func (c *Coordinator) DeleteTopicOffsets(topic string) {
	for _, s := range c.loadedShards() {
		groups, err := s.groupList()
		if err != nil {
			continue // still loading: its load ends with a cleanup
		}
		for _, g := range groups {
			g.mu.Lock()
			g.deleteOffsetsLocked(func(tp TopicPartition, _ *offsetEntry) bool { return tp.Topic == topic }, "topic "+topic+" deleted", false)
			g.mu.Unlock()
		}
	}
}

// deleteOffsetsLocked writes tombstones for the committed offsets matching
// del (skipping partitions with a commit in flight, which is newer) and
// forgets them once durable. With dropGroup set and no offset left after
// that, the group is removed too, its tombstone in the same batch.
func (g *group) deleteOffsetsLocked(del func(TopicPartition, *offsetEntry) bool, why string, dropGroup bool) {
	var recs []record
	var tps []TopicPartition
	for tp, e := range g.offsets {
		if g.inflight[tp] == 0 && del(tp, e) {
			recs = append(recs, record{key: offsetKey(g.id, tp)})
			tps = append(tps, tp)
		}
	}
	dropGroup = dropGroup && g.state == StateEmpty && len(tps) == len(g.offsets) && len(g.inflight) == 0 && len(g.pending) == 0
	if dropGroup {
		recs = append(recs, record{key: groupKey(g.id)})
	}
	if len(recs) == 0 {
		return
	}
	err := g.s.append(recs, func(err error) {
		if err != nil {
			g.c.log.Warn("delete offsets", "group", g.id, "reason", why, "err", err)
			return
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		for _, tp := range tps {
			delete(g.offsets, tp)
		}
	})
	if err != nil {
		g.c.log.Warn("delete offsets", "group", g.id, "reason", why, "err", err)
		return
	}
	if len(tps) > 0 {
		g.c.log.Info("deleting offsets", "group", g.id, "partitions", len(tps), "reason", why)
	}
	if dropGroup {
		g.killLocked(ErrCoordinatorNotAvailable)
		g.s.removeGroup(g)
		g.c.log.Info("removed empty group", "group", g.id)
	}
}

// scheduleRetention arms the next retention pass.
func (c *Coordinator) scheduleRetention() {
	c.timers.after(c.cfg.OffsetsRetentionCheckInterval, func() {
		for _, s := range c.loadedShards() {
			c.cleanupShard(s)
		}
		c.scheduleRetention()
	})
}

// cleanupShard removes expired offsets and offsets of deleted topics, then
// groups left empty with no offsets (Kafka's cleanupGroupMetadata).
func (c *Coordinator) cleanupShard(s *shard) {
	groups, err := s.groupList()
	if err != nil {
		return
	}
	now := c.clock.Now()
	for _, g := range groups {
		g.mu.Lock()
		g.cleanupLocked(now)
		g.mu.Unlock()
	}
}

func (g *group) cleanupLocked(now time.Time) {
	if g.state == StateDead {
		return
	}
	exists := g.c.cfg.TopicExists
	base, ok := g.expiryBaseLocked()
	g.deleteOffsetsLocked(func(tp TopicPartition, e *offsetEntry) bool {
		if exists != nil && !exists(tp.Topic) {
			return true
		}
		if !ok || g.isSubscribedLocked(tp.Topic) {
			return false
		}
		if !e.expireTime.IsZero() {
			return !now.Before(e.expireTime)
		}
		return now.Sub(base(e)) >= g.c.cfg.OffsetsRetention
	}, "offsets expired or topic gone", true)
}

// expiryBaseLocked is Kafka's offset expiration condition: the time an
// offset's retention counts from, or false when the group's offsets do not
// expire now. Empty groups count from when they became empty, stable
// consumer groups (for topics they no longer subscribe to) and groups that
// never had members from each commit.
func (g *group) expiryBaseLocked() (func(*offsetEntry) time.Time, bool) {
	commitTime := func(e *offsetEntry) time.Time { return e.commitTime }
	if g.protocolType == "" {
		return commitTime, true
	}
	switch {
	case g.state == StateEmpty:
		st := g.stateTime
		return func(*offsetEntry) time.Time { return st }, true
	case g.state == StateStable && g.protocolType == consumerProtocolType && g.subscribed != nil:
		return commitTime, true
	}
	return nil, false
}
