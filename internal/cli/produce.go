package cli

// `samsa produce TOPIC`: one record per line of standard input. The loop
// here also serves kafka-console-producer.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// maxLineBytes bounds one input line (one record).
const maxLineBytes = 16 << 20

// deliveryTimeout bounds how long a record may wait to be acknowledged.
const deliveryTimeout = 30 * time.Second

// errNotAcked: at least one record was not acknowledged.
var errNotAcked = errors.New("not acknowledged")

// produceConfig is what one produce run does.
type produceConfig struct {
	topic       string
	partition   int32  // -1: the default partitioner (murmur2 of the key, sticky without one)
	acks        string // all (-1), 1 or 0
	compression string // none, gzip, snappy, lz4, zstd
	linger      time.Duration
	sync        bool // wait for each record's ack before reading the next line
	parse       func(line []byte, n int) (*kgo.Record, error)
	prompt      bool // print ">" to stderr before each line (stdin is a terminal)
	summary     bool // print "Produced N records..." to stderr at the end
	extraOpts   []kgo.Opt
}

// produceResult counts what happened to the lines.
type produceResult struct {
	mu       sync.Mutex // guards the fields below; acks arrive on kgo's goroutines
	lines    int
	acked    int
	failed   int
	notFound bool // a record failed because the topic does not exist
}

// fail counts a failed line and reports it.
func (r *produceResult) fail(w io.Writer, n int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed++
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		r.notFound = true
	}
	fmt.Fprintf(w, "error: line %d not produced: %v\n", n, err)
}

// ack counts an acknowledged record.
func (r *produceResult) ack() {
	r.mu.Lock()
	r.acked++
	r.mu.Unlock()
}

// inputLine is one line read from stdin, numbered from 1.
type inputLine struct {
	n    int
	data []byte
}

// readLines sends each line of in to the returned channel, printing prompt
// before each read when prompt is set. The channel is closed at EOF; a
// read error is sent on errc. The goroutine stops at EOF, at a read error,
// or when done is closed after it has read a line; if stdin never ends it
// stays blocked in Read until the process exits (a read cannot be
// interrupted).
func readLines(in io.Reader, prompt io.Writer, done <-chan struct{}) (<-chan inputLine, <-chan error) {
	lines := make(chan inputLine, 16)
	errc := make(chan error, 1)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64<<10), maxLineBytes)
		for n := 1; ; n++ {
			if prompt != nil {
				fmt.Fprint(prompt, ">")
			}
			if !sc.Scan() {
				if err := sc.Err(); err != nil {
					errc <- fmt.Errorf("read line %d: %w", n, err)
				}
				return
			}
			select {
			case lines <- inputLine{n, clone(sc.Bytes())}:
			case <-done:
				return
			}
		}
	}()
	return lines, errc
}

// runProduce produces every line of in to cfg.topic until EOF or ctx ends
// (Ctrl-C), then flushes. It fails with errNotAcked when a record was not
// acknowledged, after reporting each one on errw.
func runProduce(ctx context.Context, conn connOptions, cfg produceConfig, in io.Reader, errw io.Writer) error {
	acks, err := benchAcks(cfg.acks)
	if err != nil {
		return usagef("%v", err)
	}
	codec, err := benchCodec(cfg.compression)
	if err != nil {
		return usagef("%v", err)
	}
	opts := []kgo.Opt{
		kgo.DefaultProduceTopic(cfg.topic),
		kgo.RequiredAcks(acks),
		kgo.ProducerBatchCompression(codec),
		kgo.ProducerLinger(cfg.linger),
		kgo.RecordDeliveryTimeout(deliveryTimeout),
		// Like Kafka's producer: a missing topic is created when the
		// broker allows it.
		kgo.AllowAutoTopicCreation(),
	}
	if cfg.acks != "all" && cfg.acks != "-1" {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	if cfg.partition >= 0 {
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	opts = append(opts, cfg.extraOpts...)
	cl, err := conn.connect(ctx, opts...)
	if err != nil {
		return err
	}
	defer cl.Close()

	var prompt io.Writer
	if cfg.prompt {
		prompt = errw
	}
	done := make(chan struct{})
	defer close(done)
	lines, readErr := readLines(in, prompt, done)
	res := &produceResult{}
	var firstErr error
	produce := func(l inputLine) {
		rec, err := cfg.parse(l.data, l.n)
		if err != nil {
			res.fail(errw, l.n, err)
			return
		}
		rec.Topic = cfg.topic
		if cfg.partition >= 0 {
			rec.Partition = cfg.partition
		}
		report := func(_ *kgo.Record, err error) {
			if err == nil {
				res.ack()
				return
			}
			res.fail(errw, l.n, err)
		}
		if cfg.sync {
			r := cl.ProduceSync(ctx, rec)
			report(r[0].Record, r[0].Err)
			return
		}
		cl.Produce(context.WithoutCancel(ctx), rec, report)
	}
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case l, ok := <-lines:
			if !ok {
				select {
				case firstErr = <-readErr:
				default:
				}
				break loop
			}
			res.mu.Lock()
			res.lines++
			res.mu.Unlock()
			produce(l)
		}
	}
	if cfg.prompt {
		fmt.Fprintln(errw)
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deliveryTimeout+5*time.Second)
	defer cancel()
	if err := cl.Flush(fctx); err != nil && firstErr == nil {
		firstErr = fmt.Errorf("flush: %w", err)
	}
	res.mu.Lock()
	lineCount, acked, failed, notFound := res.lines, res.acked, res.failed, res.notFound
	res.mu.Unlock()
	if cfg.summary {
		fmt.Fprintf(errw, "Produced %d of %d records to topic %s.\n", acked, lineCount, cfg.topic)
	}
	switch {
	case notFound:
		return fmt.Errorf("%w: topic %q does not exist and the broker does not create topics on first use; create it with: samsa topic create %s", errNotAcked, cfg.topic, cfg.topic)
	case failed > 0:
		return fmt.Errorf("%d of %d records %w", failed, lineCount, errNotAcked)
	}
	return firstErr
}

// signalContext ends on SIGINT or SIGTERM.
func signalContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}

func newProduceCmd() *cobra.Command {
	g := &globalOptions{}
	var (
		keySep      string
		headers     []string
		partition   int32
		acks        string
		compression string
		linger      time.Duration
		format      string
		sync        bool
	)
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Produce one record per line of standard input",
		Long: "Produce one record per line of standard input, until end of input or Ctrl-C.\n" +
			"Each failed record is reported on stderr, and the command exits 1 if any record\n" +
			"was not acknowledged. --format json reads {\"key\":...,\"value\":...,\"headers\":{...}}\n" +
			"per line. Records without a key spread over partitions; records with a key always\n" +
			"go to the same partition (murmur2, as Kafka's default partitioner).",
		Example: "  echo '{\"to\":\"Alan Turing\"}' | samsa produce post.office\n" +
			"  printf 'alice:one\\nbob:two\\n' | samsa produce post.office --key-separator :\n" +
			"  samsa produce orders -H source=cli --acks 1 --compression zstd < orders.txt",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := g.resolve()
			if err != nil {
				return err
			}
			cfg := produceConfig{
				topic: args[0], partition: partition, acks: acks, compression: compression,
				linger: linger, sync: sync, summary: true,
			}
			switch format {
			case "line":
				f := defaultLineFormat()
				if cmd.Flags().Changed("key-separator") {
					if keySep == "" {
						return usagef("--key-separator must not be empty")
					}
					f.parseKey, f.keySep = true, keySep
				}
				for _, h := range headers {
					k, v, ok := splitKV(h)
					if !ok {
						return usagef("--header %q: use key=value", h)
					}
					f.staticHeaders = append(f.staticHeaders, kgo.RecordHeader{Key: k, Value: []byte(v)})
				}
				cfg.parse = f.parse
			case "json":
				if cmd.Flags().Changed("key-separator") || len(headers) > 0 {
					return usagef("--key-separator and --header apply to --format line; put key and headers in the JSON")
				}
				cfg.parse = parseJSONRecord
			default:
				return usagef("--format %q: use line or json", format)
			}
			if f := stdinFile(cmd); f != nil && isTerminal(f) {
				cfg.prompt = true
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			return runProduce(ctx, conn, cfg, cmd.InOrStdin(), cmd.ErrOrStderr())
		},
	}
	addGlobalFlags(cmd, g)
	fs := cmd.Flags()
	fs.StringVarP(&keySep, "key-separator", "k", "", "split each line at the first SEP into key and value")
	fs.StringArrayVarP(&headers, "header", "H", nil, "header key=value on every record (repeatable)")
	fs.Int32Var(&partition, "partition", -1, "produce to this partition (default: by key, or spread without one)")
	fs.StringVar(&acks, "acks", "all", "acks: all, 1 or 0")
	fs.StringVar(&compression, "compression", "none", "compression: none, gzip, snappy, lz4 or zstd")
	fs.DurationVar(&linger, "linger", 0, "how long a batch waits to fill before it is sent")
	fs.StringVar(&format, "format", "line", "input format: line (value, or key SEP value) or json")
	fs.BoolVar(&sync, "sync", false, "wait for each record's acknowledgement before reading the next line")
	return cmd
}

// splitKV splits "k=v".
func splitKV(s string) (k, v string, ok bool) {
	k, v, ok = strings.Cut(s, "=")
	return k, v, ok && k != ""
}
