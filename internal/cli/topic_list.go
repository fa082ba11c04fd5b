package cli

// `samsa topic list`: every topic with its partition count, replication
// factor and number of messages.

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newTopicListCmd(g *globalOptions) *cobra.Command {
	var internal bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List topics with partitions, replication factor and message counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			adm, err := g.admin(ctx)
			if err != nil {
				return err
			}
			defer adm.Close()
			names, tds, err := topicNames(ctx, adm, internal)
			if err != nil {
				return err
			}
			offs, err := listPartitionOffsets(ctx, adm, names...)
			if err != nil {
				return err
			}
			type row struct {
				Topic             string `json:"topic"`
				ID                string `json:"id"`
				Partitions        int    `json:"partitions"`
				ReplicationFactor int    `json:"replication_factor"`
				Messages          int64  `json:"messages"`
				Internal          bool   `json:"internal,omitempty"`
			}
			rows := make([]row, 0, len(names))
			for _, name := range names {
				td := tds[name]
				rows = append(rows, row{name, kafkaTopicID(td.ID), len(td.Partitions), replicationFactor(td), offs.messages(name), td.IsInternal})
			}
			if g.output == "json" {
				return writeJSON(cmd.OutOrStdout(), rows)
			}
			if len(rows) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "no topics yet; create one with: samsa topic create NAME")
				return nil
			}
			t := newTable("TOPIC", "PARTITIONS", "REPLICATION-FACTOR", "MESSAGES")
			for _, r := range rows {
				t.add(r.Topic, r.Partitions, r.ReplicationFactor, r.Messages)
			}
			return t.write(cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&internal, "internal", false, "include internal topics (__consumer_offsets ...)")
	return cmd
}
