package cli

// kafka-topics.sh: Kafka's TopicCommand, with its flags and its output byte
// for byte (describe header and partition lines, "Created topic X.", the
// error texts), except that warnings and errors go to stderr and every
// failure exits non-zero.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// kafkaTopicsOptions are kafka-topics' flags.
type kafkaTopicsOptions struct {
	server                                 string
	list, create, delete, alter, describe  bool
	topic, topicID                         string
	configs                                []string
	partitions                             int
	replicationFactor                      int
	underReplicated, unavailable           bool
	underMinISR, atMinISR, withOverrides   bool
	ifExists, ifNotExists, excludeInternal bool
	partitionSizeLimit                     int

	partitionsSet, rfSet bool // --partitions, --replication-factor given
}

// topicCommandError is how TopicCommand reports a failed request:
// "Error while executing topic command : " and the broker's message.
func topicCommandError(err error) error {
	var be *brokerError
	if errors.As(err, &be) {
		return kafkaErrorf("Error while executing topic command : %s", be.Error())
	}
	if errors.Is(err, errUnreachable) {
		return err
	}
	return kafkaErrorf("Error while executing topic command : %w", err)
}

func newKafkaTopicsCmd() *cobra.Command {
	o := &kafkaTopicsOptions{}
	cmd := newKafkaCmd("kafka-topics", "Kafka's kafka-topics.sh: create, delete, describe, or change a topic")
	cmd.Long = "This tool helps to create, delete, describe, or change a topic (Kafka's kafka-topics.sh,\n" +
		"answered by samsa). Exactly one action: --list, --describe, --create, --alter or --delete."
	cmd.Example = "  kafka-topics.sh --bootstrap-server localhost:9092 --create --topic post.office\n" +
		"  kafka-topics.sh --bootstrap-server localhost:9092 --alter --topic post.office --partitions 5"
	fs := cmd.Flags()
	fs.StringVar(&o.server, "bootstrap-server", "", "the Kafka server to connect to (default: $"+brokersEnv+" or "+defaultBrokers+")")
	fs.BoolVar(&o.list, "list", false, "list all available topics")
	fs.BoolVar(&o.create, "create", false, "create a new topic")
	fs.BoolVar(&o.delete, "delete", false, "delete a topic")
	fs.BoolVar(&o.alter, "alter", false, "alter the number of partitions")
	fs.BoolVar(&o.describe, "describe", false, "list details for the given topics")
	fs.StringVar(&o.topic, "topic", "", "the topic to create, alter, describe or delete; a regular expression except with --create")
	fs.StringVar(&o.topicID, "topic-id", "", "the topic id to describe")
	fs.StringArrayVar(&o.configs, "config", nil, "a topic configuration override name=value for the topic being created")
	fs.IntVar(&o.partitions, "partitions", 0, "the number of partitions for the topic being created or altered")
	fs.IntVar(&o.replicationFactor, "replication-factor", 0, "the replication factor for each partition in the topic being created")
	fs.BoolVar(&o.underReplicated, "under-replicated-partitions", false, "when describing, only show under-replicated partitions")
	fs.BoolVar(&o.unavailable, "unavailable-partitions", false, "when describing, only show partitions whose leader is not available")
	fs.BoolVar(&o.underMinISR, "under-min-isr-partitions", false, "when describing, only show partitions whose isr count is less than the configured minimum")
	fs.BoolVar(&o.atMinISR, "at-min-isr-partitions", false, "when describing, only show partitions whose isr count is equal to the configured minimum")
	fs.BoolVar(&o.withOverrides, "topics-with-overrides", false, "when describing, only show topics that have overridden configs")
	fs.BoolVar(&o.ifExists, "if-exists", false, "when altering, deleting or describing, only act if the topic exists")
	fs.BoolVar(&o.ifNotExists, "if-not-exists", false, "when creating, do not fail if the topic already exists")
	fs.BoolVar(&o.excludeInternal, "exclude-internal", false, "exclude internal topics when listing or describing")
	fs.IntVar(&o.partitionSizeLimit, "partition-size-limit-per-response", 0, "accepted for compatibility; samsa describes all partitions at once")
	un := &unsupportedFlags{fs: fs}
	un.add(false, "command-config", "replica-assignment", "delete-config")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := un.check(); err != nil {
			return err
		}
		if err := o.check(cmd); err != nil {
			return err
		}
		ctx := cmd.Context()
		adm, err := kafkaAdmin(ctx, o.server)
		if err != nil {
			return err
		}
		defer adm.Close()
		out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
		switch {
		case o.create:
			err = o.runCreate(ctx, adm, out, errw)
		case o.list:
			err = o.runList(ctx, adm, out)
		case o.describe:
			err = o.runDescribe(ctx, adm, out)
		case o.alter:
			err = o.runAlter(ctx, adm)
		case o.delete:
			err = o.runDelete(ctx, adm)
		}
		return err
	}
	return cmd
}

// check validates the flag combination as TopicCommandOptions does.
func (o *kafkaTopicsOptions) check(cmd *cobra.Command) error {
	fs := cmd.Flags()
	o.partitionsSet, o.rfSet = fs.Changed("partitions"), fs.Changed("replication-factor")
	actions := 0
	for _, a := range []bool{o.create, o.list, o.alter, o.describe, o.delete} {
		if a {
			actions++
		}
	}
	if actions != 1 {
		return usagef("Command must include exactly one action: --list, --describe, --create, --alter or --delete")
	}
	if !o.list && !o.describe && o.topic == "" {
		return usagef("Missing required argument \"[topic]\"")
	}
	only := func(flag string, allowed bool, with string) error {
		if fs.Changed(flag) && !allowed {
			return usagef("Option \"[%s]\" can't be used with option \"[%s]\"; it works only with %s", flag, o.action(), with)
		}
		return nil
	}
	if o.alter && fs.Changed("config") {
		return usagef("Option \"[config]\" can't be used with option \"[alter]\" (To alter topic configurations, use: samsa topic alter TOPIC -c key=value)")
	}
	if o.alter && !fs.Changed("partitions") {
		return usagef("Missing required argument \"[partitions]\"")
	}
	checks := []error{
		only("config", o.create, "--create"),
		only("partitions", o.create || o.alter, "--create and --alter"),
		only("replication-factor", o.create, "--create"),
		only("if-exists", o.alter || o.delete || o.describe, "--alter, --delete and --describe"),
		only("if-not-exists", o.create, "--create"),
		only("exclude-internal", o.list || o.describe, "--list and --describe"),
		only("topic-id", o.describe, "--describe"),
	}
	for _, f := range []string{"under-replicated-partitions", "unavailable-partitions", "under-min-isr-partitions", "at-min-isr-partitions", "topics-with-overrides"} {
		checks = append(checks, only(f, o.describe, "--describe"))
	}
	if o.withOverrides && (o.underReplicated || o.unavailable || o.underMinISR || o.atMinISR) {
		checks = append(checks, usagef("Option \"[topics-with-overrides]\" can't be used with the partition report options"))
	}
	return errors.Join(checks...)
}

// action names the chosen action flag.
func (o *kafkaTopicsOptions) action() string {
	switch {
	case o.create:
		return "create"
	case o.list:
		return "list"
	case o.alter:
		return "alter"
	case o.describe:
		return "describe"
	}
	return "delete"
}

func (o *kafkaTopicsOptions) runCreate(ctx context.Context, adm *kadm.Client, out, errw io.Writer) error {
	spec := topicSpec{name: o.topic, partitions: -1, replicationFactor: -1}
	if o.rfSet {
		if o.replicationFactor < 1 || o.replicationFactor > 32767 {
			return kafkaErrorf("The replication factor must be between 1 and 32767 inclusive")
		}
		spec.replicationFactor = int16(o.replicationFactor)
	}
	if o.partitionsSet {
		if o.partitions < 1 {
			return kafkaErrorf("The partitions must be greater than 0")
		}
		spec.partitions = int32(o.partitions)
	}
	var err error
	if spec.configs, err = parseConfigs(o.configs); err != nil {
		return kafkaErrorf("requirement failed: Invalid topic config: all configs to be added must be in the format \"key=val\".")
	}
	if hasCollisionChars(spec.name) {
		fmt.Fprintln(errw, collisionWarning)
	}
	if _, err := createTopic(ctx, adm, spec); err != nil {
		if o.ifNotExists && errors.Is(err, kerr.TopicAlreadyExists) {
			return nil
		}
		return topicCommandError(err)
	}
	fmt.Fprintf(out, "Created topic %s.\n", spec.name)
	return nil
}

// topics returns the sorted topic names --topic selects (all without it),
// internal ones unless --exclude-internal. With requireExists, an empty
// selection of a named topic fails as Kafka's ensureTopicExists does.
func (o *kafkaTopicsOptions) topics(ctx context.Context, adm *kadm.Client, requireExists bool) ([]string, kadm.TopicDetails, error) {
	names, tds, err := topicNames(ctx, adm, !o.excludeInternal)
	if err != nil {
		return nil, nil, topicCommandError(err)
	}
	if o.topic == "" {
		return names, tds, nil
	}
	match := topicMatcher(o.topic)
	var out []string
	for _, n := range names {
		if match(n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 && requireExists && !o.ifExists {
		return nil, nil, kafkaErrorf("Topic '%s' does not exist as expected", o.topic)
	}
	return out, tds, nil
}

func (o *kafkaTopicsOptions) runList(ctx context.Context, adm *kadm.Client, out io.Writer) error {
	names, _, err := o.topics(ctx, adm, false)
	if err != nil {
		return err
	}
	for _, n := range names {
		fmt.Fprintln(out, n)
	}
	return nil
}

func (o *kafkaTopicsOptions) runDelete(ctx context.Context, adm *kadm.Client) error {
	names, _, err := o.topics(ctx, adm, true)
	if err != nil || len(names) == 0 {
		return err
	}
	results, err := deleteTopics(ctx, adm, names...)
	if err != nil {
		return topicCommandError(err)
	}
	for _, n := range names {
		if results[n] != nil {
			return topicCommandError(results[n])
		}
	}
	return nil
}

func (o *kafkaTopicsOptions) runAlter(ctx context.Context, adm *kadm.Client) error {
	names, _, err := o.topics(ctx, adm, true)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := alterPartitions(ctx, adm, n, o.partitions); err != nil {
			return topicCommandError(err)
		}
	}
	return nil
}

func (o *kafkaTopicsOptions) runDescribe(ctx context.Context, adm *kadm.Client, out io.Writer) error {
	var names []string
	var tds kadm.TopicDetails
	var err error
	if o.topicID != "" {
		names, tds, err = topicNames(ctx, adm, !o.excludeInternal)
		if err != nil {
			return topicCommandError(err)
		}
		var found []string
		for _, n := range names {
			if kafkaTopicID(tds[n].ID) == o.topicID {
				found = append(found, n)
			}
		}
		if len(found) == 0 && !o.ifExists {
			return kafkaErrorf("TopicId '%s' does not exist as expected", o.topicID)
		}
		names = found
	} else if names, tds, err = o.topics(ctx, adm, true); err != nil {
		return err
	}
	cfgs, err := topicConfigs(ctx, adm, names...)
	if err != nil {
		return topicCommandError(err)
	}
	reportConfigs := !o.underReplicated && !o.unavailable && !o.underMinISR && !o.atMinISR
	for _, n := range names {
		td := tds[n]
		ps := td.Partitions.Sorted()
		cs := cfgs[n]
		if reportConfigs && len(ps) > 0 && (!o.withOverrides || len(overrides(cs)) > 0) {
			writeKafkaTopicLine(out, td, cs)
		}
		if o.withOverrides {
			continue
		}
		minISR := minInSyncReplicas(cs)
		for _, p := range ps {
			show := reportConfigs ||
				(o.underReplicated && len(p.ISR) < len(p.Replicas)) ||
				(o.unavailable && p.Leader < 0) ||
				(o.underMinISR && (p.Leader < 0 || len(p.ISR) < minISR)) ||
				(o.atMinISR && len(p.ISR) == minISR)
			if show {
				writeKafkaPartitionLine(out, n, p)
			}
		}
	}
	return nil
}

// writeKafkaTopicLine prints TopicCommand's describe header line.
func writeKafkaTopicLine(w io.Writer, td kadm.TopicDetail, cs []kadm.Config) {
	var b strings.Builder
	b.WriteString("Topic: " + td.Topic)
	if id := kafkaTopicID(td.ID); id != "" {
		b.WriteString("\tTopicId: " + id)
	}
	fmt.Fprintf(&b, "\tPartitionCount: %d", len(td.Partitions))
	fmt.Fprintf(&b, "\tReplicationFactor: %d", replicationFactor(td))
	ov := overrides(cs)
	kv := make([]string, len(ov))
	for i, c := range ov {
		kv[i] = c.Key + "=" + configValue(c)
	}
	b.WriteString("\tConfigs: " + strings.Join(kv, ","))
	fmt.Fprintln(w, b.String())
}

// writeKafkaPartitionLine prints one partition line of TopicCommand's
// describe. Elr and LastKnownElr are "N/A", as Kafka's tool prints them for
// a broker that answers Metadata but not DescribeTopicPartitions.
func writeKafkaPartitionLine(w io.Writer, topic string, p kadm.PartitionDetail) {
	leader := "none"
	if p.Leader >= 0 {
		leader = strconv.Itoa(int(p.Leader))
	}
	fmt.Fprintf(w, "\tTopic: %s\tPartition: %d\tLeader: %s\tReplicas: %s\tIsr: %s\tElr: N/A\tLastKnownElr: N/A\n",
		topic, p.Partition, leader, joinInt32(p.Replicas), joinInt32(p.ISR))
}

// minInSyncReplicas reads min.insync.replicas from a topic's configs
// (1 when absent).
func minInSyncReplicas(cs []kadm.Config) int {
	for _, c := range cs {
		if c.Key == "min.insync.replicas" && c.Value != nil {
			if n, err := strconv.Atoi(*c.Value); err == nil {
				return n
			}
		}
	}
	return 1
}
