package cli

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// newBenchE2ECmd is `samsa bench e2e`.
func newBenchE2ECmd() *cobra.Command {
	c := defaultBenchConfig()
	c.Linger = 0
	cmd := &cobra.Command{
		Use:   "e2e",
		Short: "Open-loop end-to-end latency at a fixed --rate; report p50/p90/p99/p99.9/max",
		Long: "Produce at a fixed --rate (open loop: record i is scheduled at start + i/rate, whether or\n" +
			"not the brokers keep up) while one consumer reads the same topic. Latency is the time\n" +
			"the consumer receives a record minus the time it was scheduled to be sent, so a\n" +
			"stalled producer cannot hide latency. The ack latency (acknowledged − scheduled) is\n" +
			"reported beside it. The run sends --records records, or --rate × --duration (default\n" +
			"10s); the consumer then has 10s to receive every acknowledged record.",
		Example: "  samsa bench e2e --topic lat --rate 10000 --acks all --linger 0 --duration 10s",
		Args:    cobra.NoArgs,
	}
	benchFlags(cmd.Flags(), &c, "e2e")
	cmd.RunE = benchRunE("e2e", &c, benchE2E)
	return cmd
}

// benchE2EWarmup is the scheduled time written into warm-up records, which
// the consumer recognises and does not measure.
const benchE2EWarmup = -1

// benchE2EDrain is how long the consumer may take, after the last
// acknowledgement, to receive the acknowledged records.
const benchE2EDrain = 10 * time.Second

// benchE2EState is what the producers and the consumer of one e2e run
// share. base is the monotonic origin of every scheduled time.
type benchE2EState struct {
	base  time.Time
	runID uint64
	topic string

	sent     atomic.Int64
	acked    atomic.Int64
	failed   atomic.Int64
	received atomic.Int64
	warm     atomic.Int64 // warm-up records the consumer has seen
	sendLag  atomic.Int64 // largest (send time − scheduled time), ns
	firstErr benchErrOnce // first failed record or fetch
	ackMu    sync.Mutex   // guards ackHist
	ackHist  benchHist    // acked − scheduled; guarded by ackMu
	e2eHist  benchHist    // received − scheduled; owned by the consumer goroutine
}

// stamp writes the e2e header into v: the scheduled time (ns since base,
// or benchE2EWarmup) and the run ID.
func (s *benchE2EState) stamp(v []byte, sched int64) {
	binary.BigEndian.PutUint64(v[0:8], uint64(sched))
	binary.BigEndian.PutUint64(v[8:16], s.runID)
}

// parse returns the scheduled time of a value stamped by this run.
func (s *benchE2EState) parse(v []byte) (sched int64, ok bool) {
	if len(v) < benchE2EHeader || binary.BigEndian.Uint64(v[8:16]) != s.runID {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(v[0:8])), true
}

// benchE2E runs the end-to-end latency benchmark. Producer k of P sends
// records k, k+P, k+2P, ... each at its scheduled time start + i/rate
// (late records go out at once, with their lateness counted as latency);
// one consumer starting at the end offsets measures receive − scheduled.
// Before the clock starts, each producer sends one warm-up record and the
// consumer must see them all, so connection and metadata set-up are not
// measured.
func benchE2E(ctx context.Context, c benchConfig) (benchResult, error) {
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
	producers, err := benchNewClients(c.Clients, opts)
	if err != nil {
		return benchResult{}, err
	}
	defer benchCloseClients(producers)
	ends, err := adm.ListEndOffsets(ctx, c.Topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return benchResult{}, fmt.Errorf("list end offsets of %q: %w", c.Topic, err)
	}
	offsets := make(map[int32]kgo.Offset, len(parts))
	for _, p := range parts {
		e, _ := ends.Lookup(c.Topic, p)
		offsets[p] = kgo.NewOffset().At(e.Offset)
	}
	consumer, err := kgo.NewClient(append(c.baseOpts(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{c.Topic: offsets}))...)
	if err != nil {
		return benchResult{}, fmt.Errorf("new kafka client: %w", err)
	}
	defer consumer.Close()

	total := c.Records
	if total == 0 {
		total = int64(math.Ceil(c.Duration.Seconds() * c.Rate))
	}
	st := &benchE2EState{
		base:  time.Now(),
		runID: rand.Uint64(),
		topic: c.Topic,
	}
	consCtx, stopConsumer := context.WithCancel(ctx)
	defer stopConsumer()
	consDone := make(chan struct{})
	go func() {
		defer close(consDone)
		benchE2EConsume(consCtx, consumer, st, total, stopConsumer)
	}()

	if err := benchE2EWarmUp(ctx, producers, st, c.RecordSize); err != nil {
		stopConsumer()
		<-consDone
		return benchResult{}, err
	}

	startOff := time.Since(st.base)
	start := st.base.Add(startOff)
	var lastR int64 // owned by the progress goroutine
	prog := startBenchProgress(c.Progress, c.ProgressEvery, start, func(elapsed, interval time.Duration) string {
		r := st.received.Load()
		line := fmt.Sprintf("e2e %5.0fs  sent %10d  acked %10d  received %10d  %8.0f records/s received",
			elapsed.Seconds(), st.sent.Load(), st.acked.Load(), r, benchRate(r-lastR, interval))
		lastR = r
		return line
	})
	var wg sync.WaitGroup
	for k, cl := range producers {
		wg.Go(func() {
			benchE2EProduce(ctx, cl, st, k, len(producers), total, c.Rate, startOff, c.RecordSize)
		})
	}
	wg.Wait()
	benchE2EDrainWait(ctx, st)
	stopConsumer()
	<-consDone
	elapsed := time.Since(start)
	prog.stop()

	res := benchResult{
		Mode:        "e2e",
		Brokers:     c.Brokers,
		Topic:       c.Topic,
		Partitions:  len(parts),
		Clients:     len(producers),
		Acks:        c.Acks,
		Linger:      c.Linger.String(),
		Compression: c.Compression,
		RecordSize:  c.RecordSize,
		TargetRate:  c.Rate,
		Records:     st.received.Load(),
		Errors:      st.failed.Load(),
		Interrupted: ctx.Err() != nil,
		MaxSendLag:  float64(st.sendLag.Load()) / float64(time.Millisecond),
	}
	res.ValueBytes = res.Records * int64(c.RecordSize)
	res.setRates(elapsed)
	res.Missing = max(st.acked.Load()-st.received.Load(), 0)
	res.Latency = st.e2eHist.summary()
	st.ackMu.Lock()
	res.AckLatency = st.ackHist.summary()
	st.ackMu.Unlock()
	if err := st.firstErr.get(); err != nil {
		return res, fmt.Errorf("e2e on %q: %w", c.Topic, err)
	}
	if res.Missing > 0 && !res.Interrupted {
		return res, fmt.Errorf("e2e on %q: %d acknowledged records were not received within %s of the last ack", c.Topic, res.Missing, benchE2EDrain)
	}
	return res, nil
}

// benchE2EWarmUp sends one warm-up record from each producer and waits
// until the consumer has seen them all.
func benchE2EWarmUp(ctx context.Context, producers []*kgo.Client, st *benchE2EState, size int) error {
	for _, cl := range producers {
		v := make([]byte, size)
		st.stamp(v, benchE2EWarmup)
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: st.topic, Value: v}).FirstErr(); err != nil {
			return fmt.Errorf("e2e warm-up produce to %q: %w", st.topic, err)
		}
	}
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for st.warm.Load() < int64(len(producers)) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			if err := st.firstErr.get(); err != nil {
				return fmt.Errorf("e2e warm-up on %q: %w", st.topic, err)
			}
			return fmt.Errorf("e2e warm-up on %q: the consumer saw %d of %d warm-up records within 30s; does the broker serve fetches?",
				st.topic, st.warm.Load(), len(producers))
		case <-tick.C:
		}
	}
	return nil
}

// benchE2EProduce is producer k of n: it sends records k, k+n, k+2n, ...
// below total, record i at base + startOff + i/rate, then flushes.
func benchE2EProduce(ctx context.Context, cl *kgo.Client, st *benchE2EState, k, n int, total int64, rate float64, startOff time.Duration, size int) {
	pool := sync.Pool{New: func() any {
		b := make([]byte, size)
		_, _ = crand.Read(b) // incompressible like produce's values; never fails
		return &b
	}}
	var wake *time.Timer
	for i := int64(k); i < total; i += int64(n) {
		sched := startOff + time.Duration(float64(i)*1e9/rate)
		if wait := sched - time.Since(st.base); wait > 0 {
			if wake == nil {
				wake = time.NewTimer(wait)
			} else {
				wake.Reset(wait)
			}
			select {
			case <-ctx.Done():
				wake.Stop()
				_ = cl.Flush(ctx)
				return
			case <-wake.C:
			}
		} else if ctx.Err() != nil {
			break
		}
		benchStoreMax(&st.sendLag, int64(time.Since(st.base)-sched))
		vp := pool.Get().(*[]byte)
		st.stamp(*vp, int64(sched))
		st.sent.Add(1)
		cl.Produce(ctx, &kgo.Record{Topic: st.topic, Value: *vp}, func(_ *kgo.Record, err error) {
			now := time.Since(st.base)
			pool.Put(vp)
			if err != nil {
				if ctx.Err() == nil {
					st.failed.Add(1)
					st.firstErr.set(err)
				}
				return
			}
			st.acked.Add(1)
			st.ackMu.Lock()
			st.ackHist.record(now - sched)
			st.ackMu.Unlock()
		})
	}
	_ = cl.Flush(ctx)
}

// benchE2EDrainWait returns once the consumer has received every
// acknowledged record, a record or fetch has failed, benchE2EDrain has
// passed, or ctx ends.
func benchE2EDrainWait(ctx context.Context, st *benchE2EState) {
	deadline := time.NewTimer(benchE2EDrain)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for st.received.Load() < st.acked.Load() && st.firstErr.get() == nil {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-tick.C:
		}
	}
}

// benchStoreMax raises a to v if v is larger.
func benchStoreMax(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// benchE2EConsume reads the topic, measuring every record of this run,
// until total records have arrived or ctx ends. A fetch error stops it.
func benchE2EConsume(ctx context.Context, cl *kgo.Client, st *benchE2EState, total int64, stop context.CancelFunc) {
	for ctx.Err() == nil && st.received.Load() < total {
		fs := cl.PollFetches(ctx)
		now := time.Since(st.base)
		fs.EachRecord(func(r *kgo.Record) {
			sched, ok := st.parse(r.Value)
			switch {
			case !ok:
			case sched == benchE2EWarmup:
				st.warm.Add(1)
			default:
				st.e2eHist.record(now - time.Duration(sched))
				st.received.Add(1)
			}
		})
		fs.EachError(func(t string, p int32, err error) {
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return
			}
			st.firstErr.set(fmt.Errorf("fetch %s[%d]: %w", t, p, err))
			stop()
		})
	}
}
