package group

import (
	"bytes"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// State is a classic group's state.
type State int8

// The states of Kafka's classic group protocol.
const (
	// StateEmpty: no members; the group may still have committed offsets.
	StateEmpty State = iota
	// StatePreparingRebalance: waiting for members to (re)join.
	StatePreparingRebalance
	// StateCompletingRebalance: joined; waiting for the leader's assignment.
	StateCompletingRebalance
	// StateStable: every member has its assignment.
	StateStable
	// StateDead: deleted, expired or unloaded; the group object is gone
	// from its shard.
	StateDead
)

// String returns Kafka's name of the state, as DescribeGroups and
// ListGroups report it.
func (s State) String() string {
	switch s {
	case StateEmpty:
		return "Empty"
	case StatePreparingRebalance:
		return "PreparingRebalance"
	case StateCompletingRebalance:
		return "CompletingRebalance"
	case StateStable:
		return "Stable"
	case StateDead:
		return "Dead"
	}
	return "Unknown"
}

// ParseState parses a state name case-insensitively (ListGroups filters).
func ParseState(s string) (State, bool) {
	for st := StateEmpty; st <= StateDead; st++ {
		if equalFold(s, st.String()) {
			return st, true
		}
	}
	return 0, false
}

func equalFold(a, b string) bool {
	return len(a) == len(b) && bytes.EqualFold([]byte(a), []byte(b))
}

// consumerProtocolType is the protocol type of Kafka consumers, whose
// member metadata the coordinator can read (subscribed topics).
const consumerProtocolType = "consumer"

// Protocol is one assignment protocol a member supports, with its
// metadata, in the member's order of preference.
type Protocol struct {
	Name     string
	Metadata []byte
}

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// member is one member of a group. Owned by its group (group.mu).
type member struct {
	id               string
	instanceID       *string // group.instance.id; nil for a dynamic member
	clientID         string
	clientHost       string
	protocolType     string
	protocols        []Protocol
	sessionTimeout   time.Duration
	rebalanceTimeout time.Duration
	assignment       []byte // empty until the leader assigns something

	join  chan JoinResult // non-nil while a JoinGroup awaits its answer (cap 1)
	sync  chan SyncResult // non-nil while a SyncGroup awaits its answer (cap 1)
	isNew bool            // joined during the current rebalance

	deadline time.Time // session expiry: the last heartbeat plus the timeout
	timer    *timer    // nil when no expiry check is armed
	timerAt  time.Time // when timer fires
}

// metadataFor returns the member's metadata for a protocol (nil if it does
// not support it).
func (m *member) metadataFor(protocol string) []byte {
	for _, p := range m.protocols {
		if p.Name == protocol {
			return p.Metadata
		}
	}
	return nil
}

// matches reports whether protocols equal the member's, in order.
func (m *member) matches(protocols []Protocol) bool {
	return slices.EqualFunc(m.protocols, protocols, func(a, b Protocol) bool {
		return a.Name == b.Name && bytes.Equal(a.Metadata, b.Metadata)
	})
}

// vote is the member's most preferred protocol among candidates.
func (m *member) vote(candidates map[string]bool) string {
	for _, p := range m.protocols {
		if candidates[p.Name] {
			return p.Name
		}
	}
	return ""
}

// offsetEntry is one committed offset.
type offsetEntry struct {
	offset      int64
	leaderEpoch int32 // -1 when unknown
	metadata    string
	commitTime  time.Time
	expireTime  time.Time // zero unless the commit set a retention (v2–v4)
}

// group is one classic group. mu guards every field below it; timers and
// the write loop take mu before touching the group. Invariants (checked by
// checkLocked in tests): awaitingJoin counts members with join != nil;
// leader is "" exactly when members is empty, else a member; supported
// counts, per protocol, the members supporting it; static maps each
// member's instance ID to its member ID.
type group struct {
	id string
	s  *shard
	c  *Coordinator

	mu           sync.Mutex
	state        State
	prevState    State
	stateTime    time.Time
	protocolType string // "" until the first member joins
	protocol     string // "" when the generation has no members
	generation   int32
	leader       string
	members      map[string]*member
	order        []string          // member IDs in join order
	static       map[string]string // instance ID -> member ID
	pending      map[string]*timer // member IDs handed out with MEMBER_ID_REQUIRED -> expiry
	pendingSync  map[string]bool   // members that have not sent SyncGroup this generation
	supported    map[string]int    // protocol -> members supporting it
	subscribed   map[string]bool   // topics the consumer members subscribe to; nil if unknown
	awaitingJoin int               // members with a JoinGroup awaiting its answer
	newMember    bool              // a member joined during the initial delay
	joinTimer    *timer            // the join phase's deadline; nil when none
	joinSeq      uint64            // bumped to invalidate a fired joinTimer
	syncTimer    *timer            // the pending-sync deadline; nil when none
	syncSeq      uint64            // bumped to invalidate a fired syncTimer
	offsets      map[TopicPartition]*offsetEntry
	inflight     map[TopicPartition]int // commits appended but not yet applied
}

func newGroup(s *shard, id string) *group {
	return &group{
		id:          id,
		s:           s,
		c:           s.c,
		state:       StateEmpty,
		prevState:   StateEmpty,
		stateTime:   s.c.clock.Now(),
		members:     map[string]*member{},
		static:      map[string]string{},
		pending:     map[string]*timer{},
		pendingSync: map[string]bool{},
		supported:   map[string]int{},
		offsets:     map[TopicPartition]*offsetEntry{},
		inflight:    map[TopicPartition]int{},
	}
}

// memberList returns the members in join order.
func (g *group) memberList() []*member {
	out := make([]*member, 0, len(g.order))
	for _, id := range g.order {
		out = append(out, g.members[id])
	}
	return out
}

func (g *group) transitionLocked(to State) {
	g.prevState = g.state
	g.state = to
	g.stateTime = g.c.clock.Now()
}

// rebalanceTimeout is the longest rebalance timeout of the members.
func (g *group) rebalanceTimeoutLocked() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.rebalanceTimeout)
	}
	return d
}

func (g *group) canRebalanceLocked() bool {
	return g.state == StateStable || g.state == StateCompletingRebalance || g.state == StateEmpty
}

func (g *group) hasAllMembersJoinedLocked() bool {
	return len(g.members) == g.awaitingJoin && len(g.pending) == 0
}

// supportsProtocolsLocked is Kafka's check that a joining member can be in
// the group: any non-empty type and list while Empty, else the group's
// type and at least one protocol every member supports.
func (g *group) supportsProtocolsLocked(protocolType string, protocols []Protocol) bool {
	if g.state == StateEmpty {
		return protocolType != "" && len(protocols) > 0
	}
	if protocolType != g.protocolType {
		return false
	}
	for _, p := range protocols {
		if g.supported[p.Name] == len(g.members) {
			return true
		}
	}
	return false
}

// selectProtocolLocked is Kafka's vote: among the protocols every member
// supports, each member votes for its most preferred one; most votes win,
// ties go to the smaller name.
func (g *group) selectProtocolLocked() string {
	candidates := map[string]bool{}
	for p, n := range g.supported {
		if n == len(g.members) {
			candidates[p] = true
		}
	}
	votes := map[string]int{}
	for _, m := range g.members {
		if v := m.vote(candidates); v != "" {
			votes[v]++
		}
	}
	best, bestVotes := "", 0
	for p, n := range votes {
		if n > bestVotes || n == bestVotes && p < best {
			best, bestVotes = p, n
		}
	}
	return best
}

// computeSubscribedLocked reads the topics consumer members subscribe to
// from their metadata; nil (unknown) for other protocol types or metadata
// that does not parse.
func (g *group) computeSubscribedLocked() map[string]bool {
	if g.protocolType != consumerProtocolType {
		return nil
	}
	out := map[string]bool{}
	if len(g.members) == 0 {
		return out
	}
	if g.protocol == "" {
		return nil
	}
	for _, m := range g.members {
		var md kmsg.ConsumerMemberMetadata
		if err := md.ReadFrom(m.metadataFor(g.protocol)); err != nil {
			return nil
		}
		for _, t := range md.Topics {
			out[t] = true
		}
	}
	return out
}

func (g *group) isSubscribedLocked(topic string) bool {
	return g.subscribed != nil && g.subscribed[topic]
}

// addMemberLocked adds m; join is its waiting JoinGroup (nil for none).
func (g *group) addMemberLocked(m *member, join chan JoinResult) {
	if m.instanceID != nil {
		g.static[*m.instanceID] = m.id
	}
	if len(g.members) == 0 {
		g.protocolType = m.protocolType
	}
	g.members[m.id] = m
	g.order = append(g.order, m.id)
	for _, p := range m.protocols {
		g.supported[p.Name]++
	}
	if join != nil {
		m.join = join
		g.awaitingJoin++
	}
	if g.leader == "" {
		g.leader = m.id
	}
	g.removePendingLocked(m.id)
}

// removeMemberLocked removes a member (or pending member) and answers any
// request it still has waiting with ErrUnknownMemberID.
func (g *group) removeMemberLocked(id string) {
	g.removePendingLocked(id)
	m := g.members[id]
	if m == nil {
		return
	}
	g.completeJoinLocked(m, JoinResult{MemberID: "", Generation: -1, Err: ErrUnknownMemberID})
	g.completeSyncLocked(m, SyncResult{Err: ErrUnknownMemberID})
	delete(g.members, id)
	g.order = slices.DeleteFunc(g.order, func(s string) bool { return s == id })
	for _, p := range m.protocols {
		if g.supported[p.Name]--; g.supported[p.Name] == 0 {
			delete(g.supported, p.Name)
		}
	}
	if m.instanceID != nil && g.static[*m.instanceID] == id {
		delete(g.static, *m.instanceID)
	}
	m.timer.stop()
	m.timer = nil
	if g.leader == id {
		g.leader = ""
		if len(g.order) > 0 {
			g.leader = g.order[0]
		}
	}
	delete(g.pendingSync, id)
}

func (g *group) removePendingLocked(id string) {
	if t, ok := g.pending[id]; ok {
		t.stop()
		delete(g.pending, id)
	}
}

// completeJoinLocked answers the member's waiting JoinGroup, if any.
func (g *group) completeJoinLocked(m *member, r JoinResult) bool {
	if m.join == nil {
		return false
	}
	m.join <- r
	m.join = nil
	g.awaitingJoin--
	return true
}

// completeSyncLocked answers the member's waiting SyncGroup, if any.
func (g *group) completeSyncLocked(m *member, r SyncResult) bool {
	if m.sync == nil {
		return false
	}
	m.sync <- r
	m.sync = nil
	return true
}

// updateMemberLocked replaces a member's protocols and timeouts and sets
// (or, with a nil join, clears) its waiting JoinGroup.
func (g *group) updateMemberLocked(m *member, protocols []Protocol, rebalance, session time.Duration, join chan JoinResult) {
	for _, p := range m.protocols {
		if g.supported[p.Name]--; g.supported[p.Name] == 0 {
			delete(g.supported, p.Name)
		}
	}
	m.protocols = protocols
	for _, p := range m.protocols {
		g.supported[p.Name]++
	}
	m.rebalanceTimeout, m.sessionTimeout = rebalance, session
	switch {
	case m.join != nil && join != nil:
		// A second JoinGroup while the first waits (a client retrying
		// after a timeout): the first is answered so that its
		// connection is not held; the client ignores it.
		m.join <- JoinResult{MemberID: m.id, Generation: -1, Err: ErrRebalanceInProgress}
	case m.join == nil && join != nil:
		g.awaitingJoin++
	case m.join != nil && join == nil:
		g.awaitingJoin--
	}
	m.join = join
}

// touchLocked moves the member's session deadline to now + d and makes
// sure an expiry check is armed for it.
func (g *group) touchLocked(m *member, d time.Duration) {
	m.deadline = g.c.clock.Now().Add(d)
	if m.timer != nil && !m.timerAt.After(m.deadline) {
		return // fires first and re-arms for the new deadline
	}
	m.timer.stop()
	g.armMemberTimerLocked(m, d)
}

func (g *group) armMemberTimerLocked(m *member, d time.Duration) {
	m.timerAt = g.c.clock.Now().Add(d)
	m.timer = g.c.timers.after(d, func() { g.memberTimerFired(m) })
}

// memberTimerFired removes the member if its session expired, unless it is
// waiting in a rebalance (then the rebalance timeout governs it).
func (g *group) memberTimerFired(m *member) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.members[m.id] != m || g.state == StateDead {
		return
	}
	m.timer = nil
	now := g.c.clock.Now()
	if now.Before(m.deadline) {
		g.armMemberTimerLocked(m, m.deadline.Sub(now))
		return
	}
	if !m.isNew && (m.join != nil || m.sync != nil) {
		return // re-armed when the rebalance answers it
	}
	g.c.log.Info("member session expired", "group", g.id, "member", m.id, "generation", g.generation)
	g.removeMemberAndUpdateLocked(m, "member "+m.id+" expired")
}

// armJoinLocked (re)arms the join phase deadline.
func (g *group) armJoinLocked(d time.Duration, f func()) {
	g.joinTimer.stop()
	g.joinSeq++
	seq := g.joinSeq
	g.joinTimer = g.c.timers.after(d, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.joinSeq != seq || g.state == StateDead {
			return
		}
		g.joinTimer = nil
		f()
	})
}

func (g *group) cancelJoinLocked() {
	g.joinTimer.stop()
	g.joinTimer = nil
	g.joinSeq++
}

func (g *group) cancelSyncLocked() {
	g.syncTimer.stop()
	g.syncTimer = nil
	g.syncSeq++
}

// removeMemberAndUpdateLocked removes a failed member and moves the
// rebalance along.
func (g *group) removeMemberAndUpdateLocked(m *member, reason string) {
	g.removeMemberLocked(m.id)
	switch g.state {
	case StateStable, StateCompletingRebalance:
		g.maybePrepareRebalanceOrCompleteJoinLocked(reason)
	case StatePreparingRebalance:
		if g.hasAllMembersJoinedLocked() {
			g.completeJoinPhaseLocked()
		}
	}
}

func (g *group) maybePrepareRebalanceOrCompleteJoinLocked(reason string) {
	if g.canRebalanceLocked() {
		g.prepareRebalanceLocked(reason)
	} else {
		g.maybeCompleteJoinPhaseLocked()
	}
}

// maybeCompleteJoinPhaseLocked ends the join phase once every member has
// rejoined, except in an initial rebalance, which always waits out its
// delay.
func (g *group) maybeCompleteJoinPhaseLocked() {
	if g.state == StatePreparingRebalance && g.prevState != StateEmpty && g.hasAllMembersJoinedLocked() {
		g.completeJoinPhaseLocked()
	}
}

// prepareRebalanceLocked starts a rebalance: members waiting for an
// assignment are told to rejoin, and the join phase gets its deadline.
func (g *group) prepareRebalanceLocked(reason string) {
	if g.state == StateCompletingRebalance {
		g.resetAndPropagateAssignmentErrorLocked(ErrRebalanceInProgress)
	}
	g.cancelSyncLocked()
	clear(g.pendingSync)
	initial := g.state == StateEmpty
	if initial {
		delay := g.c.cfg.InitialRebalanceDelay
		remaining := max(g.rebalanceTimeoutLocked()-delay, 0)
		g.armJoinLocked(delay, func() { g.tryCompleteInitialRebalanceLocked(delay, remaining) })
	}
	g.transitionLocked(StatePreparingRebalance)
	g.c.log.Info("preparing to rebalance group", "group", g.id, "generation", g.generation, "reason", reason)
	if !initial {
		if g.hasAllMembersJoinedLocked() {
			g.completeJoinPhaseLocked()
		} else {
			g.armJoinLocked(g.rebalanceTimeoutLocked(), g.completeJoinPhaseLocked)
		}
	}
}

// tryCompleteInitialRebalanceLocked ends the initial delay, or extends it
// by another delay (within the rebalance timeout) if a member joined
// during it.
func (g *group) tryCompleteInitialRebalanceLocked(delay, remaining time.Duration) {
	if g.newMember && remaining != 0 {
		g.newMember = false
		next := min(g.c.cfg.InitialRebalanceDelay, remaining)
		left := max(remaining-delay, 0)
		g.armJoinLocked(next, func() { g.tryCompleteInitialRebalanceLocked(next, left) })
		return
	}
	g.completeJoinPhaseLocked()
}

// completeJoinPhaseLocked ends the join phase: dynamic members that did not
// rejoin are removed, a new generation starts and every waiting member
// gets its JoinGroup answer (the leader with the member list).
func (g *group) completeJoinPhaseLocked() {
	g.cancelJoinLocked()
	for _, m := range g.memberList() {
		if m.join == nil && m.instanceID == nil {
			g.removeMemberLocked(m.id)
		}
	}
	if g.state == StateDead {
		return
	}
	if !g.electJoinedLeaderLocked() && len(g.members) > 0 {
		// Only static members that have not rejoined remain: wait
		// another rebalance timeout for them (or their expiry).
		g.c.log.Error("group could not complete rebalance because no members rejoined", "group", g.id)
		g.armJoinLocked(g.rebalanceTimeoutLocked(), g.completeJoinPhaseLocked)
		return
	}
	g.generation++
	clear(g.pendingSync)
	if len(g.members) == 0 {
		g.protocol = ""
		g.subscribed = g.computeSubscribedLocked()
		g.transitionLocked(StateEmpty)
		g.c.log.Info("group is now empty", "group", g.id, "generation", g.generation)
		g.storeLocked(nil, func(err error) {
			if err != nil {
				g.c.log.Warn("write empty group metadata", "group", g.id, "err", err)
			}
		})
		return
	}
	g.protocol = g.selectProtocolLocked()
	g.subscribed = g.computeSubscribedLocked()
	g.transitionLocked(StateCompletingRebalance)
	g.c.log.Info("stabilized group", "group", g.id, "generation", g.generation, "members", len(g.members), "protocol", g.protocol)
	for _, m := range g.memberList() {
		r := g.joinResultLocked(m.id)
		if m.id == g.leader {
			r.Members = g.memberInfosLocked()
		}
		g.completeJoinLocked(m, r)
		g.touchLocked(m, m.sessionTimeout)
		m.isNew = false
		g.pendingSync[m.id] = true
	}
	gen := g.generation
	g.cancelSyncLocked()
	seq := g.syncSeq
	g.syncTimer = g.c.timers.after(g.rebalanceTimeoutLocked(), func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.syncSeq != seq {
			return
		}
		g.syncTimer = nil
		g.expirePendingSyncLocked(gen)
	})
}

// electJoinedLeaderLocked keeps the leader if it rejoined, else picks the
// first member that did; false if none did.
func (g *group) electJoinedLeaderLocked() bool {
	if g.leader == "" {
		return false
	}
	if g.members[g.leader].join != nil {
		return true
	}
	for _, m := range g.memberList() {
		if m.join != nil {
			g.leader = m.id
			return true
		}
	}
	return false
}

// joinResultLocked is the answer for a member of the current generation,
// without the member list.
func (g *group) joinResultLocked(memberID string) JoinResult {
	r := JoinResult{MemberID: memberID, Generation: g.generation, LeaderID: g.leader}
	if g.protocolType != "" {
		pt := g.protocolType
		r.ProtocolType = &pt
	}
	if g.protocol != "" {
		p := g.protocol
		r.Protocol = &p
	}
	return r
}

// memberInfosLocked is the member list the leader assigns from.
func (g *group) memberInfosLocked() []MemberInfo {
	out := make([]MemberInfo, 0, len(g.members))
	for _, m := range g.memberList() {
		out = append(out, MemberInfo{MemberID: m.id, InstanceID: m.instanceID, Metadata: m.metadataFor(g.protocol)})
	}
	return out
}

// expirePendingSyncLocked removes the members that did not send SyncGroup
// within the rebalance timeout and rebalances without them.
func (g *group) expirePendingSyncLocked(gen int32) {
	if gen != g.generation || (g.state != StateCompletingRebalance && g.state != StateStable) || len(g.pendingSync) == 0 {
		return
	}
	var ids []string
	for id := range g.pendingSync {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		g.removeMemberLocked(id)
	}
	g.c.log.Info("removed members that did not sync", "group", g.id, "generation", g.generation, "members", ids)
	g.prepareRebalanceLocked("members did not send SyncGroup in time")
}

func (g *group) removePendingSyncLocked(id string) {
	delete(g.pendingSync, id)
	switch g.state {
	case StateCompletingRebalance, StateStable:
		if len(g.pendingSync) == 0 {
			g.cancelSyncLocked()
		}
	default:
		g.cancelSyncLocked()
	}
}

// resetAndPropagateAssignmentErrorLocked clears every assignment and
// answers waiting SyncGroups with err.
func (g *group) resetAndPropagateAssignmentErrorLocked(err error) {
	for _, m := range g.members {
		m.assignment = []byte{}
	}
	g.propagateAssignmentLocked(err)
}

func (g *group) setAndPropagateAssignmentLocked(assignment map[string][]byte) {
	for _, m := range g.members {
		m.assignment = assignment[m.id]
		if m.assignment == nil {
			m.assignment = []byte{}
		}
	}
	g.propagateAssignmentLocked(nil)
}

func (g *group) propagateAssignmentLocked(err error) {
	for _, m := range g.memberList() {
		r := SyncResult{Err: err, Assignment: m.assignment}
		if err == nil {
			r.ProtocolType, r.Protocol = g.protocolPtrsLocked()
		}
		if g.completeSyncLocked(m, r) {
			g.touchLocked(m, m.sessionTimeout)
		}
	}
}

func (g *group) protocolPtrsLocked() (protocolType, protocol *string) {
	if g.protocolType != "" {
		pt := g.protocolType
		protocolType = &pt
	}
	if g.protocol != "" {
		p := g.protocol
		protocol = &p
	}
	return protocolType, protocol
}

// storeLocked writes the group's metadata with the given assignments.
// done runs (with g.mu held) once the record is durable or failed; if the
// append itself fails, done runs before storeLocked returns.
func (g *group) storeLocked(assignment map[string][]byte, done func(error)) {
	recs := []record{{key: groupKey(g.id), value: groupValue(g, assignment)}}
	err := g.s.append(recs, func(err error) {
		g.mu.Lock()
		defer g.mu.Unlock()
		done(err)
	})
	if err != nil {
		done(err)
	}
}

// killLocked makes the group Dead: timers stop and waiting requests are
// answered with err.
func (g *group) killLocked(err error) {
	g.transitionLocked(StateDead)
	g.cancelJoinLocked()
	g.cancelSyncLocked()
	for id := range g.pending {
		g.removePendingLocked(id)
	}
	for _, m := range g.members {
		m.timer.stop()
		m.timer = nil
		g.completeJoinLocked(m, JoinResult{MemberID: m.id, Generation: -1, Err: err})
		g.completeSyncLocked(m, SyncResult{Err: err})
	}
}
