// Package cli holds the CLI commands; they are Kafka clients (franz-go kgo/kadm)
// and import no broker internals.
//
// Each command lives in its own file named after it (bench.go is `samsa bench`,
// bench_produce.go its produce mode, and so on) and exposes one constructor,
// such as NewBenchCmd, that cmd/samsa adds to the root command. Because the
// commands only speak the Kafka protocol, they work against any
// Kafka-compatible cluster, not only Samsa.
//
// May import: franz-go (kgo, kadm, kmsg, kerr), cobra, the standard library.
// Nothing of ours.
//
// Start reading at bench.go.
package cli
