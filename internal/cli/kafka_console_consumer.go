package cli

// kafka-console-consumer.sh: Kafka's ConsoleConsumer. From the end unless
// --from-beginning; without --group it joins a console-consumer-<random>
// group that commits nothing, as Kafka's does; Ctrl-C exits 0 after
// committing (with --group).

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaConsumerOptions are kafka-console-consumer's flags.
type kafkaConsumerOptions struct {
	server                  string
	topic, include          string
	partition               int32
	offset                  string
	group                   string
	fromBeginning           bool
	maxMessages             int
	timeoutMs               int64
	props, formatterProps   []string
	consumerProps, cmdProps []string
	formatter               string
	keyDeser, valueDeser    string
	isolation               string
	skipOnError             bool
}

// The class names that mean Kafka's default formatter (before and since
// Kafka 3.8).
const (
	kafkaFormatterOld = "kafka.tools.DefaultMessageFormatter"
	kafkaFormatterNew = "org.apache.kafka.tools.consumer.DefaultMessageFormatter"
)

func newKafkaConsoleConsumerCmd() *cobra.Command {
	o := &kafkaConsumerOptions{}
	cmd := newKafkaCmd("kafka-console-consumer", "Kafka's kafka-console-consumer.sh: print records as they arrive")
	cmd.Long = "This tool helps to read data from Kafka topics and outputs it to standard output\n" +
		"(Kafka's kafka-console-consumer.sh, answered by samsa). Ctrl-C stops it."
	cmd.Example = "  kafka-console-consumer.sh --bootstrap-server localhost:9092 --topic post.office\n" +
		"  kafka-console-consumer.sh --bootstrap-server localhost:9092 --topic post.office --from-beginning --property print.key=true"
	fs := cmd.Flags()
	fs.StringVar(&o.server, "bootstrap-server", "", "the server(s) to connect to (default: $"+brokersEnv+" or "+defaultBrokers+")")
	fs.StringVar(&o.topic, "topic", "", "the topic to consume from")
	fs.StringVar(&o.include, "include", "", "regular expression of the topics to consume")
	fs.Int32Var(&o.partition, "partition", -1, "the partition to consume from; from its end unless --offset")
	fs.StringVar(&o.offset, "offset", "latest", "with --partition: earliest, latest or an offset")
	fs.StringVar(&o.group, "group", "", "the consumer group id")
	fs.BoolVar(&o.fromBeginning, "from-beginning", false, "start with the earliest message when the group has no committed offset")
	fs.IntVar(&o.maxMessages, "max-messages", -1, "exit after this many messages")
	fs.Int64Var(&o.timeoutMs, "timeout-ms", -1, "exit if no message arrived for this many milliseconds")
	fs.StringArrayVar(&o.props, "property", nil, "formatter property: print.key, print.timestamp, print.partition, print.offset, print.headers, print.value, key.separator, line.separator, headers.separator, null.literal")
	fs.StringArrayVar(&o.formatterProps, "formatter-property", nil, "Kafka 4.x name of --property")
	fs.StringArrayVar(&o.consumerProps, "consumer-property", nil, "consumer setting key=value: group.id, auto.offset.reset, client.id, isolation.level, enable.auto.commit, auto.commit.interval.ms, session.timeout.ms, group.instance.id")
	fs.StringArrayVar(&o.cmdProps, "command-property", nil, "Kafka 4.x name of --consumer-property")
	fs.StringVar(&o.formatter, "formatter", kafkaFormatterNew, "formatter class; only the default is supported")
	fs.StringVar(&o.keyDeser, "key-deserializer", "", "key deserializer; String and ByteArray deserializers are supported")
	fs.StringVar(&o.valueDeser, "value-deserializer", "", "value deserializer; String and ByteArray deserializers are supported")
	fs.StringVar(&o.isolation, "isolation-level", "read_uncommitted", "read_committed or read_uncommitted")
	fs.BoolVar(&o.skipOnError, "skip-message-on-error", false, "accepted for compatibility")
	un := &unsupportedFlags{fs: fs}
	un.add(false, "consumer.config", "command-config", "formatter-config")
	un.add(true, "enable-systest-events")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := un.check(); err != nil {
			return err
		}
		cfg, conn, err := o.config(cmd)
		if err != nil {
			return err
		}
		errw := cmd.ErrOrStderr()
		ctx, stop := signalContext(cmd.Context())
		defer stop()
		n, err := runConsume(ctx, conn, cfg, cmd.OutOrStdout(), errw)
		if err == nil || n > 0 {
			fmt.Fprintf(errw, "Processed a total of %d messages\n", n)
		}
		return err
	}
	return cmd
}

// config checks the flags as ConsoleConsumerOptions does and builds the
// consume configuration.
func (o *kafkaConsumerOptions) config(cmd *cobra.Command) (consumeConfig, connOptions, error) {
	fs := cmd.Flags()
	var cfg consumeConfig
	if (o.topic == "") == (o.include == "") {
		return cfg, connOptions{}, usagef("Exactly one of the following arguments is required: [topic], [include]")
	}
	if o.partition >= 0 {
		if o.topic == "" {
			return cfg, connOptions{}, usagef("The topic is required when partition is specified.")
		}
		if o.fromBeginning && fs.Changed("offset") {
			return cfg, connOptions{}, usagef("Options from-beginning and offset cannot be specified together.")
		}
	} else if fs.Changed("offset") {
		return cfg, connOptions{}, usagef("The partition is required when offset is specified.")
	}
	if !kafkaFormatterOK(o.formatter) {
		return cfg, connOptions{}, usagef("--formatter %s: not supported by samsa; only the default formatter (with --property print.key=true and friends)", o.formatter)
	}
	for flag, d := range map[string]string{"key-deserializer": o.keyDeser, "value-deserializer": o.valueDeser} {
		if d != "" && !strings.HasSuffix(d, "StringDeserializer") && !strings.HasSuffix(d, "ByteArrayDeserializer") {
			return cfg, connOptions{}, usagef("--%s %s: not supported by samsa; keys and values are printed as they are", flag, d)
		}
	}
	if len(o.props) > 0 && len(o.formatterProps) > 0 {
		return cfg, connOptions{}, usagef("Options --property and --formatter-property cannot be specified together.")
	}
	fp, err := kafkaProps("property", append(o.props, o.formatterProps...))
	if err != nil {
		return cfg, connOptions{}, err
	}
	if len(o.consumerProps) > 0 && len(o.cmdProps) > 0 {
		return cfg, connOptions{}, usagef("Options --consumer-property and --command-property cannot be specified together.")
	}
	cp, err := kafkaProps("consumer-property", append(o.consumerProps, o.cmdProps...))
	if err != nil {
		return cfg, connOptions{}, err
	}
	conn, err := kafkaBootstrap(o.server)
	if err != nil {
		return cfg, connOptions{}, err
	}
	conn.clientID = "console-consumer"

	cfg = consumeConfig{
		topic: o.topic, include: o.include, partition: o.partition,
		format: kafkaFormatterFromProps(fp), start: "latest",
	}
	if o.maxMessages > 0 {
		cfg.maxMessages = o.maxMessages
	}
	if o.timeoutMs >= 0 {
		cfg.idleTimeout = time.Duration(o.timeoutMs) * time.Millisecond
	}
	switch o.isolation {
	case "read_committed":
		cfg.readCommitted = true
	case "read_uncommitted":
	default:
		return cfg, conn, usagef("--isolation-level %q: use read_committed or read_uncommitted", o.isolation)
	}
	groupIDs := map[string]bool{}
	if o.group != "" {
		groupIDs[o.group] = true
	}
	reset, resetSet := "", false
	autoCommit, autoCommitSet := true, false
	for k, v := range cp {
		switch k {
		case "group.id":
			groupIDs[v] = true
		case "auto.offset.reset":
			reset, resetSet = v, true
		case "client.id":
			conn.clientID = v
		case "isolation.level":
			cfg.readCommitted = v == "read_committed"
		case "enable.auto.commit":
			autoCommit, autoCommitSet = propBool(cp, k, true), true
		case "auto.commit.interval.ms":
			ms, err := strconv.ParseInt(v, 10, 64)
			if err != nil || ms <= 0 {
				return cfg, conn, usagef("--consumer-property auto.commit.interval.ms=%s: give milliseconds > 0", v)
			}
			cfg.extraOpts = append(cfg.extraOpts, kgo.AutoCommitInterval(time.Duration(ms)*time.Millisecond))
		case "session.timeout.ms":
			ms, err := strconv.ParseInt(v, 10, 64)
			if err != nil || ms <= 0 {
				return cfg, conn, usagef("--consumer-property session.timeout.ms=%s: give milliseconds > 0", v)
			}
			cfg.extraOpts = append(cfg.extraOpts, kgo.SessionTimeout(time.Duration(ms)*time.Millisecond))
		case "group.instance.id":
			cfg.extraOpts = append(cfg.extraOpts, kgo.InstanceID(v))
		default:
			return cfg, conn, usagef("--consumer-property %s: not supported by samsa; use group.id, auto.offset.reset, client.id, isolation.level, enable.auto.commit, auto.commit.interval.ms, session.timeout.ms or group.instance.id", k)
		}
	}
	if len(groupIDs) > 1 {
		var ids []string
		for id := range groupIDs {
			ids = append(ids, "'"+id+"'")
		}
		return cfg, conn, usagef("The group ids provided in different places (directly using '--group', via '--consumer-property', or via '--consumer.config') do not match. Detected group ids: %s", strings.Join(ids, ", "))
	}
	for id := range groupIDs {
		cfg.group = id
	}
	if cfg.group != "" && o.partition >= 0 {
		return cfg, conn, usagef("Options group and partition cannot be specified together.")
	}
	switch {
	case resetSet:
		if o.fromBeginning && reset != "earliest" {
			return cfg, conn, kafkaErrorf("Can't simultaneously specify --from-beginning and 'auto.offset.reset=%s', please remove one option", reset)
		}
		if reset != "earliest" && reset != "latest" {
			return cfg, conn, usagef("--consumer-property auto.offset.reset=%s: use earliest or latest", reset)
		}
		cfg.start = reset
	case o.fromBeginning:
		cfg.start = "earliest"
	}
	if o.partition >= 0 && fs.Changed("offset") {
		cfg.start = o.offset
		if _, err := cfg.startOffset(); err != nil {
			return cfg, conn, usagef("The provided offset value '%s' is incorrect. Valid values are 'earliest', 'latest', or a non-negative long.", o.offset)
		}
	}
	switch {
	case o.partition >= 0:
		// Assigned directly: no group, nothing to commit.
	case cfg.group == "":
		// Kafka's console consumer always joins a group; one it names
		// itself commits nothing unless told to.
		cfg.group = fmt.Sprintf("console-consumer-%d", rand.IntN(100000))
		cfg.commit = autoCommitSet && autoCommit
	default:
		cfg.commit = autoCommit
	}
	return cfg, conn, nil
}

// kafkaFormatterOK reports whether class names the default formatter.
func kafkaFormatterOK(class string) bool {
	return class == kafkaFormatterOld || class == kafkaFormatterNew
}
