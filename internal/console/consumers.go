package console

// The Consumers page (and the topic page's Consumers tab): every consumer
// group with its state, members, which partitions each member holds, and
// committed offset and lag per partition; reset offsets of an empty group;
// delete a group.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Group is one consumer group.
type Group struct {
	Name         string       `json:"group"`
	State        string       `json:"state"`
	ProtocolType string       `json:"protocol_type"`
	Protocol     string       `json:"protocol"` // the assignor, e.g. cooperative-sticky
	Coordinator  int32        `json:"coordinator"`
	Members      []Member     `json:"members"`
	Topics       []GroupTopic `json:"topics"`
	Lag          int64        `json:"lag"` // sum over Topics; -1 if some lag is unknown
	Err          string       `json:"error,omitempty"`
	// Spark is the lag over the last minutes as a small SVG line, from the
	// console's history (pages only).
	Spark template.HTML `json:"-"`
}

// Member is one member of a group. Index numbers the members in the page
// (and picks their colour).
type Member struct {
	Index      int               `json:"index"`
	ID         string            `json:"member_id"`
	InstanceID string            `json:"instance_id,omitempty"`
	ClientID   string            `json:"client_id"`
	Host       string            `json:"client_host"`
	Assigned   []TopicPartitions `json:"assigned"`
}

// TopicPartitions is a set of partitions of one topic.
type TopicPartitions struct {
	Topic      string  `json:"topic"`
	Partitions []int32 `json:"partitions"`
}

// GroupTopic is a topic a group reads: every partition of it, who holds
// it and how far behind the group is.
type GroupTopic struct {
	Topic      string           `json:"topic"`
	Partitions []GroupPartition `json:"partitions"`
	Lag        int64            `json:"lag"` // -1 if some lag is unknown
}

// GroupPartition is one partition of a topic a group reads.
type GroupPartition struct {
	Partition int32  `json:"partition"`
	Member    int    `json:"member"` // Member.Index of its holder; -1: none
	ClientID  string `json:"client_id,omitempty"`
	Committed int64  `json:"committed"` // -1: nothing committed
	End       int64  `json:"end_offset"`
	Lag       int64  `json:"lag"` // -1: unknown
}

// groupsView is GET /api/groups and the Consumers page.
type groupsView struct {
	Groups []Group `json:"groups"`
}

// groups describes every group; with topic set, only the groups that read
// it (assigned or committed), showing only that topic.
func (c *Console) groups(ctx context.Context, topic string) (groupsView, error) {
	v := groupsView{Groups: []Group{}}
	m, err := c.metadata(ctx)
	if err != nil {
		return v, err
	}
	listed, err := clusterOf(ctx).adm.ListGroups(ctx)
	if err != nil {
		return v, fmt.Errorf("list groups: %w", err)
	}
	names := listed.Groups()
	if len(names) == 0 {
		return v, nil
	}
	lags, err := clusterOf(ctx).adm.Lag(ctx, names...)
	if err != nil {
		return v, fmt.Errorf("describe groups: %w", err)
	}
	for _, name := range names {
		gl, ok := lags[name]
		if !ok {
			continue
		}
		g := describeGroup(gl, m.Topics, topic)
		if topic != "" && len(g.Topics) == 0 {
			continue
		}
		v.Groups = append(v.Groups, g)
	}
	return v, nil
}

// describeGroup turns kadm's description and lag into a Group; only topic
// when it is set.
func describeGroup(gl kadm.DescribedGroupLag, topics kadm.TopicDetails, topic string) Group {
	g := Group{Name: gl.Group, State: gl.State, ProtocolType: gl.ProtocolType, Protocol: gl.Protocol, Coordinator: gl.Coordinator.NodeID, Members: []Member{}, Topics: []GroupTopic{}}
	if err := gl.Error(); err != nil {
		g.Err = err.Error()
	}
	type owner struct {
		index    int
		clientID string
	}
	owners := map[string]map[int32]owner{}
	for i, dm := range gl.Members {
		mem := Member{Index: i, ID: dm.MemberID, ClientID: dm.ClientID, Host: dm.ClientHost}
		if dm.InstanceID != nil {
			mem.InstanceID = *dm.InstanceID
		}
		if a, ok := dm.Assigned.AsConsumer(); ok {
			for _, t := range a.Topics {
				ps := slices.Clone(t.Partitions)
				slices.Sort(ps)
				mem.Assigned = append(mem.Assigned, TopicPartitions{Topic: t.Topic, Partitions: ps})
				if owners[t.Topic] == nil {
					owners[t.Topic] = map[int32]owner{}
				}
				for _, p := range ps {
					owners[t.Topic][p] = owner{i, dm.ClientID}
				}
			}
		}
		g.Members = append(g.Members, mem)
	}
	seen := map[string]bool{}
	for t := range owners {
		seen[t] = true
	}
	for t := range gl.Lag {
		seen[t] = true
	}
	for _, t := range sortedKeys(seen) {
		if topic != "" && t != topic {
			continue
		}
		gt := GroupTopic{Topic: t}
		n := int32(len(topics[t].Partitions))
		for p := range gl.Lag[t] {
			n = max(n, p+1)
		}
		for p := range n {
			gp := GroupPartition{Partition: p, Member: -1, Committed: -1, End: -1, Lag: -1}
			if o, ok := owners[t][p]; ok {
				gp.Member, gp.ClientID = o.index, o.clientID
			}
			if l, ok := gl.Lag.Lookup(t, p); ok {
				gp.Committed, gp.End = l.Commit.At, l.End.Offset
				if l.Err == nil {
					gp.Lag = l.Lag
				}
			}
			gt.Partitions = append(gt.Partitions, gp)
		}
		gt.Lag = sumLag(gt.Partitions)
		g.Topics = append(g.Topics, gt)
	}
	g.Lag = 0
	for _, gt := range g.Topics {
		if gt.Lag < 0 || g.Lag < 0 {
			g.Lag = -1
			continue
		}
		g.Lag += gt.Lag
	}
	return g
}

// sumLag adds the lags of the partitions with a commit or an owner; -1 if
// one of them is unknown.
func sumLag(ps []GroupPartition) int64 {
	var sum int64
	for _, p := range ps {
		if p.Committed < 0 && p.Member < 0 {
			continue // the group does not read this partition
		}
		if p.Lag < 0 {
			return -1
		}
		sum += p.Lag
	}
	return sum
}

func (c *Console) apiGroups(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := c.ctx(r)
	defer cancel()
	v, err := c.groups(ctx, r.URL.Query().Get("topic"))
	if err != nil {
		c.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (c *Console) apiTopicConsumers(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := c.ctx(r)
	defer cancel()
	v, err := c.groups(ctx, r.PathValue("topic"))
	if err != nil {
		c.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (c *Console) pageConsumers(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := c.ctx(r)
	defer cancel()
	v, err := c.groups(ctx, "")
	c.sparkLags(ctx, v.Groups)
	c.render(w, r, "consumers", page{Title: "Consumers", Nav: "consumers", Data: v}, err)
}

func (c *Console) deleteGroup(ctx context.Context, r *http.Request, cli bool) (actionResult, error) {
	name := r.PathValue("group")
	if cli {
		return actionResult{CLI: clusterOf(ctx).cliCommand([]string{"group", "delete"}, name), KafkaCLI: clusterOf(ctx).kafkaDeleteGroup(name)}, nil
	}
	resp, err := clusterOf(ctx).adm.DeleteGroup(ctx, name)
	if err == nil {
		err = brokerErr(resp.Err, "")
	}
	if err != nil {
		return actionResult{}, fmt.Errorf("delete group %q: %w", name, err)
	}
	return actionResult{Message: "Deleted group " + name + "."}, nil
}

// resetRequest is the body of POST /api/groups/{group}/reset.
type resetRequest struct {
	To        string `json:"to"`        // earliest, latest or timestamp
	Timestamp string `json:"timestamp"` // To timestamp: RFC 3339 or Unix milliseconds
	Topic     string `json:"topic"`     // "": every topic the group committed offsets for
}

// resetGroup moves the committed offsets of an empty group, as `samsa
// group seek --execute` does.
func (c *Console) resetGroup(ctx context.Context, r *http.Request, cli bool) (actionResult, error) {
	name := r.PathValue("group")
	var req resetRequest
	if err := decodeBody(r, &req); err != nil {
		return actionResult{}, err
	}
	var at time.Time
	switch req.To {
	case "earliest", "latest":
	case "timestamp":
		t, err := parseTime(req.Timestamp)
		if err != nil {
			return actionResult{}, err
		}
		at = t
	default:
		return actionResult{}, fmt.Errorf("%w: reset to %q: use earliest, latest or timestamp", ErrBadRequest, req.To)
	}
	if cli {
		return actionResult{CLI: clusterOf(ctx).cliReset(name, req, at), KafkaCLI: clusterOf(ctx).kafkaReset(name, req, at)}, nil
	}
	dgs, err := clusterOf(ctx).adm.DescribeGroups(ctx, name)
	if err != nil {
		return actionResult{}, fmt.Errorf("describe group %q: %w", name, err)
	}
	dg := dgs[name]
	if dg.Err != nil {
		return actionResult{}, fmt.Errorf("describe group %q: %w", name, brokerErr(dg.Err, dg.ErrMessage))
	}
	if len(dg.Members) > 0 || (dg.State != "Empty" && dg.State != "Dead") {
		return actionResult{}, fmt.Errorf("%w: group %s is %s with %d members: stop its consumers first (offsets of a live group cannot be reset)", ErrBadRequest, name, dg.State, len(dg.Members))
	}
	committed, err := clusterOf(ctx).adm.FetchOffsets(ctx, name)
	if err == nil {
		err = committed.Error()
	}
	if err != nil {
		return actionResult{}, fmt.Errorf("fetch offsets of group %q: %w", name, err)
	}
	var topics []string
	committed.Each(func(o kadm.OffsetResponse) {
		if (req.Topic == "" || o.Topic == req.Topic) && !slices.Contains(topics, o.Topic) {
			topics = append(topics, o.Topic)
		}
	})
	if req.Topic != "" && len(topics) == 0 {
		topics = []string{req.Topic}
	}
	if len(topics) == 0 {
		return actionResult{}, fmt.Errorf("%w: group %s has no committed offsets; choose a topic", ErrBadRequest, name)
	}
	var target kadm.ListedOffsets
	switch req.To {
	case "earliest":
		target, err = clusterOf(ctx).adm.ListStartOffsets(ctx, topics...)
	case "latest":
		target, err = clusterOf(ctx).adm.ListEndOffsets(ctx, topics...)
	case "timestamp":
		target, err = clusterOf(ctx).adm.ListOffsetsAfterMilli(ctx, at.UnixMilli(), topics...)
	}
	if err == nil {
		err = target.Error()
	}
	if err != nil {
		if errors.Is(err, kerr.UnknownTopicOrPartition) {
			return actionResult{}, fmt.Errorf("topic %v: %w", topics, ErrNotFound)
		}
		return actionResult{}, fmt.Errorf("list offsets: %w", err)
	}
	ends, err := clusterOf(ctx).adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return actionResult{}, fmt.Errorf("list end offsets: %w", err)
	}
	os := kadm.Offsets{}
	target.Each(func(l kadm.ListedOffset) {
		// With a commit only on some partitions of a topic, reset those;
		// a topic without commits (chosen by name) resets every partition.
		if _, ok := committed.Lookup(l.Topic, l.Partition); !ok && len(committed[l.Topic]) > 0 {
			return
		}
		at := l.Offset
		if at < 0 { // no record at or after the time: the end
			e, _ := ends.Lookup(l.Topic, l.Partition)
			at = e.Offset
		}
		os.Add(kadm.Offset{Topic: l.Topic, Partition: l.Partition, At: at, LeaderEpoch: -1})
	})
	rs, err := clusterOf(ctx).adm.CommitOffsets(ctx, name, os)
	if err == nil {
		err = rs.Error()
	}
	if err != nil {
		return actionResult{}, fmt.Errorf("commit offsets of group %q: %w", name, brokerErr(err, ""))
	}
	n := 0
	os.Each(func(kadm.Offset) { n++ })
	return actionResult{Message: fmt.Sprintf("Reset %d partitions of group %s to %s.", n, name, cmp.Or(req.Timestamp, req.To))}, nil
}
