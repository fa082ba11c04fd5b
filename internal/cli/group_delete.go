package cli

// `samsa group delete GROUP...`: DeleteGroups (only empty groups can go).

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// deleteGroups deletes groups and returns each group's result: nil or a
// *brokerError.
func deleteGroups(ctx context.Context, adm *kadm.Client, groups ...string) (map[string]error, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	rs, err := adm.DeleteGroups(ctx, groups...)
	if err != nil {
		return nil, fmt.Errorf("delete groups: %w", err)
	}
	out := make(map[string]error, len(groups))
	for _, g := range groups {
		r, ok := rs[g]
		switch {
		case !ok:
			out[g] = fmt.Errorf("no answer for group %q", g)
		case r.Err != nil:
			out[g] = &brokerError{err: r.Err}
		default:
			out[g] = nil
		}
	}
	return out, nil
}

func newGroupDeleteCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "delete GROUP...",
		Short: "Delete groups and their committed offsets (the groups must have no members)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			adm, err := g.admin(ctx)
			if err != nil {
				return err
			}
			defer adm.Close()
			results, err := deleteGroups(ctx, adm, args...)
			if err != nil {
				return err
			}
			deleted := []string{}
			var errs []error
			for _, group := range args {
				if gerr := results[group]; gerr != nil {
					errs = append(errs, fmt.Errorf("delete group %q: %w", group, gerr))
					continue
				}
				deleted = append(deleted, group)
			}
			if g.output == "json" {
				if err := writeJSON(cmd.OutOrStdout(), map[string][]string{"deleted": deleted}); err != nil {
					return err
				}
			} else {
				for _, group := range deleted {
					fmt.Fprintf(cmd.OutOrStdout(), "Deleted group %s.\n", group)
				}
			}
			return errors.Join(errs...)
		},
	}
}
