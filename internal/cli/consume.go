package cli

// `samsa consume TOPIC`: print records as they arrive. The loop here also
// serves kafka-console-consumer.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// commitTimeout bounds the final commit when a consumer stops.
const commitTimeout = 10 * time.Second

// consumeConfig is what one consume run does.
type consumeConfig struct {
	topic     string // the topic; "" when include is set
	include   string // a regular expression of topics (Kafka's --include)
	partition int32  // -1: all partitions
	// start is where to begin without a committed offset: "latest",
	// "earliest" or an offset (the latter only with a partition).
	start         string
	group         string // "": no group, partitions are assigned directly
	commit        bool   // commit the offsets of printed records (group only)
	maxMessages   int    // stop after this many records; 0: no limit
	idleTimeout   time.Duration
	readCommitted bool
	format        recordFormatter
	progress      io.Writer // "consumed N/M" once a second while running; nil for none
	extraOpts     []kgo.Opt
}

// startOffset turns cfg.start into a kgo offset.
func (c *consumeConfig) startOffset() (kgo.Offset, error) {
	switch strings.ToLower(c.start) {
	case "", "latest":
		return kgo.NewOffset().AtEnd(), nil
	case "earliest":
		return kgo.NewOffset().AtStart(), nil
	}
	n, err := strconv.ParseInt(c.start, 10, 64)
	if err != nil || n < 0 {
		return kgo.Offset{}, usagef("offset %q: use earliest, latest or an offset >= 0", c.start)
	}
	if c.partition < 0 {
		return kgo.Offset{}, usagef("offset %d: give the partition too (--partition)", n)
	}
	return kgo.NewOffset().At(n), nil
}

// runConsume prints records of cfg's topic to out until ctx ends (Ctrl-C),
// maxMessages were printed or nothing arrived for idleTimeout. In a group
// with commit set it commits what it printed before returning. It returns
// how many records it printed.
func runConsume(ctx context.Context, conn connOptions, cfg consumeConfig, out, errw io.Writer) (int, error) {
	start, err := cfg.startOffset()
	if err != nil {
		return 0, err
	}
	opts := []kgo.Opt{kgo.FetchMaxWait(500 * time.Millisecond)}
	if cfg.readCommitted {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	switch {
	case cfg.partition >= 0:
		opts = append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{cfg.topic: {cfg.partition: start}}))
	case cfg.include != "":
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(cfg.include), kgo.ConsumeResetOffset(start))
	default:
		opts = append(opts, kgo.ConsumeTopics(cfg.topic), kgo.ConsumeResetOffset(start))
	}
	if cfg.group != "" {
		opts = append(opts, kgo.ConsumerGroup(cfg.group))
		if cfg.commit {
			opts = append(opts, kgo.AutoCommitMarks())
		} else {
			opts = append(opts, kgo.DisableAutoCommit())
		}
	}
	opts = append(opts, cfg.extraOpts...)
	cl, err := conn.connect(ctx, opts...)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	if cfg.topic != "" {
		td, err := topicDetail(ctx, kadm.NewClient(cl), cfg.topic)
		if err != nil {
			return 0, err
		}
		if _, ok := td.Partitions[cfg.partition]; cfg.partition >= 0 && !ok {
			return 0, fmt.Errorf("topic %q has no partition %d (it has %d); see: samsa topic describe %s",
				cfg.topic, cfg.partition, len(td.Partitions), cfg.topic)
		}
	}

	w := bufio.NewWriter(out)
	n, err := consumeLoop(ctx, cl, cfg, w, errw)
	if ferr := w.Flush(); ferr != nil && err == nil {
		err = fmt.Errorf("write records: %w", ferr)
	}
	if cfg.group != "" && cfg.commit {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
		defer cancel()
		if cerr := cl.CommitMarkedOffsets(cctx); cerr != nil && err == nil {
			err = fmt.Errorf("commit offsets of group %q: %w", cfg.group, cerr)
		}
	}
	return n, err
}

// consumeLoop polls and prints until ctx ends, the count is reached or the
// idle timeout passes.
func consumeLoop(ctx context.Context, cl *kgo.Client, cfg consumeConfig, w *bufio.Writer, errw io.Writer) (int, error) {
	n := 0
	last := time.Now()
	lastProgress := last
	reported := make(map[string]bool) // fetch errors already shown once
	for cfg.maxMessages <= 0 || n < cfg.maxMessages {
		pctx, cancel := ctx, context.CancelFunc(func() {})
		var deadline time.Time
		if cfg.idleTimeout > 0 {
			deadline = last.Add(cfg.idleTimeout)
		}
		if cfg.progress != nil {
			if p := time.Now().Add(time.Second); deadline.IsZero() || p.Before(deadline) {
				deadline = p
			}
		}
		if !deadline.IsZero() {
			pctx, cancel = context.WithDeadline(ctx, deadline)
		}
		want := -1
		if cfg.maxMessages > 0 {
			want = cfg.maxMessages - n
		}
		fetches := cl.PollRecords(pctx, want)
		cancel()
		if ctx.Err() != nil || fetches.IsClientClosed() {
			break
		}
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, context.DeadlineExceeded) || errors.Is(fe.Err, context.Canceled) {
				continue
			}
			msg := fmt.Sprintf("warning: fetch %s partition %d: %v", fe.Topic, fe.Partition, fe.Err)
			if !reported[msg] {
				reported[msg] = true
				fmt.Fprintln(errw, msg)
			}
		}
		var werr error
		fetches.EachRecord(func(r *kgo.Record) {
			if werr != nil {
				return
			}
			if werr = cfg.format.format(w, r); werr != nil {
				return
			}
			if cfg.commit {
				cl.MarkCommitRecords(r)
			}
			n++
			last = time.Now()
		})
		if werr != nil {
			return n, fmt.Errorf("write record: %w", werr)
		}
		if err := w.Flush(); err != nil {
			return n, fmt.Errorf("write records: %w", err)
		}
		if cfg.progress != nil && time.Since(lastProgress) >= time.Second {
			lastProgress = time.Now()
			fmt.Fprintf(cfg.progress, "consumed %d/%d records\n", n, cfg.maxMessages)
		}
		if cfg.idleTimeout > 0 && time.Since(last) >= cfg.idleTimeout {
			break
		}
	}
	return n, nil
}

func newConsumeCmd() *cobra.Command {
	g := &globalOptions{}
	var (
		fromBeginning                       bool
		offset                              string
		partition                           int32
		group                               string
		maxMessages                         int
		timeout                             time.Duration
		printKey, printHeaders, printOffset bool
		printTimestamp                      bool
		format                              string
	)
	cmd := &cobra.Command{
		Use:   "consume TOPIC",
		Short: "Print records of a topic as they arrive",
		Long: "Print records of a topic as they arrive, from the end unless --from-beginning or\n" +
			"--offset says otherwise, until Ctrl-C, --max-messages or --timeout. With --group\n" +
			"the partitions are shared with the group's other members and the offsets of the\n" +
			"printed records are committed (also on Ctrl-C). --format takes a Go template over\n" +
			".Topic .Partition .Offset .Key .Value .Timestamp .Headers; --output json prints one\n" +
			"JSON object per record.",
		Example: "  samsa consume post.office\n" +
			"  samsa consume post.office --from-beginning --max-messages 10 --print-key\n" +
			"  samsa consume post.office --group mailroom\n" +
			"  samsa consume post.office --partition 2 --offset 40 --format '{{.Offset}} {{.Key}}={{.Value}}'",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := g.resolve()
			if err != nil {
				return err
			}
			fs := cmd.Flags()
			cfg := consumeConfig{
				topic: args[0], partition: partition, group: group, commit: group != "",
				maxMessages: maxMessages, idleTimeout: timeout, start: "latest",
			}
			if maxMessages < 0 {
				return usagef("--max-messages %d: give a count >= 1", maxMessages)
			}
			if fs.Changed("offset") && fromBeginning {
				return usagef("--from-beginning and --offset cannot be used together")
			}
			if group != "" && partition >= 0 {
				return usagef("--group and --partition cannot be used together: a group assigns partitions itself")
			}
			switch {
			case fs.Changed("offset"):
				cfg.start = offset
			case fromBeginning:
				cfg.start = "earliest"
			}
			switch {
			case g.output == "json":
				if format != "" {
					return usagef("--format and --output json cannot be used together")
				}
				cfg.format = jsonFormatter{}
			case format != "":
				if cfg.format, err = newTemplateFormatter(format); err != nil {
					return err
				}
			default:
				f := defaultKafkaFormatter()
				f.printKey, f.printHeaders, f.printTimestamp = printKey, printHeaders, printTimestamp
				f.printPartition, f.printOffset = printOffset, printOffset
				cfg.format = f
			}
			errw := cmd.ErrOrStderr()
			if ef, ok := errw.(*os.File); ok && maxMessages > 0 && isTerminal(ef) {
				cfg.progress = errw
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			n, err := runConsume(ctx, conn, cfg, cmd.OutOrStdout(), errw)
			if err == nil || n > 0 {
				fmt.Fprintf(errw, "Processed a total of %d messages\n", n)
			}
			return err
		},
	}
	addGlobalFlags(cmd, g)
	fs := cmd.Flags()
	fs.BoolVar(&fromBeginning, "from-beginning", false, "start at the earliest record (when the group has no committed offset)")
	fs.StringVar(&offset, "offset", "latest", "where to start: earliest, latest, or an offset (with --partition)")
	fs.Int32VarP(&partition, "partition", "p", -1, "read only this partition")
	fs.StringVarP(&group, "group", "g", "", "consume as a member of this group and commit what was printed")
	fs.IntVarP(&maxMessages, "max-messages", "n", 0, "stop after this many records")
	fs.DurationVar(&timeout, "timeout", 0, "stop when no record arrived for this long (e.g. 5s)")
	fs.BoolVar(&printKey, "print-key", false, "print the key before the value, tab separated")
	fs.BoolVar(&printHeaders, "print-headers", false, "print the headers (k:v,k:v) before the key and value")
	fs.BoolVar(&printOffset, "print-offset", false, "print Partition:N and Offset:N before the record")
	fs.BoolVar(&printTimestamp, "print-timestamp", false, "print CreateTime:millis before the record")
	fs.StringVar(&format, "format", "", "Go template per record, e.g. '{{.Partition}}/{{.Offset}} {{.Key}}={{.Value}}'")
	return cmd
}
