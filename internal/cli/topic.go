package cli

// `samsa topic`: the parent of the topic commands, and what they share with
// kafka-topics: creating, listing and describing topics through kadm.

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// collisionWarning is what Kafka's TopicCommand prints before creating a
// topic whose name has a '.' or a '_'.
const collisionWarning = "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both."

// hasCollisionChars reports whether Kafka would warn about topic's name.
func hasCollisionChars(topic string) bool {
	return strings.ContainsAny(topic, "._")
}

// newTopicCmd returns `samsa topic` with its subcommands.
func newTopicCmd() *cobra.Command {
	g := &globalOptions{}
	cmd := &cobra.Command{
		Use:   "topic",
		Short: "Create, list, describe, alter and delete topics",
		Args:  cobra.NoArgs,
	}
	addGlobalFlags(cmd, g)
	cmd.AddCommand(
		newTopicCreateCmd(g),
		newTopicListCmd(g),
		newTopicDescribeCmd(g),
		newTopicAlterCmd(g),
		newTopicDeleteCmd(g),
	)
	return cmd
}

// parseConfigs turns key=value pairs into a config map for CreateTopics.
func parseConfigs(pairs []string) (map[string]*string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	m := make(map[string]*string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, usagef("config %q: use key=value, e.g. retention.ms=86400000", p)
		}
		m[k] = &v
	}
	return m, nil
}

// topicNames returns the names of every topic, sorted; internal topics only
// when internal is set.
func topicNames(ctx context.Context, adm *kadm.Client, internal bool) ([]string, kadm.TopicDetails, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var tds kadm.TopicDetails
	var err error
	if internal {
		tds, err = adm.ListTopicsWithInternal(ctx)
	} else {
		tds, err = adm.ListTopics(ctx)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("list topics: %w", err)
	}
	names := make([]string, 0, len(tds))
	for name, td := range tds {
		if td.Err != nil {
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names, tds, nil
}

// topicMatcher returns a test for topic names the way Kafka's --topic
// works: the value is a regular expression that must match the whole name
// (so "post.office" matches itself). A value that does not compile matches
// only itself.
func topicMatcher(pattern string) func(string) bool {
	re, err := regexp.Compile("^(?:" + pattern + ")$")
	if err != nil {
		return func(name string) bool { return name == pattern }
	}
	return re.MatchString
}

// partitionOffsets are the start and end offsets of every partition of
// some topics, by topic and partition.
type partitionOffsets map[string]map[int32][2]int64

// listPartitionOffsets lists the start and end offsets of topics.
func listPartitionOffsets(ctx context.Context, adm *kadm.Client, topics ...string) (partitionOffsets, error) {
	out := make(partitionOffsets)
	if len(topics) == 0 {
		return out, nil
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list start offsets: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	starts.Each(func(o kadm.ListedOffset) {
		if o.Err != nil || o.Partition < 0 {
			return
		}
		if out[o.Topic] == nil {
			out[o.Topic] = make(map[int32][2]int64)
		}
		v := out[o.Topic][o.Partition]
		v[0] = o.Offset
		out[o.Topic][o.Partition] = v
	})
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil || o.Partition < 0 {
			return
		}
		if out[o.Topic] == nil {
			out[o.Topic] = make(map[int32][2]int64)
		}
		v := out[o.Topic][o.Partition]
		v[1] = o.Offset
		out[o.Topic][o.Partition] = v
	})
	return out, nil
}

// messages is the number of records a topic holds (end minus start over
// its partitions; for a compacted topic an upper bound).
func (po partitionOffsets) messages(topic string) int64 {
	var n int64
	for _, v := range po[topic] {
		n += v[1] - v[0]
	}
	return n
}

// topicConfigs returns the configs of topics as the broker describes them.
func topicConfigs(ctx context.Context, adm *kadm.Client, topics ...string) (map[string][]kadm.Config, error) {
	out := make(map[string][]kadm.Config, len(topics))
	if len(topics) == 0 {
		return out, nil
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	rcs, err := adm.DescribeTopicConfigs(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("describe topic configs: %w", err)
	}
	for _, rc := range rcs {
		if rc.Err != nil {
			return nil, fmt.Errorf("describe configs of topic %q: %w", rc.Name, rc.Err)
		}
		out[rc.Name] = rc.Configs
	}
	return out, nil
}

// overrides are the configs not at their default (Kafka's !isDefault:
// the source is anything but DEFAULT_CONFIG), in the broker's order.
func overrides(cs []kadm.Config) []kadm.Config {
	var out []kadm.Config
	for _, c := range cs {
		if c.Source != kmsg.ConfigSourceDefaultConfig {
			out = append(out, c)
		}
	}
	return out
}

// configValue prints a config value ("null" for a sensitive or unset one).
func configValue(c kadm.Config) string {
	if c.Value == nil {
		return "null"
	}
	return *c.Value
}

// replicationFactor is Kafka's replication factor of a topic: the replica
// count of its first partition.
func replicationFactor(td kadm.TopicDetail) int {
	ps := td.Partitions.Sorted()
	if len(ps) == 0 {
		return 0
	}
	return len(ps[0].Replicas)
}

// alterPartitions sets the partition count of topic; errors carry the
// broker's message.
func alterPartitions(ctx context.Context, adm *kadm.Client, topic string, n int) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	rs, err := adm.UpdatePartitions(ctx, n, topic)
	if err != nil {
		return err
	}
	r, ok := rs[topic]
	if !ok {
		return fmt.Errorf("no answer for topic %q", topic)
	}
	if r.Err != nil {
		return &brokerError{err: r.Err, msg: r.ErrMessage}
	}
	return nil
}

// brokerError is a per-resource error a broker returned, with its message.
type brokerError struct {
	err error
	msg string // the broker's ErrorMessage; may be empty
}

func (e *brokerError) Error() string { return kafkaErrText(e.err, e.msg) }
func (e *brokerError) Unwrap() error { return e.err }

// isInvalidPartitions reports whether err is the broker refusing a
// partition count (a decrease, or a count that is not positive).
func isInvalidPartitions(err error) bool {
	return errors.Is(err, kerr.InvalidPartitions)
}
