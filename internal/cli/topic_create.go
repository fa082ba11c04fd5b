package cli

// `samsa topic create TOPIC`: CreateTopics with the broker's defaults for
// whatever is not given.

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// topicSpec is what to create.
type topicSpec struct {
	name              string
	partitions        int32 // -1: the broker's default
	replicationFactor int16 // -1: the broker's default
	configs           map[string]*string
}

// createTopic creates spec. A broker refusal comes back as *brokerError.
func createTopic(ctx context.Context, adm *kadm.Client, spec topicSpec) (kadm.CreateTopicResponse, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	r, err := adm.CreateTopic(ctx, spec.partitions, spec.replicationFactor, spec.configs, spec.name)
	if err != nil {
		return r, err
	}
	if r.Err != nil {
		return r, &brokerError{err: r.Err, msg: r.ErrMessage}
	}
	return r, nil
}

func newTopicCreateCmd(g *globalOptions) *cobra.Command {
	var (
		partitions  int32
		rf          int16
		configs     []string
		ifNotExists bool
	)
	cmd := &cobra.Command{
		Use:   "create TOPIC",
		Short: "Create a topic",
		Long: "Create a topic. Without --partitions or --replication-factor the broker's\n" +
			"defaults apply (3 partitions and replication factor 1 for `samsa serve`).",
		Example: "  samsa topic create post.office\n  samsa topic create orders -p 6 -c retention.ms=86400000",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := g.resolve()
			if err != nil {
				return err
			}
			spec := topicSpec{name: args[0], partitions: partitions, replicationFactor: rf}
			if partitions == 0 || partitions < -1 {
				return usagef("--partitions %d: give a count >= 1 (or leave it out for the broker's default)", partitions)
			}
			if rf == 0 || rf < -1 {
				return usagef("--replication-factor %d: give a count >= 1 (or leave it out for the broker's default)", rf)
			}
			if spec.configs, err = parseConfigs(configs); err != nil {
				return err
			}
			ctx := cmd.Context()
			adm, err := conn.admin(ctx)
			if err != nil {
				return err
			}
			defer adm.Close()
			if hasCollisionChars(spec.name) && g.output == "table" {
				fmt.Fprintln(cmd.ErrOrStderr(), collisionWarning)
			}
			r, err := createTopic(ctx, adm, spec)
			switch {
			case errors.Is(err, kerr.TopicAlreadyExists):
				if ifNotExists {
					return nil
				}
				return fmt.Errorf("topic %q already exists; see: samsa topic describe %s", spec.name, spec.name)
			case err != nil:
				return fmt.Errorf("create topic %q: %w", spec.name, err)
			}
			if g.output == "json" {
				return writeJSON(cmd.OutOrStdout(), struct {
					Topic             string `json:"topic"`
					ID                string `json:"id"`
					Partitions        int32  `json:"partitions"`
					ReplicationFactor int16  `json:"replication_factor"`
				}{spec.name, kafkaTopicID(r.ID), r.NumPartitions, r.ReplicationFactor})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Created topic %s.\n", spec.name)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.Int32VarP(&partitions, "partitions", "p", -1, "number of partitions (default: the broker's)")
	fs.Int16VarP(&rf, "replication-factor", "r", -1, "replicas per partition (default: the broker's)")
	fs.StringArrayVarP(&configs, "config", "c", nil, "topic config key=value (repeatable)")
	fs.BoolVar(&ifNotExists, "if-not-exists", false, "succeed if the topic already exists")
	return cmd
}
