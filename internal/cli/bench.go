package cli

// `samsa bench`: a load generator that speaks only the Kafka protocol, so the
// same run can be pointed at Samsa, kfake or Apache Kafka and compared.
//
//	samsa bench produce   throughput of producing (records/s, MiB/s of values)
//	samsa bench consume   throughput of reading a topic from its start
//	samsa bench e2e       open-loop end-to-end latency at a fixed rate
//
// Progress goes to stderr once a second; the summary goes to stdout as a
// table or as JSON (--output json) for scripts such as bench/run.sh.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Errors a caller of the bench functions can branch on.
var (
	errBenchTopicNotFound = errors.New("topic not found")
	errBenchTopicEmpty    = errors.New("topic is empty")
	errBenchUnreachable   = errors.New("cannot reach")
)

// benchBrokersEnv sets --brokers when the flag is not given.
const benchBrokersEnv = "SAMSA_BROKERS"

// benchConfig is what one `samsa bench` run is told to do. Flags fill it;
// tests build it directly.
type benchConfig struct {
	Brokers           []string
	Topic             string
	Partitions        int32 // partitions of the topic if bench creates it
	ReplicationFactor int16 // -1: the broker's default
	RecordSize        int   // bytes per record value
	Records           int64 // stop after this many records; 0: no count limit
	// Duration stops the run after this long; 0: no time limit. With
	// neither Records nor Duration, produce and e2e run for 10s and
	// consume reads up to the end offsets found at start.
	Duration      time.Duration
	Clients       int    // producer clients (produce, e2e) or consumer clients (consume)
	Acks          string // all, 1 or 0
	Linger        time.Duration
	BatchMaxBytes int32   // 0: the client default (1 MB)
	Compression   string  // none, gzip, snappy, lz4, zstd
	Rate          float64 // e2e: records/s over all producers
	Output        string  // table or json

	Progress      io.Writer     // once-per-interval progress lines; nil for none
	ProgressEvery time.Duration // 0: one second
}

// defaultBenchConfig is the configuration every flag starts from.
func defaultBenchConfig() benchConfig {
	return benchConfig{
		Brokers:           []string{"127.0.0.1:9092"},
		Topic:             "samsa-bench",
		Partitions:        6,
		ReplicationFactor: -1,
		RecordSize:        1024,
		Clients:           1,
		Acks:              "all",
		Linger:            10 * time.Millisecond,
		Compression:       "none",
		Rate:              10000,
		Output:            "table",
		ProgressEvery:     time.Second,
	}
}

// benchDefaultDuration bounds produce and e2e runs given neither --records
// nor --duration.
const benchDefaultDuration = 10 * time.Second

// benchE2EHeader is the size of the e2e header in each value: the scheduled
// send time and the run ID.
const benchE2EHeader = 16

// validate checks c for the given mode ("produce", "consume" or "e2e").
func (c *benchConfig) validate(mode string) error {
	if len(c.Brokers) == 0 {
		return errors.New("--brokers is empty: give HOST:PORT[,HOST:PORT...] (or set " + benchBrokersEnv + ")")
	}
	if c.Topic == "" {
		return errors.New("--topic is empty")
	}
	if c.Records < 0 {
		return fmt.Errorf("--records %d: must be >= 0", c.Records)
	}
	if c.Duration < 0 {
		return fmt.Errorf("--duration %s: must be >= 0", c.Duration)
	}
	if c.Clients < 1 {
		return fmt.Errorf("--%s %d: need at least 1 client", benchClientsFlag(mode), c.Clients)
	}
	if c.Output != "table" && c.Output != "json" {
		return fmt.Errorf("--output %q: use table or json", c.Output)
	}
	if mode == "consume" {
		return nil
	}
	if c.Partitions < 1 {
		return fmt.Errorf("--partitions %d: need at least 1", c.Partitions)
	}
	if c.ReplicationFactor == 0 || c.ReplicationFactor < -1 {
		return fmt.Errorf("--replication-factor %d: use -1 (broker default) or a count >= 1", c.ReplicationFactor)
	}
	if c.RecordSize < 0 {
		return fmt.Errorf("--record-size %d: must be >= 0", c.RecordSize)
	}
	if _, err := benchAcks(c.Acks); err != nil {
		return err
	}
	if _, err := benchCodec(c.Compression); err != nil {
		return err
	}
	if c.Linger < 0 {
		return fmt.Errorf("--linger %s: must be >= 0", c.Linger)
	}
	if c.BatchMaxBytes < 0 {
		return fmt.Errorf("--batch-max-bytes %d: must be >= 0 (0 for the client default)", c.BatchMaxBytes)
	}
	if mode == "e2e" {
		if c.RecordSize < benchE2EHeader {
			return fmt.Errorf("--record-size %d: e2e needs at least %d bytes per value for the send time and run ID", c.RecordSize, benchE2EHeader)
		}
		if c.Rate <= 0 {
			return fmt.Errorf("--rate %g: e2e needs a rate > 0 records/s", c.Rate)
		}
	}
	return nil
}

// benchClientsFlag names the client-count flag of a mode.
func benchClientsFlag(mode string) string {
	if mode == "consume" {
		return "consumers"
	}
	return "producers"
}

// benchAcks maps --acks to the kgo setting.
func benchAcks(s string) (kgo.Acks, error) {
	switch s {
	case "all", "-1":
		return kgo.AllISRAcks(), nil
	case "1":
		return kgo.LeaderAck(), nil
	case "0":
		return kgo.NoAck(), nil
	}
	return kgo.Acks{}, fmt.Errorf("--acks %q: use all, 1 or 0", s)
}

// benchCodec maps --compression to the kgo codec.
func benchCodec(s string) (kgo.CompressionCodec, error) {
	switch s {
	case "none", "":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("--compression %q: use none, gzip, snappy, lz4 or zstd", s)
}

// baseOpts are the client options every bench client shares.
func (c *benchConfig) baseOpts() []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ClientID("samsa-bench"),
	}
}

// producerOpts are the options of one producer client.
func (c *benchConfig) producerOpts() ([]kgo.Opt, error) {
	acks, err := benchAcks(c.Acks)
	if err != nil {
		return nil, err
	}
	codec, err := benchCodec(c.Compression)
	if err != nil {
		return nil, err
	}
	opts := append(c.baseOpts(),
		kgo.RequiredAcks(acks),
		kgo.ProducerLinger(c.Linger),
		kgo.ProducerBatchCompression(codec),
		// A broker that stops answering fails records instead of hanging
		// the run in Flush.
		kgo.RecordDeliveryTimeout(30*time.Second),
	)
	if c.Acks != "all" && c.Acks != "-1" {
		// Idempotent writes need acks=all.
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	if c.BatchMaxBytes > 0 {
		opts = append(opts, kgo.ProducerBatchMaxBytes(c.BatchMaxBytes))
	}
	return opts, nil
}

// benchUnreachable says what to do when no broker answers.
func benchUnreachable(brokers []string, err error) error {
	return fmt.Errorf("%w %s: is `samsa serve` running? (set --brokers or %s): %w",
		errBenchUnreachable, strings.Join(brokers, ","), benchBrokersEnv, err)
}

// benchPing fails with a hint when no broker answers within 5 seconds.
func benchPing(ctx context.Context, cl *kgo.Client, brokers []string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		return benchUnreachable(brokers, err)
	}
	return nil
}

// benchNewClients makes n clients with opts. On error, no client is left
// open.
func benchNewClients(n int, opts []kgo.Opt) ([]*kgo.Client, error) {
	clients := make([]*kgo.Client, 0, n)
	for range n {
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			benchCloseClients(clients)
			return nil, fmt.Errorf("new kafka client: %w", err)
		}
		clients = append(clients, cl)
	}
	return clients, nil
}

// benchNewAdmin makes the client that sets a run up (topic, offsets) and
// checks that it reaches a broker. Its metadata cache lives only 100ms, so
// a topic it just created is seen at once, and the clients that produce
// and consume never see its cached "unknown topic".
func benchNewAdmin(ctx context.Context, c *benchConfig) (*kgo.Client, *kadm.Client, error) {
	cl, err := kgo.NewClient(append(c.baseOpts(), kgo.MetadataMinAge(100*time.Millisecond))...)
	if err != nil {
		return nil, nil, fmt.Errorf("new kafka client: %w", err)
	}
	if err := benchPing(ctx, cl, c.Brokers); err != nil {
		cl.Close()
		return nil, nil, err
	}
	return cl, kadm.NewClient(cl), nil
}

// benchCloseClients closes every client.
func benchCloseClients(clients []*kgo.Client) {
	for _, cl := range clients {
		cl.Close()
	}
}

// benchEnsureTopic creates topic with c.Partitions partitions if it is
// missing and waits until every partition has a leader that lists its
// offsets. It returns the topic's partition numbers.
func benchEnsureTopic(ctx context.Context, adm *kadm.Client, c *benchConfig) ([]int32, error) {
	parts, err := benchTopicPartitions(ctx, adm, c.Topic)
	switch {
	case errors.Is(err, errBenchTopicNotFound):
		_, cerr := adm.CreateTopic(ctx, c.Partitions, c.ReplicationFactor, nil, c.Topic)
		if cerr != nil && !errors.Is(cerr, kerr.TopicAlreadyExists) {
			return nil, fmt.Errorf("create topic %q: %w", c.Topic, cerr)
		}
	case err != nil:
		return nil, err
	default:
		if int32(len(parts)) != c.Partitions && c.Progress != nil {
			fmt.Fprintf(c.Progress, "bench: topic %q exists with %d partitions; using them (--partitions %d applies only to a new topic)\n",
				c.Topic, len(parts), c.Partitions)
		}
	}
	// A new topic takes a moment to get leaders; wait for a full offset
	// listing before the clock starts.
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		parts, err = benchTopicPartitions(ctx, adm, c.Topic)
		if err == nil {
			var ends kadm.ListedOffsets
			ends, err = adm.ListEndOffsets(ctx, c.Topic)
			if err == nil {
				err = ends.Error()
			}
			if err == nil && len(ends[c.Topic]) == len(parts) {
				return parts, nil
			}
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("not all partitions have a leader")
			}
			return nil, fmt.Errorf("topic %q not ready after 15s: %w", c.Topic, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// benchTopicPartitions returns the partition numbers of topic, or an error
// wrapping errBenchTopicNotFound.
func benchTopicPartitions(ctx context.Context, adm *kadm.Client, topic string) ([]int32, error) {
	td, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("describe topic %q: %w", topic, err)
	}
	d, ok := td[topic]
	if !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
		return nil, fmt.Errorf("%w: %q", errBenchTopicNotFound, topic)
	}
	if d.Err != nil {
		return nil, fmt.Errorf("describe topic %q: %w", topic, d.Err)
	}
	parts := d.Partitions.Numbers()
	if len(parts) == 0 {
		return nil, fmt.Errorf("%w: %q has no partitions", errBenchTopicNotFound, topic)
	}
	return parts, nil
}

// benchValues hands out record values: consecutive slices of one shared
// buffer of random bytes, so values are incompressible and no two in a
// batch are alike. Each producer has its own cursor; the buffer is only
// read.
type benchValues struct {
	buf  []byte // read-only after newBenchValues
	size int
	off  int // owned by the producer goroutine
}

// benchValueBuffer is the shared random buffer: larger than any batch and
// any compressor's window.
func benchValueBuffer(size int) []byte {
	n := 8<<20 + size
	buf := make([]byte, n)
	_, _ = rand.Read(buf) // crypto/rand.Read never fails (Go 1.24+)
	return buf
}

// newBenchValues starts a cursor at start (mod the buffer).
func newBenchValues(buf []byte, size, start int) *benchValues {
	v := &benchValues{buf: buf, size: size}
	if span := len(buf) - size; span > 0 {
		v.off = start % span
	}
	return v
}

// next returns the next value; the caller must not modify it.
func (v *benchValues) next() []byte {
	b := v.buf[v.off : v.off+v.size : v.off+v.size]
	v.off += v.size
	if v.off+v.size > len(v.buf) {
		v.off = 0
	}
	return b
}

// benchResult is the summary of one run, as printed.
type benchResult struct {
	Mode        string   `json:"mode"`
	Brokers     []string `json:"brokers"`
	Topic       string   `json:"topic"`
	Partitions  int      `json:"partitions"`
	Clients     int      `json:"clients"`
	Acks        string   `json:"acks,omitempty"`
	Linger      string   `json:"linger,omitempty"`
	Compression string   `json:"compression,omitempty"`
	RecordSize  int      `json:"record_size,omitempty"`

	Records       int64   `json:"records"`
	ValueBytes    int64   `json:"value_bytes"`
	Seconds       float64 `json:"seconds"`
	RecordsPerSec float64 `json:"records_per_sec"`
	MiBPerSec     float64 `json:"mib_per_sec"`
	Errors        int64   `json:"errors"`
	Interrupted   bool    `json:"interrupted,omitempty"`

	// e2e only.
	TargetRate float64       `json:"target_rate,omitempty"`
	Missing    int64         `json:"missing,omitempty"`         // acked but not received
	MaxSendLag float64       `json:"max_send_lag_ms,omitempty"` // how late the generator sent
	Latency    *benchLatency `json:"latency_ms,omitempty"`      // receive − scheduled
	AckLatency *benchLatency `json:"ack_latency_ms,omitempty"`  // ack − scheduled
}

// setRates fills the per-second figures from Records, ValueBytes and d.
func (r *benchResult) setRates(d time.Duration) {
	r.Seconds = d.Seconds()
	if r.Seconds > 0 {
		r.RecordsPerSec = float64(r.Records) / r.Seconds
		r.MiBPerSec = float64(r.ValueBytes) / (1 << 20) / r.Seconds
	}
}

// benchWriteResult prints r as a table or JSON.
func benchWriteResult(w io.Writer, format string, r *benchResult) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("write result: %w", err)
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	row := func(k, f string, a ...any) { fmt.Fprintf(tw, "%s\t"+f+"\n", append([]any{k}, a...)...) }
	row("mode", "%s", r.Mode)
	row("brokers", "%s", strings.Join(r.Brokers, ","))
	row("topic", "%s (%d partitions)", r.Topic, r.Partitions)
	row("clients", "%d", r.Clients)
	if r.Mode != "consume" {
		row("acks", "%s", r.Acks)
		row("linger", "%s", r.Linger)
		row("compression", "%s", r.Compression)
		row("record size", "%d B", r.RecordSize)
	}
	if r.Mode == "e2e" {
		row("target rate", "%.0f records/s", r.TargetRate)
	}
	row("records", "%d", r.Records)
	row("duration", "%.3fs", r.Seconds)
	row("throughput", "%.0f records/s, %.2f MiB/s of values", r.RecordsPerSec, r.MiBPerSec)
	row("errors", "%d", r.Errors)
	if r.Interrupted {
		row("interrupted", "yes (partial result)")
	}
	if r.Mode == "e2e" {
		row("missing", "%d", r.Missing)
		row("max send lag", "%.3f ms", r.MaxSendLag)
		for _, l := range []struct {
			name string
			v    *benchLatency
		}{{"e2e latency", r.Latency}, {"ack latency", r.AckLatency}} {
			if l.v == nil {
				continue
			}
			row(l.name, "p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  mean %.3f ms (n=%d)",
				l.v.P50, l.v.P90, l.v.P99, l.v.P999, l.v.Max, l.v.Mean, l.v.Count)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}

// benchProgress prints one line per interval to w while running; stop ends
// it and waits for its goroutine.
type benchProgress struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startBenchProgress calls line every interval with the time since start
// and prints what it returns. With a nil w it does nothing.
func startBenchProgress(w io.Writer, every time.Duration, start time.Time, line func(elapsed, interval time.Duration) string) *benchProgress {
	ctx, cancel := context.WithCancel(context.Background())
	p := &benchProgress{cancel: cancel, done: make(chan struct{})}
	if w == nil {
		close(p.done)
		return p
	}
	if every <= 0 {
		every = time.Second
	}
	go func() {
		defer close(p.done)
		t := time.NewTicker(every)
		defer t.Stop()
		last := start
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				fmt.Fprintln(w, line(now.Sub(start), now.Sub(last)))
				last = now
			}
		}
	}()
	return p
}

// stop ends the progress goroutine and waits for it.
func (p *benchProgress) stop() {
	p.cancel()
	<-p.done
}

// benchRate is count per interval as a per-second figure.
func benchRate(count int64, interval time.Duration) float64 {
	if interval <= 0 {
		return 0
	}
	return float64(count) / interval.Seconds()
}

// NewBenchCmd returns `samsa bench` with its produce, consume and e2e
// subcommands.
func NewBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load generator: produce, consume and end-to-end latency benchmarks",
		Long: "Load generator speaking only the Kafka protocol, so it measures Samsa, kfake or\n" +
			"Apache Kafka alike. Progress goes to stderr once a second, the summary to stdout.\n" +
			"--brokers defaults to " + benchBrokersEnv + " when that is set.",
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newBenchProduceCmd(), newBenchConsumeCmd(), newBenchE2ECmd())
	return cmd
}

// benchFlags registers the flags of mode on fs, bound to c.
func benchFlags(fs *pflag.FlagSet, c *benchConfig, mode string) {
	fs.StringSliceVar(&c.Brokers, "brokers", c.Brokers, "bootstrap brokers HOST:PORT[,HOST:PORT...] (env "+benchBrokersEnv+")")
	fs.StringVar(&c.Topic, "topic", c.Topic, "topic to use")
	fs.Int64Var(&c.Records, "records", c.Records, "stop after this many records (0: no count limit)")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "stop after this long (0: no time limit)")
	fs.StringVar(&c.Output, "output", c.Output, "summary format: table or json")
	if mode == "consume" {
		fs.IntVar(&c.Clients, "consumers", c.Clients, "consumer clients; partitions are shared out among them")
		return
	}
	fs.Int32Var(&c.Partitions, "partitions", c.Partitions, "partitions of the topic when bench creates it (it does if the topic is missing)")
	fs.Int16Var(&c.ReplicationFactor, "replication-factor", c.ReplicationFactor, "replication factor when bench creates the topic (-1: broker default)")
	fs.IntVar(&c.RecordSize, "record-size", c.RecordSize, "bytes per record value (random, incompressible)")
	fs.IntVar(&c.Clients, "producers", c.Clients, "producer clients, each with its own connections")
	fs.StringVar(&c.Acks, "acks", c.Acks, "acks: all, 1 or 0")
	fs.DurationVar(&c.Linger, "linger", c.Linger, "how long a partition's batch waits to fill")
	fs.Int32Var(&c.BatchMaxBytes, "batch-max-bytes", c.BatchMaxBytes, "largest record batch a producer builds (0: client default, 1 MB)")
	fs.StringVar(&c.Compression, "compression", c.Compression, "compression: none, gzip, snappy, lz4 or zstd")
	if mode == "e2e" {
		fs.Float64Var(&c.Rate, "rate", c.Rate, "records/s over all producers; record i is scheduled at start + i/rate")
	}
}

// benchRunE wraps a bench function into a cobra RunE: environment, signal
// handling, validation and printing.
func benchRunE(mode string, c *benchConfig, run func(context.Context, benchConfig) (benchResult, error)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		fs := cmd.Flags()
		if v, ok := os.LookupEnv(benchBrokersEnv); ok && !fs.Changed("brokers") {
			if err := fs.Set("brokers", v); err != nil {
				return fmt.Errorf("environment %s=%q: %w", benchBrokersEnv, v, err)
			}
		}
		cfg := *c
		cfg.Brokers = slices.DeleteFunc(slices.Clone(cfg.Brokers), func(b string) bool { return strings.TrimSpace(b) == "" })
		if mode != "consume" && cfg.Records == 0 && cfg.Duration == 0 {
			cfg.Duration = benchDefaultDuration
		}
		if err := cfg.validate(mode); err != nil {
			return err
		}
		cfg.Progress = cmd.ErrOrStderr()
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		res, err := run(ctx, cfg)
		if res.Mode != "" {
			if werr := benchWriteResult(cmd.OutOrStdout(), cfg.Output, &res); werr != nil && err == nil {
				err = werr
			}
		}
		return err
	}
}

// benchCounter counts records and value bytes; client callbacks add to it
// while the progress goroutine reads it.
type benchCounter struct {
	n     atomic.Int64
	bytes atomic.Int64
}

// add counts n records of b value bytes.
func (c *benchCounter) add(n, b int64) {
	c.n.Add(n)
	c.bytes.Add(b)
}

// get returns the totals so far.
func (c *benchCounter) get() (n, b int64) {
	return c.n.Load(), c.bytes.Load()
}
