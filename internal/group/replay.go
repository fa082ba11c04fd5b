package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// replay accumulates a partition's records in log order; later records of
// a key replace earlier ones and tombstones delete them.
type replay struct {
	offsets map[string]map[TopicPartition]*offsetEntry // by group
	metas   map[string]*loadedMeta                     // by group
}

// loadedMeta is a group's latest metadata record and when it was written.
type loadedMeta struct {
	v    *kmsg.GroupMetadataValue
	time time.Time
}

func newReplay() *replay {
	return &replay{offsets: map[string]map[TopicPartition]*offsetEntry{}, metas: map[string]*loadedMeta{}}
}

func (r *replay) apply(lr logRecord) {
	switch {
	case lr.commitKey != nil:
		k := lr.commitKey
		tp := TopicPartition{Topic: k.Topic, Partition: k.Partition}
		if lr.commit == nil {
			if m := r.offsets[k.Group]; m != nil {
				delete(m, tp)
				if len(m) == 0 {
					delete(r.offsets, k.Group)
				}
			}
			return
		}
		v := lr.commit
		e := &offsetEntry{offset: v.Offset, leaderEpoch: -1, metadata: v.Metadata, commitTime: time.UnixMilli(v.CommitTimestamp)}
		if v.Version >= 3 {
			e.leaderEpoch = v.LeaderEpoch
		}
		if v.Version == 1 && v.ExpireTimestamp >= 0 {
			e.expireTime = time.UnixMilli(v.ExpireTimestamp)
		}
		m := r.offsets[k.Group]
		if m == nil {
			m = map[TopicPartition]*offsetEntry{}
			r.offsets[k.Group] = m
		}
		m[tp] = e
	case lr.groupKey != nil:
		if lr.meta == nil {
			delete(r.metas, lr.groupKey.Group)
			return
		}
		r.metas[lr.groupKey.Group] = &loadedMeta{v: lr.meta, time: lr.time}
	}
}

// build turns what was replayed into groups: Stable with their members and
// assignments if the last metadata had members, else Empty. Member session
// timers are armed by the caller once the groups are published.
func (r *replay) build(s *shard) map[string]*group {
	out := map[string]*group{}
	get := func(id string) *group {
		g := out[id]
		if g == nil {
			g = newGroup(s, id)
			out[id] = g
		}
		return g
	}
	for id, lm := range r.metas {
		g := get(id)
		v := lm.v
		g.protocolType = v.ProtocolType
		g.generation = v.Generation
		if v.Protocol != nil {
			g.protocol = *v.Protocol
		}
		g.stateTime = lm.time
		if v.Version >= 2 && v.CurrentStateTimestamp >= 0 {
			g.stateTime = time.UnixMilli(v.CurrentStateTimestamp)
		}
		for _, mv := range v.Members {
			m := &member{
				id:               mv.MemberID,
				instanceID:       mv.InstanceID,
				clientID:         mv.ClientID,
				clientHost:       mv.ClientHost,
				protocolType:     v.ProtocolType,
				sessionTimeout:   time.Duration(mv.SessionTimeoutMillis) * time.Millisecond,
				rebalanceTimeout: time.Duration(mv.RebalanceTimeoutMillis) * time.Millisecond,
				assignment:       mv.Assignment,
			}
			if v.Version == 0 || mv.RebalanceTimeoutMillis < 0 {
				m.rebalanceTimeout = m.sessionTimeout
			}
			if g.protocol != "" {
				m.protocols = []Protocol{{Name: g.protocol, Metadata: mv.Subscription}}
			}
			g.addMemberLocked(m, nil)
		}
		if v.Leader != nil && g.members[*v.Leader] != nil {
			g.leader = *v.Leader
		}
		if len(g.members) > 0 {
			g.state = StateStable
			g.prevState = StateStable
		}
		g.subscribed = g.computeSubscribedLocked()
	}
	for id, offs := range r.offsets {
		g := get(id)
		for tp, e := range offs {
			g.offsets[tp] = e
		}
	}
	return out
}
