package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

func TestBenchHistIndexBoundsValue(t *testing.T) {
	vals := []uint64{0, 1, 127, 128, 255, 256, 257, 511, 512, 1000, 1 << 20, 1<<20 + 12345, 1<<40 - 1, 1 << 62, 1<<63 - 1}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		vals = append(vals, r.Uint64N(1<<r.UintN(63)+1))
	}
	for _, v := range vals {
		i := benchHistIndex(v)
		if i < 0 || i >= benchHistBuckets {
			t.Fatalf("index(%d) = %d, outside [0,%d)", v, i, benchHistBuckets)
		}
		if up := benchHistUpper(i); up < v {
			t.Fatalf("upper(index(%d)) = %d < value", v, up)
		}
		if i > 0 && benchHistUpper(i-1) >= v {
			t.Fatalf("upper(index(%d)-1) = %d >= value: buckets overlap", v, benchHistUpper(i-1))
		}
		if up := benchHistUpper(i); v >= 256 && float64(up-v) > float64(v)/128 {
			t.Fatalf("bucket of %d ends at %d: more than 1/128 above", v, up)
		}
	}
}

func TestBenchHistQuantileWithinBucketOfExact(t *testing.T) {
	tests := []struct {
		name string
		gen  func(r *rand.Rand) time.Duration
	}{
		{"uniform 0-10ms", func(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(int64(10 * time.Millisecond))) }},
		{"exponential mean 2ms", func(r *rand.Rand) time.Duration { return time.Duration(r.ExpFloat64() * float64(2*time.Millisecond)) }},
		{"bimodal 100us and 50ms", func(r *rand.Rand) time.Duration {
			if r.IntN(100) == 0 {
				return 50*time.Millisecond + time.Duration(r.Int64N(int64(time.Millisecond)))
			}
			return 100*time.Microsecond + time.Duration(r.Int64N(int64(10*time.Microsecond)))
		}},
		{"constant", func(*rand.Rand) time.Duration { return 1234567 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			var h benchHist
			vals := make([]time.Duration, 20001)
			for i := range vals {
				vals[i] = tt.gen(r)
				h.record(vals[i])
			}
			slices.Sort(vals)
			for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
				rank := int(float64(len(vals))*q+0.999999) - 1
				exact := vals[max(rank, 0)]
				got := h.quantile(q)
				if got < exact || float64(got-exact) > float64(exact)/128+1 {
					t.Errorf("q%.3f = %v, exact %v: want within 1/128 above", q, got, exact)
				}
			}
			if h.max != vals[len(vals)-1] || h.min != vals[0] {
				t.Errorf("min/max = %v/%v, want %v/%v", h.min, h.max, vals[0], vals[len(vals)-1])
			}
		})
	}
}

func TestBenchHistEmptyAndNegative(t *testing.T) {
	var h benchHist
	if q := h.quantile(0.99); q != 0 {
		t.Fatalf("empty quantile = %v, want 0", q)
	}
	h.record(-time.Second)
	if h.n != 1 || h.quantile(1) != 0 {
		t.Fatalf("negative duration: n=%d max=%v, want counted as 0", h.n, h.quantile(1))
	}
}

func TestBenchConfigValidateRejects(t *testing.T) {
	tests := []struct {
		name, mode string
		edit       func(*benchConfig)
		want       string
	}{
		{"no brokers", "produce", func(c *benchConfig) { c.Brokers = nil }, "--brokers"},
		{"no topic", "consume", func(c *benchConfig) { c.Topic = "" }, "--topic"},
		{"bad acks", "produce", func(c *benchConfig) { c.Acks = "2" }, "--acks"},
		{"bad compression", "e2e", func(c *benchConfig) { c.Compression = "brotli" }, "--compression"},
		{"bad output", "consume", func(c *benchConfig) { c.Output = "xml" }, "--output"},
		{"no producers", "produce", func(c *benchConfig) { c.Clients = 0 }, "--producers"},
		{"no consumers", "consume", func(c *benchConfig) { c.Clients = 0 }, "--consumers"},
		{"zero partitions", "produce", func(c *benchConfig) { c.Partitions = 0 }, "--partitions"},
		{"e2e zero rate", "e2e", func(c *benchConfig) { c.Rate = 0 }, "--rate"},
		{"e2e tiny records", "e2e", func(c *benchConfig) { c.RecordSize = 8 }, "--record-size"},
		{"negative records", "produce", func(c *benchConfig) { c.Records = -1 }, "--records"},
		{"replication factor 0", "produce", func(c *benchConfig) { c.ReplicationFactor = 0 }, "--replication-factor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := defaultBenchConfig()
			tt.edit(&c)
			err := c.validate(tt.mode)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("validate = %v, want an error naming %s", err, tt.want)
			}
		})
	}
	for _, mode := range []string{"produce", "consume", "e2e"} {
		c := defaultBenchConfig()
		if err := c.validate(mode); err != nil {
			t.Errorf("default config, %s: %v", mode, err)
		}
	}
}

// benchBackends are the brokers each end-to-end test runs against: Samsa
// itself and kfake, which the benchmarks compare it with.
func benchBackends(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"samsa": func(t *testing.T) string { return samsatest.Start(t).Addr },
		"kfake": func(t *testing.T) string { return startBenchKfake(t).ListenAddrs()[0] },
	}
}

func startBenchKfake(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.AllowAutoTopicCreation()}, opts...)...)
	if err != nil {
		t.Fatalf("start kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestBenchProduceThenConsumeReadsEveryRecord(t *testing.T) {
	for name, start := range benchBackends(t) {
		t.Run(name, func(t *testing.T) {
			addr := start(t)
			ctx := samsatest.Context(t, time.Minute)
			c := defaultBenchConfig()
			c.Brokers = []string{addr}
			c.Topic = "bench-pc"
			c.Partitions = 3
			c.Clients = 2
			c.RecordSize = 100
			c.Records = 5001
			c.Linger = time.Millisecond
			var progress bytes.Buffer
			c.Progress = &progress
			res, err := benchProduce(ctx, c)
			if err != nil {
				t.Fatalf("produce: %v", err)
			}
			if res.Records != 5001 || res.ValueBytes != 5001*100 || res.Errors != 0 || res.Partitions != 3 {
				t.Fatalf("produce result = %+v, want 5001 records of 100 B in 3 partitions", res)
			}
			if res.RecordsPerSec <= 0 || res.MiBPerSec <= 0 {
				t.Fatalf("produce rates = %v records/s, %v MiB/s: want > 0", res.RecordsPerSec, res.MiBPerSec)
			}

			// The broker must hold exactly what bench says it acknowledged.
			adm := kadm.NewClient(samsatest.NewClient(t, addr))
			ends, err := adm.ListEndOffsets(ctx, c.Topic)
			if err != nil || ends.Error() != nil {
				t.Fatalf("list end offsets: %v %v", err, ends.Error())
			}
			var sum int64
			ends.Each(func(o kadm.ListedOffset) { sum += o.Offset })
			if sum != 5001 {
				t.Fatalf("end offsets sum to %d, want 5001", sum)
			}

			c.Clients = 2
			c.Records = 0
			res, err = benchConsume(ctx, c)
			if err != nil {
				t.Fatalf("consume: %v", err)
			}
			if res.Records != 5001 || res.ValueBytes != 5001*100 {
				t.Fatalf("consume read %d records, %d bytes; want 5001, %d", res.Records, res.ValueBytes, 5001*100)
			}

			c.Records = 1000
			res, err = benchConsume(ctx, c)
			if err != nil {
				t.Fatalf("consume --records 1000: %v", err)
			}
			if res.Records < 1000 || res.Records > 5001 {
				t.Fatalf("consume --records 1000 read %d records", res.Records)
			}
		})
	}
}

func TestBenchE2EMeasuresEveryRecord(t *testing.T) {
	for name, start := range benchBackends(t) {
		t.Run(name, func(t *testing.T) {
			addr := start(t)
			ctx := samsatest.Context(t, time.Minute)
			c := defaultBenchConfig()
			c.Brokers = []string{addr}
			c.Topic = "bench-e2e"
			c.Partitions = 2
			c.Clients = 2
			c.RecordSize = 64
			c.Rate = 4000
			c.Records = 2000
			c.Linger = 0
			res, err := benchE2E(ctx, c)
			if err != nil {
				t.Fatalf("e2e: %v", err)
			}
			if res.Records != 2000 || res.Missing != 0 || res.Errors != 0 {
				t.Fatalf("e2e result = %+v, want 2000 records received, none missing", res)
			}
			l := res.Latency
			if l == nil || l.Count != 2000 || res.AckLatency == nil || res.AckLatency.Count != 2000 {
				t.Fatalf("latency = %+v, ack latency = %+v; want 2000 samples each", l, res.AckLatency)
			}
			if !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
				t.Fatalf("percentiles not ordered: %+v", l)
			}
			// 2000 records at 4000/s take at least half a second.
			if res.Seconds < 0.5 {
				t.Fatalf("e2e took %.3fs for 2000 records at 4000/s: the rate was not kept", res.Seconds)
			}
		})
	}
}

func TestBenchE2ECountsStallFromScheduledTime(t *testing.T) {
	// kfake holds the first measured produce request for stall: records
	// scheduled meanwhile must show at least that much latency, because
	// latency runs from the scheduled time, not from when the client
	// managed to send.
	const stall = 300 * time.Millisecond
	cl := startBenchKfake(t)
	var produces atomic.Int32
	cl.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		cl.KeepControl()
		if produces.Add(1) == 2 { // the first is the warm-up
			release := make(chan struct{})
			time.AfterFunc(stall, func() { close(release) })
			cl.SleepControl(func() { <-release })
		}
		return nil, nil, false
	})
	ctx := samsatest.Context(t, time.Minute)
	c := defaultBenchConfig()
	c.Brokers = []string{cl.ListenAddrs()[0]}
	c.Topic = "bench-stall"
	c.Partitions = 1
	c.RecordSize = 32
	c.Rate = 2000
	c.Records = 1000
	c.Linger = 0
	res, err := benchE2E(ctx, c)
	if err != nil {
		t.Fatalf("e2e: %v", err)
	}
	if res.Records != 1000 {
		t.Fatalf("received %d records, want 1000", res.Records)
	}
	if got := time.Duration(res.Latency.Max * float64(time.Millisecond)); got < stall {
		t.Fatalf("max latency %v < stall %v: the stall was hidden", got, stall)
	}
	if got := time.Duration(res.AckLatency.Max * float64(time.Millisecond)); got < stall {
		t.Fatalf("max ack latency %v < stall %v", got, stall)
	}
}

func TestBenchUnreachableBrokerSaysWhatToDo(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := defaultBenchConfig()
	c.Brokers = []string{addr}
	c.Records = 10
	ctx := samsatest.Context(t, time.Minute)
	for _, run := range []func(context.Context, benchConfig) (benchResult, error){benchProduce, benchConsume, benchE2E} {
		_, err := run(ctx, c)
		if !errors.Is(err, errBenchUnreachable) || !strings.Contains(err.Error(), "is `samsa serve` running?") || !strings.Contains(err.Error(), addr) {
			t.Fatalf("err = %v, want the unreachable hint naming %s", err, addr)
		}
	}
}

func TestBenchConsumeMissingOrEmptyTopicSaysWhatToDo(t *testing.T) {
	addr := startBenchKfake(t).ListenAddrs()[0]
	ctx := samsatest.Context(t, time.Minute)
	c := defaultBenchConfig()
	c.Brokers = []string{addr}
	c.Topic = "nope"
	_, err := benchConsume(ctx, c)
	if !errors.Is(err, errBenchTopicNotFound) || !strings.Contains(err.Error(), "samsa bench produce --topic nope") {
		t.Fatalf("missing topic: err = %v", err)
	}
	if _, err := kadm.NewClient(samsatest.NewClient(t, addr)).CreateTopic(ctx, 2, 1, nil, "empty"); err != nil {
		t.Fatal(err)
	}
	c.Topic = "empty"
	_, err = benchConsume(ctx, c)
	if !errors.Is(err, errBenchTopicEmpty) || !strings.Contains(err.Error(), "samsa bench produce --topic empty") {
		t.Fatalf("empty topic: err = %v", err)
	}
}

func TestBenchCommandReadsBrokersFromEnvAndPrintsJSON(t *testing.T) {
	addr := startBenchKfake(t).ListenAddrs()[0]
	t.Setenv(benchBrokersEnv, addr)
	cmd := NewBenchCmd()
	var stdout, stderr bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs([]string{"produce", "--topic", "cmd", "--records", "300", "--record-size", "10", "--acks", "1", "--output", "json"})
	if err := cmd.ExecuteContext(samsatest.Context(t, time.Minute)); err != nil {
		t.Fatalf("bench produce: %v (stderr: %s)", err, stderr.String())
	}
	var res benchResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("stdout is not the JSON summary: %v\n%s", err, stdout.String())
	}
	if res.Mode != "produce" || res.Records != 300 || res.ValueBytes != 3000 || res.Acks != "1" || !slices.Equal(res.Brokers, []string{addr}) {
		t.Fatalf("summary = %+v", res)
	}

	cmd = NewBenchCmd()
	stdout.Reset()
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs([]string{"consume", "--topic", "cmd"})
	if err := cmd.ExecuteContext(samsatest.Context(t, time.Minute)); err != nil {
		t.Fatalf("bench consume: %v", err)
	}
	for _, want := range []string{"consume", "records", "300", "records/s", "MiB/s"} {
		if !strings.Contains(stdout.String(), want) {
			t.Fatalf("table summary lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestBenchProgressPrintsWhileRunning(t *testing.T) {
	var buf bytes.Buffer
	var calls atomic.Int32
	done := make(chan struct{})
	p := startBenchProgress(&buf, time.Millisecond, time.Now(), func(elapsed, interval time.Duration) string {
		if calls.Add(1) == 3 {
			close(done)
		}
		return "tick"
	})
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("progress never ticked 3 times")
	}
	p.stop()
	n := calls.Load()
	if got := strings.Count(buf.String(), "tick\n"); got != int(n) {
		t.Fatalf("printed %d lines for %d calls", got, n)
	}
}
