package cli

// `samsa topic alter TOPIC`: more partitions (CreatePartitions) and config
// changes (IncrementalAlterConfigs).

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// alterTopicConfigs sets and deletes configs of topic.
func alterTopicConfigs(ctx context.Context, adm *kadm.Client, topic string, set map[string]*string, del []string) error {
	var alters []kadm.AlterConfig
	for k, v := range set {
		alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: v})
	}
	for _, k := range del {
		alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
	}
	if len(alters) == 0 {
		return nil
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	rs, err := adm.AlterTopicConfigs(ctx, alters, topic)
	if err != nil {
		return fmt.Errorf("alter configs of topic %q: %w", topic, err)
	}
	for _, r := range rs {
		if r.Err != nil {
			return fmt.Errorf("alter configs of topic %q: %w", topic, &brokerError{err: r.Err, msg: r.ErrMessage})
		}
	}
	return nil
}

func newTopicAlterCmd(g *globalOptions) *cobra.Command {
	var (
		partitions int
		configs    []string
		deletes    []string
	)
	cmd := &cobra.Command{
		Use:   "alter TOPIC",
		Short: "Add partitions to a topic or change its configs",
		Long: "Raise a topic's partition count (it can only grow) or set and delete its configs.\n" +
			"Records with a key may go to a different partition after the count changes.",
		Example: "  samsa topic alter post.office --partitions 5\n  samsa topic alter orders -c retention.ms=3600000 --delete-config cleanup.policy",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := g.resolve()
			if err != nil {
				return err
			}
			topic := args[0]
			set, err := parseConfigs(configs)
			if err != nil {
				return err
			}
			fs := cmd.Flags()
			if !fs.Changed("partitions") && len(set) == 0 && len(deletes) == 0 {
				return usagef("nothing to alter: give --partitions N, --config key=value or --delete-config key")
			}
			if fs.Changed("partitions") && partitions < 1 {
				return usagef("--partitions %d: give a count >= 1", partitions)
			}
			ctx := cmd.Context()
			adm, err := conn.admin(ctx)
			if err != nil {
				return err
			}
			defer adm.Close()
			if _, err := topicDetail(ctx, adm, topic); err != nil {
				return err
			}
			if fs.Changed("partitions") {
				if err := alterPartitions(ctx, adm, topic, partitions); err != nil {
					if isInvalidPartitions(err) {
						return fmt.Errorf("alter topic %q: %w (partitions can only be increased)", topic, err)
					}
					return fmt.Errorf("alter topic %q: %w", topic, err)
				}
			}
			if err := alterTopicConfigs(ctx, adm, topic, set, deletes); err != nil {
				return err
			}
			if g.output == "json" {
				return writeJSON(cmd.OutOrStdout(), map[string]string{"altered": topic})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Altered topic %s.\n", topic)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.IntVarP(&partitions, "partitions", "p", 0, "new partition count (must be larger than the current one)")
	fs.StringArrayVarP(&configs, "config", "c", nil, "set a topic config key=value (repeatable)")
	fs.StringArrayVar(&deletes, "delete-config", nil, "remove a topic config override, back to the default (repeatable)")
	return cmd
}
