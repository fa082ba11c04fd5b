package cli

// `samsa group describe GROUP...`: members with their assigned partitions,
// and per partition the committed offset, end offset and lag.

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

func newGroupDescribeCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "describe GROUP...",
		Short: "Show a group's members, assignments, committed offsets and lag",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			adm, err := g.admin(ctx)
			if err != nil {
				return err
			}
			defer adm.Close()
			views := make([]*groupView, 0, len(args))
			for _, group := range args {
				v, err := describeGroup(ctx, adm, group)
				if err != nil {
					return err
				}
				views = append(views, v)
			}
			if g.output == "json" {
				return writeJSON(cmd.OutOrStdout(), views)
			}
			for i, v := range views {
				if i > 0 {
					fmt.Fprintln(cmd.OutOrStdout())
				}
				if err := v.write(cmd.OutOrStdout()); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// write prints the view as a heading, a member table and an offset table.
func (v *groupView) write(w io.Writer) error {
	var lag int64
	for _, r := range v.Offsets {
		if r.Lag > 0 {
			lag += r.Lag
		}
	}
	proto := orDash(v.ProtocolType)
	if v.Protocol != "" {
		proto += "/" + v.Protocol
	}
	fmt.Fprintf(w, "Group: %s  State: %s  Protocol: %s  Coordinator: %d (%s:%d)  Members: %d  Lag: %d\n",
		v.Group, v.State, proto, v.Coordinator.NodeID, v.Coordinator.Host, v.Coordinator.Port, len(v.Members), lag)
	if len(v.Members) > 0 {
		fmt.Fprintln(w)
		t := newTable("MEMBER", "CLIENT-ID", "HOST", "ASSIGNED")
		for _, m := range v.Members {
			t.add(m.MemberID, orDash(m.ClientID), orDash(m.Host), orDash(assignmentString(m.Assigned)))
		}
		if err := t.write(w); err != nil {
			return err
		}
	}
	if len(v.Offsets) > 0 {
		fmt.Fprintln(w)
		t := newTable("TOPIC", "PARTITION", "COMMITTED", "END-OFFSET", "LAG", "MEMBER")
		for _, r := range v.Offsets {
			t.add(r.Topic, r.Partition, offsetOrDash(r.Committed), offsetOrDash(r.EndOffset), offsetOrDash(r.Lag), orDash(r.MemberID))
		}
		return t.write(w)
	}
	return nil
}

// offsetOrDash prints "-" for a negative (unknown) offset.
func offsetOrDash(o int64) string {
	if o < 0 {
		return "-"
	}
	return fmt.Sprint(o)
}

// assignmentString prints partitions as Kafka does: "t:0,1;u:2".
func assignmentString(tps []topicPartition) string {
	var parts []string
	for i := 0; i < len(tps); {
		j := i
		var ps []string
		for ; j < len(tps) && tps[j].Topic == tps[i].Topic; j++ {
			ps = append(ps, fmt.Sprint(tps[j].Partition))
		}
		parts = append(parts, tps[i].Topic+":"+strings.Join(ps, ","))
		i = j
	}
	return strings.Join(parts, ";")
}
