package group

// JoinGroup, SyncGroup, Heartbeat and LeaveGroup: the classic protocol's
// membership requests. Each checks its request in Kafka's order and then
// acts on the group's state (group.go).

import (
	"fmt"
	"time"
)

// JoinRequest is a JoinGroup request.
type JoinRequest struct {
	Group            string
	MemberID         string  // "" on a member's first join
	InstanceID       *string // group.instance.id (static membership); nil for dynamic members
	ClientID         string
	ClientHost       string
	ProtocolType     string
	Protocols        []Protocol
	SessionTimeout   time.Duration
	RebalanceTimeout time.Duration
	// RequireKnownMemberID (JoinGroup v4+): a dynamic member's first join
	// gets ErrMemberIDRequired and a member ID to join with.
	RequireKnownMemberID bool
	// SupportsSkipAssignment (JoinGroup v9+, KIP-814): a static leader
	// rejoining a stable group is told it is leader and to skip
	// assignment.
	SupportsSkipAssignment bool
	Reason                 string
}

// MemberInfo is one member as the leader sees it in its JoinGroup answer.
type MemberInfo struct {
	MemberID   string
	InstanceID *string
	Metadata   []byte // for the chosen protocol
}

// JoinResult answers a JoinRequest. With Err set, MemberID is what Kafka
// returns with that error (the ID to rejoin with for ErrMemberIDRequired)
// and Generation is -1.
type JoinResult struct {
	Err            error
	MemberID       string
	Generation     int32
	ProtocolType   *string // nil when the group has none
	Protocol       *string // nil when the generation has none
	LeaderID       string
	SkipAssignment bool
	Members        []MemberInfo // only for the leader
}

// SyncRequest is a SyncGroup request.
type SyncRequest struct {
	Group        string
	MemberID     string
	InstanceID   *string
	Generation   int32
	ProtocolType *string // v5+; nil when not sent
	Protocol     *string // v5+; nil when not sent
	Assignments  map[string][]byte
}

// SyncResult answers a SyncRequest.
type SyncResult struct {
	Err          error
	ProtocolType *string
	Protocol     *string
	Assignment   []byte
}

// HeartbeatRequest is a Heartbeat request.
type HeartbeatRequest struct {
	Group      string
	MemberID   string
	InstanceID *string
	Generation int32
}

// LeavingMember is one member of a LeaveGroup request; MemberID "" with an
// InstanceID removes that static member (administrative removal).
type LeavingMember struct {
	MemberID   string
	InstanceID *string
	Reason     string
}

// Join handles a JoinGroup request. The answer arrives on the returned
// channel (capacity 1, never closed): at once for errors and for members
// that need no rebalance, else when the join phase completes.
func (c *Coordinator) Join(req JoinRequest) <-chan JoinResult {
	ch := make(chan JoinResult, 1)
	fail := func(memberID string, err error) <-chan JoinResult {
		ch <- JoinResult{MemberID: memberID, Generation: -1, Err: err}
		return ch
	}
	if req.Group == "" {
		return fail(req.MemberID, ErrInvalidGroupID)
	}
	if req.SessionTimeout < c.cfg.MinSessionTimeout || req.SessionTimeout > c.cfg.MaxSessionTimeout {
		return fail(req.MemberID, fmt.Errorf("%w: %v not in [%v, %v]", ErrInvalidSessionTimeout, req.SessionTimeout, c.cfg.MinSessionTimeout, c.cfg.MaxSessionTimeout))
	}
	unknown := req.MemberID == ""
	g, err := c.lookup(req.Group, unknown)
	if err != nil {
		return fail(req.MemberID, err)
	}
	if g == nil {
		return fail(req.MemberID, ErrUnknownMemberID)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case !g.acceptJoiningMemberLocked(req.MemberID):
		g.removeMemberLocked(req.MemberID)
		return fail("", ErrGroupMaxSizeReached)
	case unknown:
		g.joinNewMemberLocked(req, ch)
	default:
		g.joinExistingMemberLocked(req, ch)
	}
	return ch
}

// acceptJoiningMemberLocked is Kafka's group.max.size check.
func (g *group) acceptJoiningMemberLocked(id string) bool {
	max := g.c.cfg.MaxGroupSize
	m := g.members[id]
	switch g.state {
	case StatePreparingRebalance:
		return (m != nil && m.join != nil) || g.awaitingJoin < max
	case StateCompletingRebalance, StateStable:
		return m != nil || len(g.members) < max
	}
	return true
}

func (g *group) newMemberIDLocked(req JoinRequest) string {
	prefix := req.ClientID
	if req.InstanceID != nil {
		prefix = *req.InstanceID
	}
	return prefix + "-" + g.c.cfg.NewMemberSuffix()
}

func (g *group) joinNewMemberLocked(req JoinRequest, ch chan JoinResult) {
	switch {
	case g.state == StateDead:
		ch <- JoinResult{Generation: -1, Err: ErrCoordinatorNotAvailable}
		return
	case !g.supportsProtocolsLocked(req.ProtocolType, req.Protocols):
		ch <- JoinResult{Generation: -1, Err: ErrInconsistentGroupProtocol}
		return
	}
	id := g.newMemberIDLocked(req)
	switch {
	case req.InstanceID != nil:
		if old, ok := g.static[*req.InstanceID]; ok {
			g.c.log.Info("static member rejoins; replacing its old member id", "group", g.id, "member", id, "old_member", old, "instance", *req.InstanceID, "state", g.state.String())
			g.updateStaticMemberLocked(req, old, id, ch)
			return
		}
		g.addMemberThenRebalanceLocked(req, id, ch)
	case req.RequireKnownMemberID:
		if len(g.pending) >= g.c.cfg.MaxGroupSize {
			ch <- JoinResult{Generation: -1, Err: ErrGroupMaxSizeReached}
			return
		}
		g.pending[id] = g.c.timers.after(req.SessionTimeout, func() { g.pendingExpired(id) })
		ch <- JoinResult{MemberID: id, Generation: -1, Err: ErrMemberIDRequired}
	default:
		g.addMemberThenRebalanceLocked(req, id, ch)
	}
}

// pendingExpired forgets a member ID handed out with MEMBER_ID_REQUIRED
// that was not used within the session timeout.
func (g *group) pendingExpired(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.pending[id]; !ok || g.state == StateDead {
		return
	}
	delete(g.pending, id)
	if g.state == StatePreparingRebalance && g.hasAllMembersJoinedLocked() {
		g.completeJoinPhaseLocked()
	}
}

func (g *group) joinExistingMemberLocked(req JoinRequest, ch chan JoinResult) {
	fail := func(err error) { ch <- JoinResult{MemberID: req.MemberID, Generation: -1, Err: err} }
	switch {
	case g.state == StateDead:
		fail(ErrCoordinatorNotAvailable)
		return
	case !g.supportsProtocolsLocked(req.ProtocolType, req.Protocols):
		fail(ErrInconsistentGroupProtocol)
		return
	}
	if _, ok := g.pending[req.MemberID]; ok {
		if req.InstanceID != nil {
			fail(ErrUnknownMemberID) // pending members are never static
			return
		}
		g.addMemberThenRebalanceLocked(req, req.MemberID, ch)
		return
	}
	if err := g.validateMemberLocked(req.MemberID, req.InstanceID); err != nil {
		fail(err)
		return
	}
	m := g.members[req.MemberID]
	switch g.state {
	case StatePreparingRebalance:
		g.updateMemberThenRebalanceLocked(m, req, ch, "member "+m.id+" rejoins during PreparingRebalance")
	case StateCompletingRebalance:
		if m.matches(req.Protocols) {
			// The member lost the first answer: repeat it.
			r := g.joinResultLocked(m.id)
			if m.id == g.leader {
				r.Members = g.memberInfosLocked()
			}
			ch <- r
			return
		}
		g.updateMemberThenRebalanceLocked(m, req, ch, "member "+m.id+" changed its metadata during CompletingRebalance")
	case StateStable:
		if m.id == g.leader {
			// The leader rejoins to force a rebalance (e.g. the
			// topics it assigns from changed).
			g.updateMemberThenRebalanceLocked(m, req, ch, "leader "+m.id+" rejoins")
			return
		}
		if !m.matches(req.Protocols) {
			g.updateMemberThenRebalanceLocked(m, req, ch, "member "+m.id+" changed its metadata")
			return
		}
		ch <- g.joinResultLocked(m.id)
	default:
		fail(ErrUnknownMemberID)
	}
}

// validateMemberLocked is Kafka's check of a member ID and instance ID
// pair: an instance ID must map to exactly that member ID.
func (g *group) validateMemberLocked(memberID string, instanceID *string) error {
	if instanceID != nil {
		cur, ok := g.static[*instanceID]
		if !ok {
			return ErrUnknownMemberID
		}
		if cur != memberID {
			return ErrFencedInstanceID
		}
	}
	if g.members[memberID] == nil {
		return ErrUnknownMemberID
	}
	return nil
}

func (g *group) updateMemberThenRebalanceLocked(m *member, req JoinRequest, ch chan JoinResult, reason string) {
	g.updateMemberLocked(m, req.Protocols, req.RebalanceTimeout, req.SessionTimeout, ch)
	g.maybePrepareRebalanceOrCompleteJoinLocked(reason)
}

func (g *group) addMemberThenRebalanceLocked(req JoinRequest, id string, ch chan JoinResult) {
	m := &member{
		id:               id,
		instanceID:       req.InstanceID,
		clientID:         req.ClientID,
		clientHost:       req.ClientHost,
		protocolType:     req.ProtocolType,
		protocols:        req.Protocols,
		sessionTimeout:   req.SessionTimeout,
		rebalanceTimeout: req.RebalanceTimeout,
		isNew:            true,
	}
	if g.state == StatePreparingRebalance && g.prevState == StateEmpty {
		g.newMember = true
	}
	g.addMemberLocked(m, ch)
	// A new member cannot heartbeat while its JoinGroup waits, and a
	// client that gave up on it would leave it behind: it expires after
	// NewMemberJoinTimeout unless the rebalance answers it first.
	g.touchLocked(m, g.c.cfg.NewMemberJoinTimeout)
	g.maybePrepareRebalanceOrCompleteJoinLocked("new member " + id + " joins")
}

// replaceStaticMemberLocked gives a static member a new member ID, keeping
// its place, protocols and assignment; requests still waiting under the old
// ID are answered with ErrFencedInstanceID.
func (g *group) replaceStaticMemberLocked(instanceID, oldID, newID string) *member {
	old := g.members[oldID]
	g.completeJoinLocked(old, JoinResult{MemberID: oldID, Generation: -1, Err: ErrFencedInstanceID})
	g.completeSyncLocked(old, SyncResult{Err: ErrFencedInstanceID})
	old.timer.stop()
	old.timer = nil
	nm := *old
	nm.id = newID
	nm.join, nm.sync, nm.timer = nil, nil, nil
	delete(g.members, oldID)
	g.members[newID] = &nm
	for i, id := range g.order {
		if id == oldID {
			g.order[i] = newID
		}
	}
	if g.leader == oldID {
		g.leader = newID
	}
	if g.pendingSync[oldID] {
		delete(g.pendingSync, oldID)
		g.pendingSync[newID] = true
	}
	g.static[instanceID] = newID
	return &nm
}

// updateStaticMemberLocked handles a known static member joining with no
// member ID (it restarted): in a Stable group whose protocol would not
// change it takes over its old assignment without a rebalance.
func (g *group) updateStaticMemberLocked(req JoinRequest, oldID, newID string, ch chan JoinResult) {
	instance := *req.InstanceID
	oldLeader := g.leader
	nm := g.replaceStaticMemberLocked(instance, oldID, newID)
	g.touchLocked(nm, nm.sessionTimeout)
	oldProtocols, oldRebalance, oldSession := nm.protocols, nm.rebalanceTimeout, nm.sessionTimeout
	g.updateMemberLocked(nm, req.Protocols, req.RebalanceTimeout, req.SessionTimeout, ch)
	switch g.state {
	case StateStable:
		if g.selectProtocolLocked() != g.protocol {
			g.maybePrepareRebalanceOrCompleteJoinLocked("static member " + newID + " changed the group's protocol")
			return
		}
		assignment := map[string][]byte{}
		for _, m := range g.members {
			assignment[m.id] = m.assignment
		}
		g.storeLocked(assignment, func(err error) {
			if nm.join != ch {
				return // answered meanwhile (removed, fenced or rejoined)
			}
			if err != nil {
				g.c.log.Warn("persist replaced static member; reverting", "group", g.id, "member", newID, "old_member", oldID, "err", err)
				g.updateMemberLocked(nm, oldProtocols, oldRebalance, oldSession, nil)
				om := g.replaceStaticMemberLocked(instance, newID, oldID)
				g.touchLocked(om, om.sessionTimeout)
				r := g.joinResultLocked("")
				r.LeaderID, r.Err = oldLeader, err
				ch <- r
				return
			}
			if req.SupportsSkipAssignment {
				r := g.joinResultLocked(newID)
				if g.leader == newID {
					r.Members = g.memberInfosLocked()
					r.SkipAssignment = true
				}
				g.completeJoinLocked(nm, r)
				return
			}
			// An old client would run an assignment if it saw
			// itself as leader, which a Stable group would not
			// broadcast: it is told the old leader ID.
			r := g.joinResultLocked(newID)
			r.LeaderID = oldLeader
			g.completeJoinLocked(nm, r)
		})
	case StateCompletingRebalance:
		// The leader may already be assigning for the old member ID.
		g.prepareRebalanceLocked("static member " + newID + " rejoins during CompletingRebalance")
	default:
		g.maybeCompleteJoinPhaseLocked()
	}
}

// Sync handles a SyncGroup request; the answer arrives on the returned
// channel (capacity 1): at once, or for followers when the leader's
// assignment is durable.
func (c *Coordinator) Sync(req SyncRequest) <-chan SyncResult {
	ch := make(chan SyncResult, 1)
	fail := func(err error) <-chan SyncResult {
		ch <- SyncResult{Err: err}
		return ch
	}
	if req.Group == "" {
		return fail(ErrInvalidGroupID)
	}
	g, err := c.lookup(req.Group, false)
	if err != nil {
		return fail(err)
	}
	if g == nil {
		return fail(ErrUnknownMemberID)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.validateSyncLocked(req); err != nil {
		return fail(err)
	}
	m := g.members[req.MemberID]
	switch g.state {
	case StateEmpty:
		return fail(ErrUnknownMemberID)
	case StatePreparingRebalance:
		return fail(ErrRebalanceInProgress)
	case StateCompletingRebalance:
		if m.sync != nil {
			m.sync <- SyncResult{Err: ErrRebalanceInProgress} // superseded by this request
		}
		m.sync = ch
		g.removePendingSyncLocked(m.id)
		if m.id == g.leader {
			g.leaderSyncLocked(req)
		}
	case StateStable:
		g.removePendingSyncLocked(m.id)
		r := SyncResult{Assignment: m.assignment}
		r.ProtocolType, r.Protocol = g.protocolPtrsLocked()
		ch <- r
	}
	return ch
}

func (g *group) validateSyncLocked(req SyncRequest) error {
	if g.state == StateDead {
		return ErrCoordinatorNotAvailable
	}
	if err := g.validateMemberLocked(req.MemberID, req.InstanceID); err != nil {
		return err
	}
	switch {
	case req.Generation != g.generation:
		return ErrIllegalGeneration
	case req.ProtocolType != nil && g.protocolType != "" && *req.ProtocolType != g.protocolType,
		req.Protocol != nil && g.protocol != "" && *req.Protocol != g.protocol:
		return ErrInconsistentGroupProtocol
	}
	return nil
}

// leaderSyncLocked stores the leader's assignment and, once it is durable,
// hands every member its part and makes the group Stable.
func (g *group) leaderSyncLocked(req SyncRequest) {
	assignment := make(map[string][]byte, len(g.members))
	for id, a := range req.Assignments {
		assignment[id] = a
	}
	var missing []string
	for _, id := range g.order {
		if _, ok := assignment[id]; !ok {
			assignment[id] = []byte{}
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		g.c.log.Warn("leader sent no assignment for some members; they get an empty one", "group", g.id, "generation", g.generation, "members", missing)
	}
	gen := g.generation
	g.storeLocked(assignment, func(err error) {
		if g.state != StateCompletingRebalance || g.generation != gen {
			return // a new rebalance began meanwhile
		}
		if err != nil {
			g.resetAndPropagateAssignmentErrorLocked(err)
			g.maybePrepareRebalanceOrCompleteJoinLocked("storing the assignment failed")
			return
		}
		g.setAndPropagateAssignmentLocked(assignment)
		g.transitionLocked(StateStable)
		g.c.log.Info("group is stable", "group", g.id, "generation", g.generation, "members", len(g.members))
	})
}

// Heartbeat handles a Heartbeat request.
func (c *Coordinator) Heartbeat(req HeartbeatRequest) error {
	if req.Group == "" {
		return ErrInvalidGroupID
	}
	g, err := c.lookup(req.Group, false)
	if err != nil {
		return err
	}
	if g == nil {
		return ErrUnknownMemberID
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state == StateDead {
		return ErrCoordinatorNotAvailable
	}
	if err := g.validateMemberLocked(req.MemberID, req.InstanceID); err != nil {
		return err
	}
	if req.Generation != g.generation {
		return ErrIllegalGeneration
	}
	m := g.members[req.MemberID]
	switch g.state {
	case StatePreparingRebalance:
		g.touchLocked(m, m.sessionTimeout)
		return ErrRebalanceInProgress
	case StateCompletingRebalance, StateStable:
		g.touchLocked(m, m.sessionTimeout)
		return nil
	}
	return ErrUnknownMemberID
}

// Leave handles a LeaveGroup request: one error per member (nil when it
// left), or a request-level error.
func (c *Coordinator) Leave(group string, members []LeavingMember) ([]error, error) {
	if group == "" {
		return nil, ErrInvalidGroupID
	}
	g, err := c.lookup(group, false)
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(members))
	if g == nil {
		for i := range errs {
			errs[i] = ErrUnknownMemberID
		}
		return errs, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state == StateDead {
		return nil, ErrCoordinatorNotAvailable
	}
	left := 0
	for i, lm := range members {
		switch {
		case lm.MemberID == "":
			id, ok := "", false
			if lm.InstanceID != nil {
				id, ok = g.static[*lm.InstanceID]
			}
			if !ok {
				errs[i] = ErrUnknownMemberID
				continue
			}
			g.leaveLocked(id, lm.Reason)
		case g.pending[lm.MemberID] != nil:
			g.removePendingLocked(lm.MemberID)
		default:
			if err := g.validateMemberLocked(lm.MemberID, lm.InstanceID); err != nil {
				errs[i] = err
				continue
			}
			g.leaveLocked(lm.MemberID, lm.Reason)
		}
		left++
	}
	if left > 0 {
		switch g.state {
		case StateStable, StateCompletingRebalance:
			g.maybePrepareRebalanceOrCompleteJoinLocked("members left the group")
		case StatePreparingRebalance:
			g.maybeCompleteJoinPhaseLocked()
		}
	}
	return errs, nil
}

func (g *group) leaveLocked(id, reason string) {
	g.c.log.Info("member left the group", "group", g.id, "member", id, "reason", reason)
	g.removeMemberLocked(id)
}
