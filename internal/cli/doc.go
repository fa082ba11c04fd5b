// Package cli holds the CLI commands; they are Kafka clients (franz-go
// kgo/kadm) and import no broker internals, so they work against any
// Kafka-compatible cluster, not only Samsa.
//
// Two families of commands share one set of helpers:
//
//   - samsa's own commands, one file each, named noun_verb.go: topic
//     create|list|describe|alter|delete, produce, consume, group
//     list|describe|seek|delete, cluster info, install-scripts, and bench
//     (bench*.go). They take --brokers/-b (or -X brokers=, or
//     SAMSA_BROKERS; default 127.0.0.1:9092) and --output table|json.
//   - Kafka's scripts, kafka_*.go: kafka-topics, kafka-console-producer,
//     kafka-console-consumer, kafka-consumer-groups and kafka-configs
//     (topics and brokers), with Kafka's flags
//     (old and Kafka 4.x names) and Kafka's output byte for byte where
//     students read it (describe lines, "Created topic X.", the group
//     tables, the error texts). The binary answers to these names when
//     called through a link (argv[0], see KafkaScript and install-scripts)
//     and as subcommands (`samsa kafka-topics ...`).
//
// Unlike Kafka's tools, data goes to stdout and warnings, progress and
// errors to stderr; every failure exits 1 and a wrong command line exits 2
// (usageError). Errors say what to do next. An unreachable broker fails
// within seconds (a short dial timeout and a ping before any work) with
// "cannot reach HOST:PORT: is `samsa serve` running?".
//
// Shared pieces: client.go (flags, connecting, errors), output.go (tables
// and JSON), topic.go and group.go (what the topic and group commands of
// both families gather through kadm), produce.go and consume.go (the
// produce and consume loops both families run), produce_parse.go (Kafka's
// line reader properties and samsa's JSON lines), consume_format.go
// (Kafka's DefaultMessageFormatter, templates, JSON), group_seek.go (the
// offset reset plan).
//
// May import: franz-go (kgo, kadm, kmsg, kerr), cobra, pflag,
// golang.org/x/sys (terminal detection), the standard library. Nothing of
// ours.
//
// Start reading at cli.go (AddCommands, KafkaScript, Run), then the
// command you care about.
package cli
