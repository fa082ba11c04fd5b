package cli

// `samsa group`: the parent of the group commands, and what they share with
// kafka-consumer-groups: a group's members, committed offsets, end offsets
// and lag, gathered through kadm.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// newGroupCmd returns `samsa group` with its subcommands.
func newGroupCmd() *cobra.Command {
	g := &globalOptions{}
	cmd := &cobra.Command{
		Use:   "group",
		Short: "List, describe, seek and delete consumer groups",
		Args:  cobra.NoArgs,
	}
	addGlobalFlags(cmd, g)
	cmd.AddCommand(
		newGroupListCmd(g),
		newGroupDescribeCmd(g),
		newGroupSeekCmd(g),
		newGroupDeleteCmd(g),
	)
	return cmd
}

// topicPartition names one partition.
type topicPartition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
}

// comparePartitions orders by topic, then partition.
func comparePartitions(a, b topicPartition) int {
	return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
}

// groupMember is one member of a group and what it was assigned.
type groupMember struct {
	MemberID   string           `json:"member_id"`
	InstanceID string           `json:"instance_id,omitempty"`
	ClientID   string           `json:"client_id"`
	Host       string           `json:"host"`
	Assigned   []topicPartition `json:"assigned"`
}

// groupOffsetRow is one partition of a group: its committed offset, the
// end offset and the lag, and the member it is assigned to ("" if none).
type groupOffsetRow struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Committed int64  `json:"committed"`  // -1: none
	EndOffset int64  `json:"end_offset"` // -1: unknown
	Lag       int64  `json:"lag"`        // -1: unknown
	MemberID  string `json:"member_id"`
	Host      string `json:"host"`
	ClientID  string `json:"client_id"`
}

// groupView is everything the describe commands show about a group.
type groupView struct {
	Group        string           `json:"group"`
	State        string           `json:"state"`
	ProtocolType string           `json:"protocol_type"`
	Protocol     string           `json:"protocol"`
	Coordinator  clusterBroker    `json:"coordinator"`
	Members      []groupMember    `json:"members"`
	Offsets      []groupOffsetRow `json:"offsets"`
}

// describeGroup gathers a group's view. A group that does not exist fails
// with an error wrapping errGroupNotFound.
func describeGroup(ctx context.Context, adm *kadm.Client, group string) (*groupView, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	dgs, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("describe group %q: %w", group, err)
	}
	dg, ok := dgs[group]
	switch {
	case !ok || errors.Is(dg.Err, kerr.GroupIDNotFound) || (dg.Err == nil && dg.State == "Dead"):
		return nil, hintf(errGroupNotFound, "group %q not found; see: samsa group list", group)
	case dg.Err != nil:
		return nil, fmt.Errorf("describe group %q: %w", group, &brokerError{err: dg.Err, msg: dg.ErrMessage})
	}
	v := &groupView{
		Group: group, State: dg.State, ProtocolType: dg.ProtocolType, Protocol: dg.Protocol,
		Coordinator: clusterBroker{NodeID: dg.Coordinator.NodeID, Host: dg.Coordinator.Host, Port: dg.Coordinator.Port},
	}
	owner := make(map[topicPartition]*groupMember)
	for _, m := range dg.Members {
		gm := groupMember{MemberID: m.MemberID, ClientID: m.ClientID, Host: m.ClientHost, Assigned: []topicPartition{}}
		if m.InstanceID != nil {
			gm.InstanceID = *m.InstanceID
		}
		if c, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range c.Topics {
				for _, p := range t.Partitions {
					gm.Assigned = append(gm.Assigned, topicPartition{t.Topic, p})
				}
			}
		}
		slices.SortFunc(gm.Assigned, comparePartitions)
		v.Members = append(v.Members, gm)
	}
	for i := range v.Members {
		for _, tp := range v.Members[i].Assigned {
			owner[tp] = &v.Members[i]
		}
	}

	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("fetch offsets of group %q: %w", group, err)
	}
	if err := committed.Error(); err != nil {
		return nil, fmt.Errorf("fetch offsets of group %q: %w", group, err)
	}
	topics := map[string]bool{}
	for tp := range owner {
		topics[tp.Topic] = true
	}
	committed.Each(func(o kadm.OffsetResponse) { topics[o.Topic] = true })
	names := make([]string, 0, len(topics))
	for t := range topics {
		names = append(names, t)
	}
	slices.Sort(names)
	offs, err := listPartitionOffsets(ctx, adm, names...)
	if err != nil {
		return nil, err
	}
	row := func(tp topicPartition, m *groupMember) groupOffsetRow {
		r := groupOffsetRow{Topic: tp.Topic, Partition: tp.Partition, Committed: -1, EndOffset: -1, Lag: -1}
		if o, ok := committed.Lookup(tp.Topic, tp.Partition); ok && o.At >= 0 {
			r.Committed = o.At
		}
		if se, ok := offs[tp.Topic][tp.Partition]; ok {
			r.EndOffset = se[1]
		}
		if r.Committed >= 0 && r.EndOffset >= 0 {
			r.Lag = max(r.EndOffset-r.Committed, 0)
		}
		if m != nil {
			r.MemberID, r.Host, r.ClientID = m.MemberID, m.Host, m.ClientID
		}
		return r
	}
	// Kafka's order: members with the most partitions first, each
	// member's partitions by topic and number; then committed partitions
	// no member owns.
	byLoad := make([]*groupMember, 0, len(v.Members))
	for i := range v.Members {
		if len(v.Members[i].Assigned) > 0 {
			byLoad = append(byLoad, &v.Members[i])
		}
	}
	slices.SortStableFunc(byLoad, func(a, b *groupMember) int { return cmp.Compare(len(b.Assigned), len(a.Assigned)) })
	for _, m := range byLoad {
		for _, tp := range m.Assigned {
			v.Offsets = append(v.Offsets, row(tp, m))
		}
	}
	var free []topicPartition
	committed.Each(func(o kadm.OffsetResponse) {
		tp := topicPartition{o.Topic, o.Partition}
		if _, owned := owner[tp]; !owned && o.At >= 0 {
			free = append(free, tp)
		}
	})
	slices.SortFunc(free, comparePartitions)
	for _, tp := range free {
		v.Offsets = append(v.Offsets, row(tp, nil))
	}
	if v.Offsets == nil {
		v.Offsets = []groupOffsetRow{}
	}
	if v.Members == nil {
		v.Members = []groupMember{}
	}
	return v, nil
}

// groupInactive reports whether the group has no live members, so its
// offsets may be changed from outside (Kafka: state Empty or Dead, or no
// such group yet).
func groupInactive(ctx context.Context, adm *kadm.Client, group string) (state string, inactive bool, err error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	dgs, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return "", false, fmt.Errorf("describe group %q: %w", group, err)
	}
	dg, ok := dgs[group]
	switch {
	case !ok || errors.Is(dg.Err, kerr.GroupIDNotFound):
		return "Dead", true, nil
	case dg.Err != nil:
		return "", false, fmt.Errorf("describe group %q: %w", group, &brokerError{err: dg.Err, msg: dg.ErrMessage})
	}
	return dg.State, dg.State == "Empty" || dg.State == "Dead" || dg.State == "", nil
}
