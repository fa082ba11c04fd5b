package cli

// `samsa topic describe [TOPIC...]`: partitions with leader, replicas, ISR,
// start and end offsets and message counts, and the configs that are not
// at their default.

import (
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// kafkaTopicID prints a topic ID the way Kafka does (URL-safe base64
// without padding); "" for the zero ID.
func kafkaTopicID(id kadm.TopicID) string {
	if id == (kadm.TopicID{}) {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(id[:])
}

// describedPartition is one partition as `samsa topic describe` shows it.
type describedPartition struct {
	Partition   int32   `json:"partition"`
	Leader      int32   `json:"leader"`
	Replicas    []int32 `json:"replicas"`
	ISR         []int32 `json:"isr"`
	StartOffset int64   `json:"start_offset"`
	EndOffset   int64   `json:"end_offset"`
	Messages    int64   `json:"messages"`
}

// describedTopic is one topic as `samsa topic describe` shows it.
type describedTopic struct {
	Topic             string               `json:"topic"`
	ID                string               `json:"id"`
	ReplicationFactor int                  `json:"replication_factor"`
	Configs           map[string]string    `json:"configs"` // only those not at their default
	Partitions        []describedPartition `json:"partitions"`
	configOrder       []string
}

func newTopicDescribeCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "describe [TOPIC...]",
		Short: "Show partitions (leader, replicas, ISR, offsets, messages) and configs of topics",
		Long:  "Show each partition's leader, replicas, in-sync replicas, start and end offsets\nand message count, and the topic configs not at their default. No TOPIC: all topics.",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			adm, err := g.admin(ctx)
			if err != nil {
				return err
			}
			defer adm.Close()
			tds := make(kadm.TopicDetails)
			names := args
			if len(args) == 0 {
				names, tds, err = topicNames(ctx, adm, false)
				if err != nil {
					return err
				}
			} else {
				for _, name := range args {
					td, err := topicDetail(ctx, adm, name)
					if err != nil {
						return err
					}
					tds[name] = td
				}
			}
			offs, err := listPartitionOffsets(ctx, adm, names...)
			if err != nil {
				return err
			}
			cfgs, err := topicConfigs(ctx, adm, names...)
			if err != nil {
				return err
			}
			out := make([]describedTopic, 0, len(names))
			for _, name := range names {
				td := tds[name]
				dt := describedTopic{Topic: name, ID: kafkaTopicID(td.ID), ReplicationFactor: replicationFactor(td), Configs: map[string]string{}}
				for _, c := range overrides(cfgs[name]) {
					dt.Configs[c.Key] = configValue(c)
					dt.configOrder = append(dt.configOrder, c.Key)
				}
				for _, p := range td.Partitions.Sorted() {
					o := offs[name][p.Partition]
					dt.Partitions = append(dt.Partitions, describedPartition{
						Partition: p.Partition, Leader: p.Leader, Replicas: p.Replicas, ISR: p.ISR,
						StartOffset: o[0], EndOffset: o[1], Messages: o[1] - o[0],
					})
				}
				out = append(out, dt)
			}
			if g.output == "json" {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			for i, dt := range out {
				if i > 0 {
					fmt.Fprintln(cmd.OutOrStdout())
				}
				if err := dt.write(cmd.OutOrStdout()); err != nil {
					return err
				}
			}
			return nil
		},
	}
	return cmd
}

// write prints dt as a heading and a partition table.
func (dt *describedTopic) write(w io.Writer) error {
	var total int64
	for _, p := range dt.Partitions {
		total += p.Messages
	}
	fmt.Fprintf(w, "Topic: %s  ID: %s  Partitions: %d  Replication factor: %d  Messages: %d\n",
		dt.Topic, orDash(dt.ID), len(dt.Partitions), dt.ReplicationFactor, total)
	if len(dt.configOrder) > 0 {
		kv := make([]string, len(dt.configOrder))
		for i, k := range dt.configOrder {
			kv[i] = k + "=" + dt.Configs[k]
		}
		fmt.Fprintf(w, "Configs: %s\n", strings.Join(kv, ","))
	}
	t := newTable("PARTITION", "LEADER", "REPLICAS", "ISR", "START-OFFSET", "END-OFFSET", "MESSAGES")
	for _, p := range dt.Partitions {
		leader := fmt.Sprint(p.Leader)
		if p.Leader < 0 {
			leader = "none"
		}
		t.add(p.Partition, leader, joinInt32(p.Replicas), joinInt32(p.ISR), p.StartOffset, p.EndOffset, p.Messages)
	}
	return t.write(w)
}
