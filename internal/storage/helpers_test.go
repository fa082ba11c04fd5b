package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// batchSpec describes a test batch.
type batchSpec struct {
	values   [][]byte
	baseTs   int64   // batch first timestamp
	tsDeltas []int64 // per record; nil = 0, 1, 2, ...
	pid      int64   // -1 = not idempotent
	epoch    int16
	seq      int32
	codec    int // 0 none, 1 gzip, 4 zstd
	attrs    int16
}

// values makes n values of size bytes; value i starts with its index.
func values(n, size int, tag string) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		v := fmt.Appendf(nil, "%s-%d|", tag, i)
		for len(v) < size {
			v = append(v, byte('a'+i%26))
		}
		out[i] = v
	}
	return out
}

// build encodes the batch with kmsg, as a client would send it (base offset
// 0, leader epoch -1, CRC-32C set).
func (s batchSpec) build(t testing.TB) []byte {
	t.Helper()
	var recs []byte
	maxTs := s.baseTs
	for i, v := range s.values {
		d := int64(i)
		if s.tsDeltas != nil {
			d = s.tsDeltas[i]
		}
		maxTs = max(maxTs, s.baseTs+d)
		r := kmsg.Record{TimestampDelta64: d, OffsetDelta: int32(i), Key: fmt.Appendf(nil, "k%d", i), Value: v}
		body := r.AppendTo(nil)[1:] // drop the zero length varint
		recs = binary.AppendVarint(recs, int64(len(body)))
		recs = append(recs, body...)
	}
	switch s.codec {
	case CompressionNone:
	case CompressionGzip:
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(recs)
		w.Close()
		recs = buf.Bytes()
	case CompressionZstd:
		enc, err := zstd.NewWriter(nil)
		if err != nil {
			t.Fatal(err)
		}
		recs = enc.EncodeAll(recs, nil)
		enc.Close()
	default:
		t.Fatalf("codec %d not supported by the test helper", s.codec)
	}
	pid, epoch, seq := s.pid, s.epoch, s.seq
	if pid < 0 {
		epoch, seq = -1, -1
	}
	b := kmsg.RecordBatch{
		FirstOffset:          0,
		PartitionLeaderEpoch: -1,
		Magic:                2,
		Attributes:           s.attrs | int16(s.codec),
		LastOffsetDelta:      int32(len(s.values) - 1),
		FirstTimestamp:       s.baseTs,
		MaxTimestamp:         maxTs,
		ProducerID:           pid,
		ProducerEpoch:        epoch,
		FirstSequence:        seq,
		NumRecords:           int32(len(s.values)),
		Records:              recs,
	}
	b.Length = int32(BatchHeaderSize - logOverhead + len(recs))
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[offCRC:], crc32.Checksum(out[offAttributes:], crc32.MakeTable(crc32.Castagnoli)))
	return out
}

// simple builds a non-idempotent uncompressed batch of n values.
func simple(t testing.TB, n, size int, tag string, ts int64) []byte {
	return batchSpec{values: values(n, size, tag), baseTs: ts, pid: -1}.build(t)
}

// decodedRecord is one record read back from the log.
type decodedRecord struct {
	offset int64
	ts     int64
	value  string
}

// decodeAll decodes every record of the batches in b (uncompressed, gzip or
// zstd), checking each batch's CRC.
func decodeAll(t testing.TB, b []byte) []decodedRecord {
	t.Helper()
	var out []decodedRecord
	var d decompressor
	for len(b) > 0 {
		h, err := ParseBatchHeader(b)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		batch := b[:h.Size()]
		if batchCRC(batch) != h.CRC {
			t.Fatalf("decode: batch at offset %d has a bad crc", h.BaseOffset)
		}
		recs, err := d.decompress(h.Compression(), batch[BatchHeaderSize:])
		if err != nil {
			t.Fatal(err)
		}
		for i := int32(0); i < h.NumRecords; i++ {
			var r kmsg.Record
			n, size := binary.Varint(recs)
			if err := r.ReadFrom(recs[:size+int(n)]); err != nil {
				t.Fatalf("decode record: %v", err)
			}
			recs = recs[size+int(n):]
			ts := h.BaseTimestamp + r.TimestampDelta64
			if h.IsLogAppendTime() {
				ts = h.MaxTimestamp
			}
			out = append(out, decodedRecord{offset: h.BaseOffset + int64(r.OffsetDelta), ts: ts, value: string(r.Value)})
		}
		b = b[h.Size():]
	}
	return out
}

// testClock is a settable clock for ManagerConfig.Now.
type testClock struct{ ns atomic.Int64 }

func newClock(t time.Time) *testClock {
	c := &testClock{}
	c.Set(t)
	return c
}

func (c *testClock) Set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *testClock) Add(d time.Duration) { c.ns.Add(int64(d)) }
func (c *testClock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *testClock) Ms() int64           { return c.Now().UnixMilli() }

// eventually polls cond until it is true or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

// openTest opens a manager on dir (t.TempDir() if empty) with fs.
func openTest(t testing.TB, cfg ManagerConfig) *Manager {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	m, err := OpenManager(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// smallConfig is a log config with small segments and dense indexes.
func smallConfig() Config {
	c := DefaultConfig()
	c.SegmentBytes = 4096
	c.IndexIntervalBytes = 256
	return c
}

// mustAppend appends and fails the test on error.
func mustAppend(t testing.TB, l *Log, b []byte) AppendResult {
	t.Helper()
	r, err := l.Append(b, 0)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return r
}

// readAll reads every record from the log start to leo.
func readAll(t testing.TB, l *Log) []decodedRecord {
	t.Helper()
	var out []decodedRecord
	off := l.LogStartOffset()
	for off < l.LogEndOffset() {
		b, err := l.Read(off, 1<<20, l.LogEndOffset())
		if err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
		if len(b) == 0 {
			t.Fatalf("read at %d below leo %d returned nothing", off, l.LogEndOffset())
		}
		recs := decodeAll(t, b)
		for _, r := range recs {
			if r.offset >= off {
				out = append(out, r)
			}
		}
		off = recs[len(recs)-1].offset + 1
	}
	return out
}

// stopForTest stops the manager's goroutines and drops its files without
// flushing or writing the clean marker: a kill -9 on an OS that keeps the
// page cache.
func (m *Manager) stopForTest() {
	m.mu.Lock()
	m.closed = true
	logs := m.logs
	m.logs = map[logKey]*Log{}
	m.mu.Unlock()
	close(m.stop)
	m.wg.Wait()
	for _, l := range logs {
		l.mu.Lock()
		l.closed.Store(true)
		for _, s := range l.segments() {
			s.closeFiles()
		}
		for _, r := range l.rolled {
			r.seg.closeFiles()
		}
		l.mu.Unlock()
	}
}

// snappyEncode encodes one snappy block.
func snappyEncode(b []byte) []byte { return s2.EncodeSnappy(nil, b) }

// captureHandler records log records for assertions (and prints them).
type captureHandler struct {
	mu   *sync.Mutex
	recs *[]slog.Record
	t    testing.TB
}

func newCapture(t testing.TB) (*slog.Logger, func(msg string) []slog.Record) {
	h := captureHandler{mu: &sync.Mutex{}, recs: &[]slog.Record{}, t: t}
	find := func(msg string) []slog.Record {
		h.mu.Lock()
		defer h.mu.Unlock()
		var out []slog.Record
		for _, r := range *h.recs {
			if r.Message == msg {
				out = append(out, r)
			}
		}
		return out
	}
	return slog.New(h), find
}

func (h captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h captureHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h captureHandler) WithGroup(string) slog.Handler            { return h }
func (h captureHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	*h.recs = append(*h.recs, r.Clone())
	h.mu.Unlock()
	if r.Level >= slog.LevelWarn {
		h.t.Logf("%s %s", r.Level, r.Message)
	}
	return nil
}

// attr returns an attribute of a log record.
func attr(r slog.Record, key string) slog.Value {
	var v slog.Value
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value
			return false
		}
		return true
	})
	return v
}
