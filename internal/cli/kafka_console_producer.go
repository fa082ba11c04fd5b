package cli

// kafka-console-producer.sh: Kafka's ConsoleProducer. One record per line
// of stdin, Kafka's reader properties (parse.key, key.separator,
// parse.headers ...), the ">" prompt only on a terminal.

import (
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaProducerOptions are kafka-console-producer's flags.
type kafkaProducerOptions struct {
	server, brokerList string
	topic              string
	props, readerProps []string
	producerProps      []string
	commandProps       []string
	compression        string
	sync               bool
	acks               string
	lingerMs           int64
	batchSize          int32
	requestTimeoutMs   int64
	retries            int
	retryBackoffMs     int64
}

func newKafkaConsoleProducerCmd() *cobra.Command {
	o := &kafkaProducerOptions{}
	cmd := newKafkaCmd("kafka-console-producer", "Kafka's kafka-console-producer.sh: one record per line of standard input")
	cmd.Long = "Read data from standard input and publish it to Kafka, one record per line\n" +
		"(Kafka's kafka-console-producer.sh, answered by samsa)."
	cmd.Example = "  echo '{\"to\": \"Alan Turing\"}' | kafka-console-producer.sh --bootstrap-server localhost:9092 --topic post.office\n" +
		"  kafka-console-producer.sh --bootstrap-server localhost:9092 --topic post.office --property parse.key=true --property key.separator=:"
	fs := cmd.Flags()
	fs.StringVar(&o.server, "bootstrap-server", "", "the server(s) to connect to (default: $"+brokersEnv+" or "+defaultBrokers+")")
	fs.StringVar(&o.brokerList, "broker-list", "", "deprecated name of --bootstrap-server")
	fs.StringVar(&o.topic, "topic", "", "REQUIRED: the topic to produce messages to")
	fs.StringArrayVar(&o.props, "property", nil, "reader property: parse.key, key.separator, parse.headers, headers.delimiter, headers.separator, headers.key.separator, ignore.error, null.marker")
	fs.StringArrayVar(&o.readerProps, "reader-property", nil, "Kafka 4.x name of --property")
	fs.StringArrayVar(&o.producerProps, "producer-property", nil, "producer setting key=value: acks, compression.type, linger.ms, batch.size, client.id, retries, request.timeout.ms, enable.idempotence")
	fs.StringArrayVar(&o.commandProps, "command-property", nil, "Kafka 4.x name of --producer-property")
	fs.StringVar(&o.compression, "compression-codec", "", "compression: none, gzip, snappy, lz4 or zstd (gzip if given without a value)")
	fs.Lookup("compression-codec").NoOptDefVal = "gzip"
	fs.BoolVar(&o.sync, "sync", false, "send each message synchronously")
	fs.StringVar(&o.acks, "request-required-acks", "-1", "acks: -1 (all), 1 or 0")
	fs.Int64Var(&o.lingerMs, "timeout", 0, "linger.ms: how long a batch waits to fill, in ms")
	fs.Int32Var(&o.batchSize, "batch-size", 0, "largest batch in bytes (0: client default)")
	fs.Int64Var(&o.requestTimeoutMs, "request-timeout-ms", 0, "produce request timeout in ms (0: client default)")
	fs.IntVar(&o.retries, "message-send-max-retries", -1, "retries per record (-1: until the delivery timeout)")
	fs.Int64Var(&o.retryBackoffMs, "retry-backoff-ms", 0, "wait between retries in ms (0: client default)")
	un := &unsupportedFlags{fs: fs}
	un.add(false, "producer.config", "command-config", "reader-config", "line-reader", "metadata-expiry-ms",
		"max-block-ms", "max-memory-bytes", "max-partition-memory-bytes", "socket-buffer-size")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := un.check(); err != nil {
			return err
		}
		if o.topic == "" {
			return usagef("Missing required argument \"[topic]\"")
		}
		if o.server == "" {
			o.server = o.brokerList
		}
		conn, err := kafkaBootstrap(o.server)
		if err != nil {
			return err
		}
		conn.clientID = "console-producer"
		cfg := produceConfig{
			topic: o.topic, partition: -1, acks: o.acks, compression: o.compression,
			linger: time.Duration(o.lingerMs) * time.Millisecond, sync: o.sync,
		}
		if cfg.compression == "" {
			cfg.compression = "none"
		}
		if len(o.props) > 0 && len(o.readerProps) > 0 {
			return usagef("Options --property and --reader-property cannot be specified together.")
		}
		rp, err := kafkaProps("property", append(o.props, o.readerProps...))
		if err != nil {
			return err
		}
		f, err := lineFormatFromProps(rp)
		if err != nil {
			return err
		}
		cfg.parse = f.parse
		if len(o.producerProps) > 0 && len(o.commandProps) > 0 {
			return usagef("Options --producer-property and --command-property cannot be specified together.")
		}
		pp, err := kafkaProps("producer-property", append(o.producerProps, o.commandProps...))
		if err != nil {
			return err
		}
		var extra []kgo.Opt
		for k, v := range pp {
			switch k {
			case "acks":
				cfg.acks = v
			case "compression.type":
				cfg.compression = v
			case "linger.ms":
				ms, err := strconv.ParseInt(v, 10, 64)
				if err != nil || ms < 0 {
					return usagef("--producer-property linger.ms=%s: give milliseconds >= 0", v)
				}
				cfg.linger = time.Duration(ms) * time.Millisecond
			case "batch.size":
				n, err := strconv.ParseInt(v, 10, 32)
				if err != nil || n <= 0 {
					return usagef("--producer-property batch.size=%s: give bytes > 0", v)
				}
				o.batchSize = int32(n)
			case "client.id":
				conn.clientID = v
			case "retries":
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					return usagef("--producer-property retries=%s: give a count >= 0", v)
				}
				o.retries = n
			case "request.timeout.ms":
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n <= 0 {
					return usagef("--producer-property request.timeout.ms=%s: give milliseconds > 0", v)
				}
				o.requestTimeoutMs = n
			case "enable.idempotence":
				if !propBool(pp, k, true) {
					extra = append(extra, kgo.DisableIdempotentWrite())
				}
			default:
				return usagef("--producer-property %s: not supported by samsa; use acks, compression.type, linger.ms, batch.size, client.id, retries, request.timeout.ms or enable.idempotence", k)
			}
		}
		if o.batchSize > 0 {
			extra = append(extra, kgo.ProducerBatchMaxBytes(o.batchSize))
		}
		if o.requestTimeoutMs > 0 {
			extra = append(extra, kgo.ProduceRequestTimeout(time.Duration(o.requestTimeoutMs)*time.Millisecond))
		}
		if o.retries >= 0 {
			extra = append(extra, kgo.RecordRetries(o.retries))
		}
		if o.retryBackoffMs > 0 {
			d := time.Duration(o.retryBackoffMs) * time.Millisecond
			extra = append(extra, kgo.RetryBackoffFn(func(int) time.Duration { return d }))
		}
		cfg.extraOpts = extra
		if in := stdinFile(cmd); in != nil && isTerminal(in) {
			cfg.prompt = true
		}
		ctx, stop := signalContext(cmd.Context())
		defer stop()
		return runProduce(ctx, conn, cfg, cmd.InOrStdin(), cmd.ErrOrStderr())
	}
	return cmd
}
