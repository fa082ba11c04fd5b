package broker

// Consumer groups: the requests the group coordinator (internal/group)
// answers, turned from kmsg into its calls and back.
//
// FindCoordinator (key 10), v0–v4. v1 adds the key type (0 group, 1
// transaction: COORDINATOR_NOT_AVAILABLE until transactions exist) and
// error messages, v4 batched keys. The first lookup of a group creates
// __consumer_offsets, as Kafka does; a lookup names this broker only once
// its coordinator has been handed the group's partition.
// JoinGroup (key 11), v0–v9. v0 has no rebalance timeout (the session
// timeout serves), v4 MEMBER_ID_REQUIRED, v5 static members, v7 the
// protocol type in the answer, v8 a reason, v9 SkipAssignment (KIP-814).
// SyncGroup (key 14), v0–v5. v3 static members, v5 protocol type and name.
// Heartbeat (key 12), v0–v4. v3 static members.
// LeaveGroup (key 13), v0–v5. v3 batched members (by member ID or, for
// administrative removal, by instance ID alone), v5 reasons.
// OffsetCommit (key 8), v0–v9. v0 (ZooKeeper-stored in Kafka) is served as
// a simple commit; v1's per-partition commit timestamp is ignored (the
// broker's clock stamps commits); v2–v4 carry a retention time, v6 leader
// epochs, v7 instance IDs, v9 GROUP_ID_NOT_FOUND for an unknown group.
// OffsetFetch (key 9), v0–v9. v2 fetches all of a group's offsets with null
// topics and adds a top-level error, v5 leader epochs, v7 RequireStable
// (no transactions yet: offsets are always stable), v8 many groups, v9
// member IDs and epochs (ignored: they concern KIP-848 groups).
// ListGroups (key 16), v0–v5. v4 filters by state, v5 by type (all our
// groups are "classic").
// DescribeGroups (key 15), v0–v5. v3 authorized operations (we do no
// authorization: "unknown"), v4 instance IDs.
// DeleteGroups (key 42), v0–v2.
// OffsetDelete (key 47), v0.

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/group"
	"github.com/samsa-streaming/samsa/internal/meta"
)

// Coordinator key types of FindCoordinator.
const (
	coordinatorGroup       = 0
	coordinatorTransaction = 1
)

// handGroupLogs hands the local partitions of __consumer_offsets to the
// coordinator (which replays each the first time). Called by reconcile.
func (b *Broker) handGroupLogs() {
	ts := b.localTopic(group.OffsetsTopic)
	if ts == nil {
		return
	}
	for _, p := range ts.parts {
		if p == nil {
			continue
		}
		b.groups.Load(group.Partition{Log: p.log, Count: int32(len(ts.parts)), LeaderEpoch: p.leaderEpoch.Load(), Flushed: p.wake})
	}
}

// topicDeleted tells the coordinator that a topic's logs are going away:
// its committed offsets are removed, and if it is __consumer_offsets the
// coordinator lets go of it. Called by reconcile before the logs close.
func (b *Broker) topicDeleted(name string) {
	if name == group.OffsetsTopic {
		b.groups.UnloadAll()
		return
	}
	b.groups.DeleteTopicOffsets(name)
}

// offsetsTopic returns __consumer_offsets, creating it (internal,
// compacted) on first use.
func (b *Broker) offsetsTopic(ctx context.Context) (*meta.Topic, error) {
	if t := b.meta.State().Topic(group.OffsetsTopic); t != nil {
		return t, nil
	}
	st := b.meta.State()
	rf := int16(min(int(b.cfg.DefaultReplicationFactor), len(st.Brokers)))
	if rf < 1 {
		return nil, fail(group.ErrCoordinatorNotAvailable, "no broker is registered to host %s", group.OffsetsTopic)
	}
	parts, err := assignReplicas(st, 0, b.cfg.Group.OffsetsTopicPartitions, rf)
	if err != nil {
		return nil, err
	}
	configs := map[string]string{
		"cleanup.policy": "compact",
		"segment.bytes":  strconv.FormatInt(b.cfg.Group.OffsetsTopicSegmentBytes, 10),
	}
	t := meta.Topic{Name: group.OffsetsTopic, ID: newTopicID(), Partitions: parts, Configs: configs, Internal: true}
	start := time.Now()
	if err := b.meta.CreateTopic(ctx, t); err != nil && !errors.Is(err, meta.ErrTopicExists) {
		return nil, err
	}
	if err := b.reconcile(); err != nil {
		return nil, err
	}
	created := b.meta.State().Topic(group.OffsetsTopic)
	if created == nil {
		return nil, fail(group.ErrCoordinatorNotAvailable, "%s is being created", group.OffsetsTopic)
	}
	b.log.Info("created internal topic", "topic", group.OffsetsTopic, "partitions", len(created.Partitions), "duration", time.Since(start).Round(time.Millisecond))
	return created, nil
}

func (b *Broker) handleFindCoordinator(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.FindCoordinatorRequest)
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	keys := req.CoordinatorKeys
	if req.Version < 4 {
		keys = []string{req.CoordinatorKey}
	}
	for _, key := range keys {
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key = key
		c.NodeID, c.Port = -1, -1
		br, err := b.findCoordinator(ctx, req.CoordinatorType, key)
		if err != nil {
			c.ErrorCode, c.ErrorMessage = errCode(err), errMessage(err)
		} else {
			c.NodeID, c.Host, c.Port = br.ID, br.Host, br.Port
		}
		resp.Coordinators = append(resp.Coordinators, c)
	}
	if req.Version < 4 {
		c := resp.Coordinators[0]
		resp.Coordinators = nil
		resp.ErrorCode, resp.NodeID, resp.Host, resp.Port = c.ErrorCode, c.NodeID, c.Host, c.Port
		if req.Version >= 1 {
			resp.ErrorMessage = c.ErrorMessage
		}
	}
	return resp, nil
}

// findCoordinator returns the broker leading the key's coordinator
// partition.
func (b *Broker) findCoordinator(ctx context.Context, keyType int8, key string) (meta.Broker, error) {
	switch keyType {
	case coordinatorGroup:
	case coordinatorTransaction:
		return meta.Broker{}, fail(group.ErrCoordinatorNotAvailable, "transaction coordinators are not served yet")
	default:
		return meta.Broker{}, fail(errInvalidRequest, "unknown coordinator key type %d", keyType)
	}
	t, err := b.offsetsTopic(ctx)
	if err != nil {
		return meta.Broker{}, err
	}
	p := t.Partitions[group.PartitionFor(key, int32(len(t.Partitions)))]
	br, ok := b.meta.State().Broker(p.Leader)
	if !ok {
		return meta.Broker{}, fail(group.ErrCoordinatorNotAvailable, "partition %d of %s has no leader", p.ID, group.OffsetsTopic)
	}
	if br.ID == b.cfg.NodeID && !b.coordinates(p.ID) {
		// The topic is in the metadata but its logs are still being
		// opened (by the FindCoordinator that created it, or the
		// metadata watcher): named now, this broker would answer the
		// group's requests NOT_COORDINATOR. Catch up first.
		err := b.reconcile()
		switch {
		case b.coordinates(p.ID):
		case err != nil:
			return meta.Broker{}, fail(group.ErrCoordinatorNotAvailable, "partition %d of %s is not open here: %v", p.ID, group.OffsetsTopic, err)
		default:
			return meta.Broker{}, fail(group.ErrCoordinatorNotAvailable, "partition %d of %s is not open here yet", p.ID, group.OffsetsTopic)
		}
	}
	return br, nil
}

// coordinates reports whether the group coordinator has been handed
// partition idx of __consumer_offsets (it may still be loading it).
func (b *Broker) coordinates(idx int32) bool {
	_, ok := b.groups.Loaded()[idx]
	return ok
}

// clientHost is a member's host as Kafka shows it: "/" and the IP.
func clientHost(addr net.Addr) string {
	if addr == nil {
		return ""
	}
	if host, _, err := net.SplitHostPort(addr.String()); err == nil {
		return "/" + host
	}
	return "/" + addr.String()
}

// wait returns the response at once if the answer is there, else a Finish
// that waits for it on the writer goroutine (or gives up when the
// connection closes).
func wait[T any](ch <-chan T, build func(T) kmsg.Response) (kmsg.Response, Finish) {
	select {
	case v := <-ch:
		return build(v), nil
	default:
	}
	return nil, func(ctx context.Context) kmsg.Response {
		select {
		case v := <-ch:
			return build(v)
		case <-ctx.Done():
			return nil
		}
	}
}

func millis(ms int32) time.Duration { return time.Duration(ms) * time.Millisecond }

func (b *Broker) handleJoinGroup(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.JoinGroupRequest)
	rebalance := req.RebalanceTimeoutMillis
	if req.Version == 0 || rebalance < 0 {
		rebalance = req.SessionTimeoutMillis
	}
	jr := group.JoinRequest{
		Group:                  req.Group,
		MemberID:               req.MemberID,
		InstanceID:             req.InstanceID,
		ClientID:               r.ClientID,
		ClientHost:             clientHost(r.Remote),
		ProtocolType:           req.ProtocolType,
		SessionTimeout:         millis(req.SessionTimeoutMillis),
		RebalanceTimeout:       millis(rebalance),
		RequireKnownMemberID:   req.Version >= 4,
		SupportsSkipAssignment: req.Version >= 9,
	}
	if req.Reason != nil {
		jr.Reason = *req.Reason
	}
	for _, p := range req.Protocols {
		jr.Protocols = append(jr.Protocols, group.Protocol{Name: p.Name, Metadata: p.Metadata})
	}
	return wait(b.groups.Join(jr), func(res group.JoinResult) kmsg.Response {
		resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
		resp.ErrorCode = errCode(res.Err)
		resp.Generation = res.Generation
		resp.ProtocolType, resp.Protocol = res.ProtocolType, res.Protocol
		resp.LeaderID, resp.MemberID = res.LeaderID, res.MemberID
		resp.SkipAssignment = res.SkipAssignment
		for _, m := range res.Members {
			rm := kmsg.NewJoinGroupResponseMember()
			rm.MemberID, rm.InstanceID, rm.ProtocolMetadata = m.MemberID, m.InstanceID, m.Metadata
			resp.Members = append(resp.Members, rm)
		}
		if res.Err != nil {
			b.log.Debug("join group refused", "group", req.Group, "member", req.MemberID, "client_id", r.ClientID, "err", res.Err)
		}
		return resp
	})
}

func (b *Broker) handleSyncGroup(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.SyncGroupRequest)
	sr := group.SyncRequest{
		Group:        req.Group,
		MemberID:     req.MemberID,
		InstanceID:   req.InstanceID,
		Generation:   req.Generation,
		ProtocolType: req.ProtocolType,
		Protocol:     req.Protocol,
		Assignments:  make(map[string][]byte, len(req.GroupAssignment)),
	}
	for _, a := range req.GroupAssignment {
		sr.Assignments[a.MemberID] = a.MemberAssignment
	}
	return wait(b.groups.Sync(sr), func(res group.SyncResult) kmsg.Response {
		resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
		resp.ErrorCode = errCode(res.Err)
		resp.ProtocolType, resp.Protocol = res.ProtocolType, res.Protocol
		resp.MemberAssignment = res.Assignment
		if resp.MemberAssignment == nil {
			resp.MemberAssignment = []byte{}
		}
		return resp
	})
}

func (b *Broker) handleHeartbeat(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.HeartbeatRequest)
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	err := b.groups.Heartbeat(group.HeartbeatRequest{Group: req.Group, MemberID: req.MemberID, InstanceID: req.InstanceID, Generation: req.Generation})
	resp.ErrorCode = errCode(err)
	return resp, nil
}

func (b *Broker) handleLeaveGroup(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.LeaveGroupRequest)
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	members := req.Members
	if req.Version < 3 {
		members = []kmsg.LeaveGroupRequestMember{{MemberID: req.MemberID}}
	}
	leaving := make([]group.LeavingMember, len(members))
	for i, m := range members {
		leaving[i] = group.LeavingMember{MemberID: m.MemberID, InstanceID: m.InstanceID}
		if m.Reason != nil {
			leaving[i].Reason = *m.Reason
		}
	}
	errs, err := b.groups.Leave(req.Group, leaving)
	resp.ErrorCode = errCode(err)
	if err != nil {
		return resp, nil
	}
	if req.Version < 3 {
		resp.ErrorCode = errCode(errs[0])
		return resp, nil
	}
	for i, m := range members {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID, rm.ErrorCode = m.MemberID, m.InstanceID, errCode(errs[i])
		resp.Members = append(resp.Members, rm)
	}
	return resp, nil
}

// partitionExists reports whether the metadata has the topic partition.
func partitionExists(st *meta.State, topic string, partition int32) bool {
	t := st.Topic(topic)
	return t != nil && partition >= 0 && int(partition) < len(t.Partitions)
}

func (b *Broker) handleOffsetCommit(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.OffsetCommitRequest)
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	st := b.meta.State()
	cr := group.CommitRequest{
		Group:              req.Group,
		MemberID:           req.MemberID,
		InstanceID:         req.InstanceID,
		Generation:         req.Generation,
		GroupNotFoundError: req.Version >= 9,
	}
	if req.Version >= 2 && req.Version <= 4 && req.RetentionTimeMillis > 0 {
		cr.Retention = time.Duration(req.RetentionTimeMillis) * time.Millisecond
	}
	// out[i] is where the answer for cr.Offsets[i] goes.
	var out []*kmsg.OffsetCommitResponseTopicPartition
	resp.Topics = make([]kmsg.OffsetCommitResponseTopic, len(req.Topics))
	for i, rt := range req.Topics {
		ot := &resp.Topics[i]
		*ot = kmsg.NewOffsetCommitResponseTopic()
		ot.Topic = rt.Topic
		ot.Partitions = make([]kmsg.OffsetCommitResponseTopicPartition, len(rt.Partitions))
		for j, rp := range rt.Partitions {
			op := &ot.Partitions[j]
			*op = kmsg.NewOffsetCommitResponseTopicPartition()
			op.Partition = rp.Partition
			if !partitionExists(st, rt.Topic, rp.Partition) {
				op.ErrorCode = errCode(errUnknownTopicOrPartition)
				continue
			}
			oc := group.OffsetCommit{TopicPartition: group.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}, Offset: rp.Offset, LeaderEpoch: -1}
			if req.Version >= 6 {
				oc.LeaderEpoch = rp.LeaderEpoch
			}
			if rp.Metadata != nil {
				oc.Metadata = *rp.Metadata
			}
			cr.Offsets = append(cr.Offsets, oc)
			out = append(out, op)
		}
	}
	if len(cr.Offsets) == 0 {
		return resp, nil
	}
	return wait(b.groups.CommitOffsets(cr), func(errs []error) kmsg.Response {
		for i, err := range errs {
			out[i].ErrorCode = errCode(err)
		}
		return resp
	})
}

func (b *Broker) handleOffsetFetch(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.OffsetFetchRequest)
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if req.Version >= 8 {
		for _, rg := range req.Groups {
			og := kmsg.NewOffsetFetchResponseGroup()
			og.Group = rg.Group
			var parts []group.TopicPartition
			if rg.Topics != nil {
				parts = []group.TopicPartition{}
				for _, rt := range rg.Topics {
					for _, p := range rt.Partitions {
						parts = append(parts, group.TopicPartition{Topic: rt.Topic, Partition: p})
					}
				}
			}
			offs, err := b.groups.FetchOffsets(rg.Group, parts)
			og.ErrorCode = errCode(err)
			for _, o := range offs {
				if n := len(og.Topics); n == 0 || og.Topics[n-1].Topic != o.Topic {
					t := kmsg.NewOffsetFetchResponseGroupTopic()
					t.Topic = o.Topic
					og.Topics = append(og.Topics, t)
				}
				p := kmsg.NewOffsetFetchResponseGroupTopicPartition()
				p.Partition, p.Offset, p.LeaderEpoch, p.Metadata = o.Partition, o.Offset, o.LeaderEpoch, &o.Metadata
				t := &og.Topics[len(og.Topics)-1]
				t.Partitions = append(t.Partitions, p)
			}
			resp.Groups = append(resp.Groups, og)
		}
		return resp, nil
	}
	var parts []group.TopicPartition
	if req.Topics != nil || req.Version < 2 {
		parts = []group.TopicPartition{}
		for _, rt := range req.Topics {
			for _, p := range rt.Partitions {
				parts = append(parts, group.TopicPartition{Topic: rt.Topic, Partition: p})
			}
		}
	}
	offs, err := b.groups.FetchOffsets(req.Group, parts)
	if err != nil {
		// Before v2 a group error is reported on every partition.
		for _, tp := range parts {
			offs = append(offs, group.FetchedOffset{TopicPartition: tp, Offset: -1, LeaderEpoch: -1})
		}
	}
	if req.Version >= 2 {
		resp.ErrorCode = errCode(err)
	}
	for _, o := range offs {
		if n := len(resp.Topics); n == 0 || resp.Topics[n-1].Topic != o.Topic {
			t := kmsg.NewOffsetFetchResponseTopic()
			t.Topic = o.Topic
			resp.Topics = append(resp.Topics, t)
		}
		p := kmsg.NewOffsetFetchResponseTopicPartition()
		p.Partition, p.Offset, p.LeaderEpoch, p.Metadata = o.Partition, o.Offset, o.LeaderEpoch, &o.Metadata
		p.ErrorCode = errCode(err)
		t := &resp.Topics[len(resp.Topics)-1]
		t.Partitions = append(t.Partitions, p)
	}
	return resp, nil
}

func (b *Broker) handleListGroups(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.ListGroupsRequest)
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	groups, err := b.groups.ListGroups()
	resp.ErrorCode = errCode(err)
	if len(req.TypesFilter) > 0 && !containsFold(req.TypesFilter, "classic") {
		return resp, nil
	}
	for _, g := range groups {
		if len(req.StatesFilter) > 0 && !containsFold(req.StatesFilter, g.State.String()) {
			continue
		}
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group, lg.ProtocolType, lg.GroupState, lg.GroupType = g.Group, g.ProtocolType, g.State.String(), "classic"
		resp.Groups = append(resp.Groups, lg)
	}
	return resp, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func (b *Broker) handleDescribeGroups(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.DescribeGroupsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, id := range req.Groups {
		d, err := b.groups.Describe(id)
		dg := kmsg.NewDescribeGroupsResponseGroup()
		dg.Group = id
		dg.ErrorCode = errCode(err)
		dg.State, dg.ProtocolType, dg.Protocol = d.State.String(), d.ProtocolType, d.Protocol
		dg.AuthorizedOperations = authorizedOpsUnknown
		for _, m := range d.Members {
			dm := kmsg.NewDescribeGroupsResponseGroupMember()
			dm.MemberID, dm.InstanceID, dm.ClientID, dm.ClientHost = m.MemberID, m.InstanceID, m.ClientID, m.ClientHost
			dm.ProtocolMetadata, dm.MemberAssignment = m.Metadata, m.Assignment
			dg.Members = append(dg.Members, dm)
		}
		resp.Groups = append(resp.Groups, dg)
	}
	return resp, nil
}

func (b *Broker) handleDeleteGroups(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.DeleteGroupsRequest)
	return wait(b.groups.DeleteGroups(req.Groups), func(errs []error) kmsg.Response {
		resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
		for i, id := range req.Groups {
			g := kmsg.NewDeleteGroupsResponseGroup()
			g.Group, g.ErrorCode = id, errCode(errs[i])
			resp.Groups = append(resp.Groups, g)
			if errs[i] == nil {
				b.log.Info("deleted group", "group", id, "client_id", r.ClientID)
			}
		}
		return resp
	})
}

func (b *Broker) handleOffsetDelete(ctx context.Context, r *Request, kreq kmsg.Request) (kmsg.Response, Finish) {
	req := kreq.(*kmsg.OffsetDeleteRequest)
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	st := b.meta.State()
	var parts []group.TopicPartition
	var out []*kmsg.OffsetDeleteResponseTopicPartition
	resp.Topics = make([]kmsg.OffsetDeleteResponseTopic, len(req.Topics))
	for i, rt := range req.Topics {
		ot := &resp.Topics[i]
		*ot = kmsg.NewOffsetDeleteResponseTopic()
		ot.Topic = rt.Topic
		ot.Partitions = make([]kmsg.OffsetDeleteResponseTopicPartition, len(rt.Partitions))
		for j, rp := range rt.Partitions {
			op := &ot.Partitions[j]
			*op = kmsg.NewOffsetDeleteResponseTopicPartition()
			op.Partition = rp.Partition
			if !partitionExists(st, rt.Topic, rp.Partition) {
				op.ErrorCode = errCode(errUnknownTopicOrPartition)
				continue
			}
			parts = append(parts, group.TopicPartition{Topic: rt.Topic, Partition: rp.Partition})
			out = append(out, op)
		}
	}
	return wait(b.groups.DeleteOffsets(req.Group, parts), func(res group.OffsetDeleteResult) kmsg.Response {
		if res.Err != nil {
			resp.ErrorCode = errCode(res.Err)
			resp.Topics = nil
			return resp
		}
		for i, err := range res.PartitionErrs {
			out[i].ErrorCode = errCode(err)
		}
		return resp
	})
}
