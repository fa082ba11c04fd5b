package cli

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// newBenchConsumeCmd is `samsa bench consume`.
func newBenchConsumeCmd() *cobra.Command {
	c := defaultBenchConfig()
	cmd := &cobra.Command{
		Use:   "consume",
		Short: "Read a topic from the start of every partition; report records/s and MiB/s",
		Long: "Read --topic from the log start offset of every partition up to the end offsets found\n" +
			"when the run starts (or until --records or --duration), with --consumers clients\n" +
			"sharing the partitions. Fill the topic first with `samsa bench produce`.",
		Example: "  samsa bench produce --topic bench --records 2000000\n  samsa bench consume --topic bench",
		Args:    cobra.NoArgs,
	}
	benchFlags(cmd.Flags(), &c, "consume")
	cmd.RunE = benchRunE("consume", &c, benchConsume)
	return cmd
}

// benchSpan is the part of one partition a consumer reads: [from, to).
type benchSpan struct {
	from, to int64
	done     bool // owned by the consumer goroutine
}

// benchConsume runs the consume benchmark: it lists the start and end
// offsets of every partition, shares the partitions out among c.Clients
// consumers and reads [start, end) of each, stopping early at c.Records or
// c.Duration. The clock runs from creating the consumers to the last
// record.
func benchConsume(ctx context.Context, c benchConfig) (benchResult, error) {
	admCl, adm, err := benchNewAdmin(ctx, &c)
	if err != nil {
		return benchResult{}, err
	}
	defer admCl.Close()
	parts, err := benchTopicPartitions(ctx, adm, c.Topic)
	if errors.Is(err, errBenchTopicNotFound) {
		return benchResult{}, fmt.Errorf("%w; fill it first: samsa bench produce --topic %s", err, c.Topic)
	}
	if err != nil {
		return benchResult{}, err
	}
	starts, err := adm.ListStartOffsets(ctx, c.Topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return benchResult{}, fmt.Errorf("list start offsets of %q: %w", c.Topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, c.Topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return benchResult{}, fmt.Errorf("list end offsets of %q: %w", c.Topic, err)
	}

	nc := c.Clients
	shares := make([]map[int32]*benchSpan, nc)
	var total int64
	used := 0
	for _, p := range parts {
		s, _ := starts.Lookup(c.Topic, p)
		e, _ := ends.Lookup(c.Topic, p)
		if e.Offset <= s.Offset {
			continue
		}
		k := used % nc
		if shares[k] == nil {
			shares[k] = make(map[int32]*benchSpan)
		}
		shares[k][p] = &benchSpan{from: s.Offset, to: e.Offset}
		total += e.Offset - s.Offset
		used++
	}
	if total == 0 {
		return benchResult{}, fmt.Errorf("%w: %q has no records; fill it first: samsa bench produce --topic %s --records 1000000",
			errBenchTopicEmpty, c.Topic, c.Topic)
	}
	target := total
	if c.Records > 0 && c.Records < total {
		target = c.Records
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if c.Duration > 0 {
		var cancelT context.CancelFunc
		runCtx, cancelT = context.WithTimeout(runCtx, c.Duration)
		defer cancelT()
	}
	var (
		got      benchCounter
		firstErr benchErrOnce
		wg       sync.WaitGroup
		clients  []*kgo.Client
	)
	defer func() { benchCloseClients(clients) }()
	start := time.Now()
	var lastN, lastB int64 // owned by the progress goroutine
	prog := startBenchProgress(c.Progress, c.ProgressEvery, start, func(elapsed, interval time.Duration) string {
		n, b := got.get()
		line := fmt.Sprintf("consume %5.0fs  %12d of %d records  %10.0f records/s  %8.2f MiB/s",
			elapsed.Seconds(), n, target, benchRate(n-lastN, interval), benchRate(b-lastB, interval)/(1<<20))
		lastN, lastB = n, b
		return line
	})
	for _, share := range shares {
		if share == nil {
			continue
		}
		offsets := make(map[int32]kgo.Offset, len(share))
		for p, sp := range share {
			offsets[p] = kgo.NewOffset().At(sp.from)
		}
		opts := append(c.baseOpts(), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{c.Topic: offsets}))
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			cancel()
			wg.Wait()
			prog.stop()
			return benchResult{}, fmt.Errorf("new kafka client: %w", err)
		}
		clients = append(clients, cl)
		wg.Go(func() { benchConsumeLoop(runCtx, cl, share, &got, target, cancel, &firstErr) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	prog.stop()

	res := benchResult{
		Mode:        "consume",
		Brokers:     c.Brokers,
		Topic:       c.Topic,
		Partitions:  len(parts),
		Clients:     len(clients),
		Interrupted: ctx.Err() != nil,
	}
	res.Records, res.ValueBytes = got.get()
	res.setRates(elapsed)
	if err := firstErr.get(); err != nil {
		res.Errors = 1
		return res, fmt.Errorf("consume %q: %w", c.Topic, err)
	}
	return res, nil
}

// benchConsumeLoop polls cl until every span in share is read, the shared
// count reaches target (then it calls done to stop the other consumers) or
// ctx ends. A fetch error stops the run.
func benchConsumeLoop(ctx context.Context, cl *kgo.Client, share map[int32]*benchSpan, got *benchCounter, target int64, done context.CancelFunc, firstErr *benchErrOnce) {
	remaining := len(share)
	for remaining > 0 && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachPartition(func(ftp kgo.FetchTopicPartition) {
			sp, ok := share[ftp.Partition]
			if !ok || sp.done || len(ftp.Records) == 0 {
				return
			}
			var n, b int64
			for _, r := range ftp.Records {
				if r.Offset >= sp.to {
					break
				}
				n++
				b += int64(len(r.Value))
			}
			if ftp.Records[len(ftp.Records)-1].Offset >= sp.to-1 {
				sp.done = true
				remaining--
			}
			got.add(n, b)
		})
		if all, _ := got.get(); all >= target {
			done()
			return
		}
		fs.EachError(func(t string, p int32, err error) {
			if ctx.Err() != nil {
				return // time is up or the run was interrupted
			}
			firstErr.set(fmt.Errorf("fetch %s[%d]: %w", t, p, err))
			done()
		})
	}
}
