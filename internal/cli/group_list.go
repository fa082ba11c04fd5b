package cli

// `samsa group list`: every group with its state and protocol type.

import (
	"context"
	"fmt"
	"slices"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// listedGroup is one group as `samsa group list` shows it.
type listedGroup struct {
	Group        string `json:"group"`
	State        string `json:"state"`
	ProtocolType string `json:"protocol_type"`
}

// listGroups lists every group, sorted by name.
func listGroups(ctx context.Context, adm *kadm.Client) ([]listedGroup, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	lgs, err := adm.ListGroups(ctx)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	out := make([]listedGroup, 0, len(lgs))
	for _, g := range lgs {
		out = append(out, listedGroup{g.Group, g.State, g.ProtocolType})
	}
	slices.SortFunc(out, func(a, b listedGroup) int {
		switch {
		case a.Group < b.Group:
			return -1
		case a.Group > b.Group:
			return 1
		}
		return 0
	})
	return out, nil
}

func newGroupListCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List consumer groups with their state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			adm, err := g.admin(ctx)
			if err != nil {
				return err
			}
			defer adm.Close()
			groups, err := listGroups(ctx, adm)
			if err != nil {
				return err
			}
			if g.output == "json" {
				return writeJSON(cmd.OutOrStdout(), groups)
			}
			if len(groups) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "no consumer groups yet; start one with: samsa consume TOPIC --group NAME")
				return nil
			}
			t := newTable("GROUP", "STATE", "PROTOCOL-TYPE")
			for _, lg := range groups {
				t.add(lg.Group, orDash(lg.State), orDash(lg.ProtocolType))
			}
			return t.write(cmd.OutOrStdout())
		},
	}
}
