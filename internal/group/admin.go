package group

// ListGroups, DescribeGroups and DeleteGroups.

import (
	"errors"
)

// GroupListing is one group as ListGroups shows it.
type GroupListing struct {
	Group        string
	ProtocolType string
	State        State
}

// ListGroups lists the groups of every loaded partition, sorted by ID. The
// error is ErrCoordinatorLoadInProgress if some partition is still
// loading; the listing then holds the groups of the others.
func (c *Coordinator) ListGroups() ([]GroupListing, error) {
	var out []GroupListing
	var loadErr error
	for _, s := range c.loadedShards() {
		groups, err := s.groupList()
		if errors.Is(err, ErrCoordinatorLoadInProgress) {
			loadErr = err
		}
		for _, g := range groups {
			g.mu.Lock()
			if g.state != StateDead {
				out = append(out, GroupListing{Group: g.id, ProtocolType: g.protocolType, State: g.state})
			}
			g.mu.Unlock()
		}
	}
	return out, loadErr
}

// MemberDescription is one member as DescribeGroups shows it; Metadata and
// Assignment are empty unless the group is Stable.
type MemberDescription struct {
	MemberID   string
	InstanceID *string
	ClientID   string
	ClientHost string
	Metadata   []byte
	Assignment []byte
}

// GroupDescription is a group as DescribeGroups shows it. A group that does
// not exist is described as Dead with no protocol and no members.
type GroupDescription struct {
	Group        string
	State        State
	ProtocolType string
	Protocol     string // "" unless Stable
	Members      []MemberDescription
}

// Describe describes one group.
func (c *Coordinator) Describe(group string) (GroupDescription, error) {
	d := GroupDescription{Group: group, State: StateDead}
	g, err := c.lookup(group, false)
	if err != nil || g == nil {
		return d, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state == StateDead {
		return d, nil
	}
	d.State, d.ProtocolType = g.state, g.protocolType
	stable := g.state == StateStable
	if stable {
		d.Protocol = g.protocol
	}
	for _, m := range g.memberList() {
		md := MemberDescription{MemberID: m.id, InstanceID: m.instanceID, ClientID: m.clientID, ClientHost: m.clientHost, Metadata: []byte{}, Assignment: []byte{}}
		if stable {
			md.Metadata, md.Assignment = m.metadataFor(g.protocol), m.assignment
		}
		d.Members = append(d.Members, md)
	}
	return d, nil
}

// DeleteGroups deletes empty groups with their offsets. The channel
// (capacity 1) receives one error per group once the tombstones are
// durable: ErrGroupIDNotFound, ErrNonEmptyGroup, a coordinator error, or
// nil.
func (c *Coordinator) DeleteGroups(groups []string) <-chan []error {
	ch := make(chan []error, 1)
	errs := make([]error, len(groups))
	waiting := make(chan struct{}, len(groups))
	n := 0
	for i, id := range groups {
		if c.deleteGroup(id, &errs[i], waiting) {
			n++
		}
	}
	if n == 0 {
		ch <- errs
		return ch
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for range n {
			<-waiting
		}
		ch <- errs
	}()
	return ch
}

// deleteGroup starts deleting one group; it reports whether a write is in
// flight that will set *errp and signal done.
func (c *Coordinator) deleteGroup(id string, errp *error, done chan<- struct{}) bool {
	g, err := c.lookup(id, false)
	if err != nil {
		*errp = err
		return false
	}
	if g == nil {
		*errp = ErrGroupIDNotFound
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch g.state {
	case StateDead:
		*errp = ErrGroupIDNotFound
		return false
	case StatePreparingRebalance, StateCompletingRebalance, StateStable:
		*errp = ErrNonEmptyGroup
		return false
	}
	recs := make([]record, 0, len(g.offsets)+len(g.inflight)+1)
	for tp := range g.offsets {
		recs = append(recs, record{key: offsetKey(g.id, tp)})
	}
	for tp := range g.inflight {
		if g.offsets[tp] == nil {
			recs = append(recs, record{key: offsetKey(g.id, tp)})
		}
	}
	recs = append(recs, record{key: groupKey(g.id)})
	err = g.s.append(recs, func(err error) {
		*errp = err
		done <- struct{}{}
	})
	if err != nil {
		*errp = err
		return false
	}
	g.killLocked(ErrCoordinatorNotAvailable)
	g.s.removeGroup(g)
	c.log.Info("deleted group", "group", g.id, "offsets", len(recs)-1)
	return true
}
