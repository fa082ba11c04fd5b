package e2e

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// ackedRecord is a record whose produce the broker acknowledged.
type ackedRecord struct {
	partition int32
	offset    int64
	value     string
}

// load is a set of franz-go producers (acks=all, idempotent: the kgo
// defaults) writing unique values "p<producer>-<sequence>-<padding>" to one
// topic until finish. It records every acknowledged (partition, offset,
// value) from the produce promises.
type load struct {
	t       *testing.T
	topic   string
	clients []*kgo.Client
	ctx     context.Context // for Produce; cancelled at cleanup, or by finish if Produce hangs
	cancel  context.CancelFunc
	stop    chan struct{} // closed by finish: stop producing new records
	wg      sync.WaitGroup

	nAcked atomic.Int64

	mu       sync.Mutex    // guards the fields below
	acked    []ackedRecord // in promise order
	nFailed  int           // records the client gave up on: not acknowledged
	firstErr error         // the first of those errors
}

// padding makes records big enough that a 64 KiB segment holds a few
// hundred of them, so the load crosses many segment rolls.
var padding = strings.Repeat("x", 80)

// startLoad starts n producers against addr. Each has at most 2000 records
// buffered, so Produce blocks while the broker is down, and sends batches of
// at most 16 KiB, so several produce requests are in flight when the broker
// is killed.
func startLoad(t *testing.T, addr, topic string, n int) *load {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{t: t, topic: topic, ctx: ctx, cancel: cancel, stop: make(chan struct{})}
	for range n {
		cl, err := kgo.NewClient(
			kgo.SeedBrokers(addr),
			kgo.DefaultProduceTopic(topic),
			kgo.RequiredAcks(kgo.AllISRAcks()),
			kgo.MaxBufferedRecords(2000),
			kgo.ProducerBatchMaxBytes(16<<10),
			kgo.ProducerLinger(time.Millisecond),
		)
		if err != nil {
			cancel()
			t.Fatalf("new producer: %v", err)
		}
		l.clients = append(l.clients, cl)
	}
	t.Cleanup(func() {
		l.closeClients()
		l.cancel()
	})
	for id, cl := range l.clients {
		l.wg.Add(1)
		go l.produce(id, cl)
	}
	return l
}

// produce is the loop of one producer; it returns once stop is closed (or
// ctx is cancelled while Produce blocks).
func (l *load) produce(id int, cl *kgo.Client) {
	defer l.wg.Done()
	for seq := 0; ; seq++ {
		select {
		case <-l.stop:
			return
		default:
		}
		if l.ctx.Err() != nil {
			return
		}
		r := &kgo.Record{Value: fmt.Appendf(nil, "p%d-%08d-%s", id, seq, padding)}
		cl.Produce(l.ctx, r, l.promise)
	}
}

func (l *load) promise(r *kgo.Record, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.nFailed++
		if l.firstErr == nil {
			l.firstErr = err
		}
		return
	}
	l.acked = append(l.acked, ackedRecord{r.Partition, r.Offset, string(r.Value)})
	l.nAcked.Add(1)
}

// waitAcked waits until at least n records have been acknowledged.
func (l *load) waitAcked(n int64, timeout time.Duration) {
	l.t.Helper()
	samsatest.Eventually(l.t, timeout, fmt.Sprintf("%d acknowledged records", n), func() bool {
		return l.nAcked.Load() >= n
	})
}

// finish stops producing, flushes every buffered record (the broker must be
// up) and returns the acknowledged records and the number of failed ones.
func (l *load) finish() ([]ackedRecord, int) {
	l.t.Helper()
	close(l.stop)
	stopped := make(chan struct{})
	go func() {
		l.wg.Wait()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(60 * time.Second):
		l.cancel()
		<-stopped
		l.t.Fatalf("producers still blocked in Produce 60s after stop")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i, cl := range l.clients {
		if err := cl.Flush(ctx); err != nil {
			l.t.Fatalf("flush producer %d: %v", i, err)
		}
	}
	l.closeClients()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.nFailed > 0 {
		l.t.Logf("%d records failed (not acknowledged), first error: %v", l.nFailed, l.firstErr)
	}
	return append([]ackedRecord(nil), l.acked...), l.nFailed
}

func (l *load) closeClients() {
	for _, cl := range l.clients {
		cl.Close()
	}
}

// verifyAcked reads the whole topic and checks the durability promise:
// offsets in each partition run contiguously from 0, every acknowledged
// record sits at its acknowledged offset with its value, and no value is
// stored twice. Records that were stored but never acknowledged (their ack
// was lost in a crash and the retry was not needed or failed) are allowed,
// once; the count is returned.
func verifyAcked(t *testing.T, addr, topic string, acked []ackedRecord) (unacked int) {
	t.Helper()
	byPart := consumeAll(t, addr, topic)
	where := make(map[string]string) // value -> partition/offset
	total := 0
	for p, recs := range byPart {
		for i, r := range recs {
			if r.Offset != int64(i) {
				t.Fatalf("partition %d: record %d has offset %d; offsets must be contiguous from 0", p, i, r.Offset)
			}
			v := string(r.Value)
			at := fmt.Sprintf("%d/%d", p, r.Offset)
			if prev, dup := where[v]; dup {
				t.Errorf("value %.12s… stored twice: at %s and %s", v, prev, at)
			}
			where[v] = at
			if !strings.HasPrefix(v, "p") || !strings.HasSuffix(v, padding) {
				t.Errorf("%s holds %q, which no producer wrote", at, v)
			}
		}
		total += len(recs)
	}
	ackedValues := make(map[string]bool, len(acked))
	lost := 0
	for _, a := range acked {
		ackedValues[a.value] = true
		recs := byPart[a.partition]
		if a.offset < 0 || a.offset >= int64(len(recs)) || string(recs[a.offset].Value) != a.value {
			if lost < 10 {
				got := "nothing"
				if a.offset >= 0 && a.offset < int64(len(recs)) {
					got = fmt.Sprintf("%.12s…", recs[a.offset].Value)
				}
				t.Errorf("acknowledged %.12s… at %d/%d, but the log has %s there (found at %q)", a.value, a.partition, a.offset, got, where[a.value])
			}
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged records are not where their ack said", lost, len(acked))
	}
	for v := range where {
		if !ackedValues[v] {
			unacked++
		}
	}
	t.Logf("%s: %d records stored, %d acknowledged, %d stored without an ack", topic, total, len(acked), unacked)
	return unacked
}

// segmentFiles counts the segment files of a partition on disk.
func segmentFiles(t *testing.T, dataDir, topic string, partition int32) int {
	t.Helper()
	dir := filepath.Join(dataDir, "topics", fmt.Sprintf("%s-%d", topic, partition))
	names, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	return len(names)
}

func TestAckedRecordsSurviveKills(t *testing.T) {
	const (
		topic      = "crash"
		partitions = 3
		producers  = 4
		kills      = 4
	)
	args := []string{"--flush", "durable", "--segment-bytes", "65536"}
	p := startBroker(t, args...)
	createTopic(t, p.Addr(), topic, partitions, nil)
	l := startLoad(t, p.Addr(), topic, producers)

	seed := time.Now().UnixNano()
	t.Logf("random seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	deadline := time.Now().Add(60 * time.Second)
	for round := 1; round <= kills; round++ {
		// Kill at a random point of the load: after a random number of
		// further acks.
		target := l.nAcked.Load() + 500 + rng.Int64N(3000)
		l.waitAcked(target, time.Until(deadline)+10*time.Second)
		p.Kill()
		t.Logf("kill %d of pid %d after %d acks", round, p.PID(), l.nAcked.Load())
		p = p.Restart()
		if p.LogLine(`msg="storage opened"`, "clean_shutdown=false") == "" {
			t.Errorf("restart after kill %d: no storage opened line with clean_shutdown=false", round)
		}
		if p.LogLine(`msg="recovering log"`, "topic="+topic) == "" {
			t.Errorf("restart after kill %d: no partition of %s was recovered", round, topic)
		}
	}
	l.waitAcked(l.nAcked.Load()+1000, time.Until(deadline)+10*time.Second)
	acked, _ := l.finish()

	// A clean stop, then a restart that must not need recovery.
	p.Stop()
	p = p.Restart()
	if p.LogLine(`msg="storage opened"`, "clean_shutdown=true") == "" {
		t.Errorf("restart after a clean stop: no storage opened line with clean_shutdown=true")
	}
	if line := p.LogLine(`msg="recovering log"`); line != "" {
		t.Errorf("restart after a clean stop recovered a log: %s", line)
	}
	verifyAcked(t, p.Addr(), topic, acked)
	for part := range int32(partitions) {
		if n := segmentFiles(t, p.DataDir(), topic, part); n < 2 {
			t.Errorf("partition %d has %d segment files; the load was meant to cross segment rolls", part, n)
		}
	}
}

func TestSIGTERMDuringLoadShutsDownCleanly(t *testing.T) {
	const topic = "term"
	p := startBroker(t, "--flush", "durable", "--segment-bytes", "65536")
	createTopic(t, p.Addr(), topic, 3, nil)
	l := startLoad(t, p.Addr(), topic, 2)
	l.waitAcked(1000, 30*time.Second)

	p.Stop() // fails unless the exit status is 0
	if p.LogLine(`msg="storage closed"`) == "" {
		t.Errorf("no storage closed line after SIGTERM")
	}
	marker := filepath.Join(p.DataDir(), ".clean-shutdown")
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("clean-shutdown marker after SIGTERM: %v", err)
	}

	p = p.Restart()
	if p.LogLine(`msg="storage opened"`, "clean_shutdown=true") == "" {
		t.Errorf("restart after SIGTERM: no storage opened line with clean_shutdown=true")
	}
	if line := p.LogLine(`msg="recovering log"`); line != "" {
		t.Errorf("restart after SIGTERM recovered a log: %s", line)
	}
	if _, err := os.Stat(marker); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("clean-shutdown marker still there after restart (%v): a crash now would look clean", err)
	}
	acked, _ := l.finish()
	verifyAcked(t, p.Addr(), topic, acked)

	// A crash now must look unclean again.
	p.Kill()
	p = p.Restart()
	if p.LogLine(`msg="storage opened"`, "clean_shutdown=false") == "" {
		t.Errorf("restart after kill: no storage opened line with clean_shutdown=false")
	}
	verifyAcked(t, p.Addr(), topic, acked)
}
