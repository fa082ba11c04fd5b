package cli

// `samsa topic delete TOPIC...`: DeleteTopics.

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// deleteTopics deletes topics and returns each topic's result: nil or a
// *brokerError.
func deleteTopics(ctx context.Context, adm *kadm.Client, topics ...string) (map[string]error, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	rs, err := adm.DeleteTopics(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("delete topics: %w", err)
	}
	out := make(map[string]error, len(topics))
	for _, t := range topics {
		r, ok := rs[t]
		switch {
		case !ok:
			out[t] = fmt.Errorf("no answer for topic %q", t)
		case r.Err != nil:
			out[t] = &brokerError{err: r.Err, msg: r.ErrMessage}
		default:
			out[t] = nil
		}
	}
	return out, nil
}

func newTopicDeleteCmd(g *globalOptions) *cobra.Command {
	var ifExists bool
	cmd := &cobra.Command{
		Use:   "delete TOPIC...",
		Short: "Delete topics and all their records",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			adm, err := g.admin(ctx)
			if err != nil {
				return err
			}
			defer adm.Close()
			results, err := deleteTopics(ctx, adm, args...)
			if err != nil {
				return err
			}
			deleted := []string{}
			var errs []error
			for _, t := range args {
				switch terr := results[t]; {
				case terr == nil:
					deleted = append(deleted, t)
				case errors.Is(terr, kerr.UnknownTopicOrPartition):
					if !ifExists {
						errs = append(errs, topicNotFound(t))
					}
				default:
					errs = append(errs, fmt.Errorf("delete topic %q: %w", t, terr))
				}
			}
			if g.output == "json" {
				if err := writeJSON(cmd.OutOrStdout(), map[string][]string{"deleted": deleted}); err != nil {
					return err
				}
			} else {
				for _, t := range deleted {
					fmt.Fprintf(cmd.OutOrStdout(), "Deleted topic %s.\n", t)
				}
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().BoolVar(&ifExists, "if-exists", false, "succeed if a topic does not exist")
	return cmd
}
