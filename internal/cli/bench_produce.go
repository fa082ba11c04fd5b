package cli

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// newBenchProduceCmd is `samsa bench produce`.
func newBenchProduceCmd() *cobra.Command {
	c := defaultBenchConfig()
	cmd := &cobra.Command{
		Use:   "produce",
		Short: "Produce as fast as the brokers take it; report records/s and MiB/s",
		Long: "Produce records of --record-size random bytes from --producers clients, as fast as the\n" +
			"brokers acknowledge them, until --records or --duration (default 10s) is reached.\n" +
			"Creates --topic with --partitions if it is missing.",
		Example: "  samsa bench produce --topic bench --partitions 6 --acks all --duration 10s",
		Args:    cobra.NoArgs,
	}
	benchFlags(cmd.Flags(), &c, "produce")
	cmd.RunE = benchRunE("produce", &c, benchProduce)
	return cmd
}

// benchErrOnce keeps the first error of many callbacks.
type benchErrOnce struct {
	mu  sync.Mutex
	err error // nil until the first failure; guarded by mu
}

// set keeps err if it is the first.
func (e *benchErrOnce) set(err error) {
	e.mu.Lock()
	if e.err == nil {
		e.err = err
	}
	e.mu.Unlock()
}

// get returns the first error, if any.
func (e *benchErrOnce) get() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// benchProduce runs the produce benchmark: c.Clients producers, each in a
// tight loop, until c.Records have been produced or c.Duration has passed;
// then every client flushes. The clock runs from the first record to the
// last acknowledgement. A failed record stops the run.
func benchProduce(ctx context.Context, c benchConfig) (benchResult, error) {
	opts, err := c.producerOpts()
	if err != nil {
		return benchResult{}, err
	}
	admCl, adm, err := benchNewAdmin(ctx, &c)
	if err != nil {
		return benchResult{}, err
	}
	defer admCl.Close()
	parts, err := benchEnsureTopic(ctx, adm, &c)
	if err != nil {
		return benchResult{}, err
	}
	clients, err := benchNewClients(c.Clients, opts)
	if err != nil {
		return benchResult{}, err
	}
	defer benchCloseClients(clients)

	var (
		acked    benchCounter
		failed   atomic.Int64
		firstErr benchErrOnce
		stop     atomic.Bool // set when the run must end: time is up or a record failed
	)
	size := int64(c.RecordSize)
	onAck := func(_ *kgo.Record, err error) {
		if err == nil {
			acked.add(1, size)
			return
		}
		if ctx.Err() != nil {
			return // interrupted: unsent records are not failures
		}
		failed.Add(1)
		firstErr.set(err)
		stop.Store(true)
	}

	buf := benchValueBuffer(c.RecordSize)
	start := time.Now()
	if c.Duration > 0 {
		t := time.AfterFunc(c.Duration, func() { stop.Store(true) })
		defer t.Stop()
	}
	var lastN, lastB int64 // owned by the progress goroutine
	prog := startBenchProgress(c.Progress, c.ProgressEvery, start, func(elapsed, interval time.Duration) string {
		n, b := acked.get()
		line := fmt.Sprintf("produce %5.0fs  %12d records acked  %10.0f records/s  %8.2f MiB/s",
			elapsed.Seconds(), n, benchRate(n-lastN, interval), benchRate(b-lastB, interval)/(1<<20))
		lastN, lastB = n, b
		return line
	})
	var wg sync.WaitGroup
	for k, cl := range clients {
		quota := int64(-1)
		if c.Records > 0 {
			quota = c.Records / int64(len(clients))
			if int64(k) < c.Records%int64(len(clients)) {
				quota++
			}
		}
		vals := newBenchValues(buf, c.RecordSize, k*len(buf)/len(clients))
		wg.Go(func() { benchProduceLoop(ctx, cl, c.Topic, vals, quota, &stop, onAck) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	prog.stop()

	res := benchResult{
		Mode:        "produce",
		Brokers:     c.Brokers,
		Topic:       c.Topic,
		Partitions:  len(parts),
		Clients:     len(clients),
		Acks:        c.Acks,
		Linger:      c.Linger.String(),
		Compression: c.Compression,
		RecordSize:  c.RecordSize,
		Errors:      failed.Load(),
		Interrupted: ctx.Err() != nil,
	}
	res.Records, res.ValueBytes = acked.get()
	res.setRates(elapsed)
	if err := firstErr.get(); err != nil {
		return res, fmt.Errorf("produce to %q: %d records failed; first error: %w", c.Topic, res.Errors, err)
	}
	return res, nil
}

// benchProduceLoop produces up to quota records (all if quota < 0) to topic
// until stop is set or ctx is done, then waits for every record to be
// acknowledged. Records are recycled after their promise, so the loop makes
// almost no garbage of its own.
func benchProduceLoop(ctx context.Context, cl *kgo.Client, topic string, vals *benchValues, quota int64, stop *atomic.Bool, onAck func(*kgo.Record, error)) {
	var pool sync.Pool
	promise := func(r *kgo.Record, err error) {
		onAck(r, err)
		*r = kgo.Record{}
		pool.Put(r)
	}
	for i := int64(0); quota < 0 || i < quota; i++ {
		if stop.Load() || ctx.Err() != nil {
			break
		}
		r, _ := pool.Get().(*kgo.Record)
		if r == nil {
			r = new(kgo.Record)
		}
		r.Topic, r.Value = topic, vals.next()
		cl.Produce(ctx, r, promise)
	}
	// Flush returns early only if ctx is done; then Close fails whatever
	// is left, which onAck does not count.
	_ = cl.Flush(ctx)
}
