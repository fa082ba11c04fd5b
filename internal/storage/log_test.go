package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAppendReadRoundTrip(t *testing.T) {
	for _, flush := range []FlushPolicy{FlushDurable, FlushOS} {
		t.Run(flush.String(), func(t *testing.T) {
			m := openTest(t, ManagerConfig{Flush: flush})
			defer m.Close()
			l, err := m.OpenLog("orders", 0, DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for i := range 10 {
				b := simple(t, 3, 50, fmt.Sprintf("b%d", i), 1000)
				r := mustAppend(t, l, b)
				if r.BaseOffset != int64(3*i) || r.LastOffset != int64(3*i+2) || r.LogAppendTime != -1 || r.Duplicate {
					t.Fatalf("append %d: %+v", i, r)
				}
				for _, v := range values(3, 50, fmt.Sprintf("b%d", i)) {
					want = append(want, string(v))
				}
			}
			if err := l.WaitFlushed(context.Background(), l.LogEndOffset()); err != nil {
				t.Fatal(err)
			}
			if flush == FlushDurable && l.FlushedOffset() != 30 {
				t.Fatalf("flushed %d, want 30", l.FlushedOffset())
			}
			got := readAll(t, l)
			if len(got) != len(want) {
				t.Fatalf("read %d records, want %d", len(got), len(want))
			}
			for i, r := range got {
				if r.offset != int64(i) || r.value != want[i] {
					t.Fatalf("record %d: %+v, want value %q", i, r, want[i])
				}
			}
			if _, err := l.Read(31, 100, 100); !errors.Is(err, ErrOffsetOutOfRange) {
				t.Fatalf("read past leo: %v", err)
			}
			if b, err := l.Read(30, 100, 100); err != nil || len(b) != 0 {
				t.Fatalf("read at leo: %d bytes, %v", len(b), err)
			}
		})
	}
}

// openLog opens a manager on a temp dir and one log in it.
func openLog(t *testing.T, mcfg ManagerConfig, cfg Config) (*Manager, *Log) {
	t.Helper()
	m := openTest(t, mcfg)
	t.Cleanup(func() { m.Close() })
	l, err := m.OpenLog("t", 0, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m, l
}

func TestReadLimits(t *testing.T) {
	_, l := openLog(t, ManagerConfig{}, DefaultConfig())
	var sizes []int
	for i := range 5 {
		b := simple(t, 2, 100, fmt.Sprint(i), 0) // offsets 2i, 2i+1
		sizes = append(sizes, len(b))
		mustAppend(t, l, b)
	}
	batchesIn := func(b []byte) []int64 {
		var bases []int64
		for len(b) > 0 {
			h, err := ParseBatchHeader(b)
			if err != nil {
				t.Fatal(err)
			}
			bases = append(bases, h.BaseOffset)
			b = b[h.Size():]
		}
		return bases
	}
	for _, tc := range []struct {
		name      string
		offset    int64
		maxBytes  int
		maxOffset int64
		want      []int64
	}{
		{"all", 0, 1 << 20, 100, []int64{0, 2, 4, 6, 8}},
		{"mid batch starts at its batch", 3, 1 << 20, 100, []int64{2, 4, 6, 8}},
		{"maxBytes exact", 0, sizes[0] + sizes[1], 100, []int64{0, 2}},
		{"maxBytes one short", 0, sizes[0] + sizes[1] - 1, 100, []int64{0}},
		{"first batch even if over maxBytes", 4, 1, 100, []int64{4}},
		{"zero maxBytes", 4, 0, 100, []int64{4}},
		{"maxOffset at batch boundary", 0, 1 << 20, 6, []int64{0, 2, 4}},
		{"maxOffset inside a batch excludes it", 0, 1 << 20, 7, []int64{0, 2, 4}},
		{"offset at maxOffset", 6, 1 << 20, 6, nil},
		{"offset at leo", 10, 1 << 20, 100, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := l.Read(tc.offset, tc.maxBytes, tc.maxOffset)
			if err != nil {
				t.Fatal(err)
			}
			if got := batchesIn(b); !slices.Equal(got, tc.want) {
				t.Fatalf("batches %v, want %v", got, tc.want)
			}
		})
	}
	for _, off := range []int64{-1, 11} {
		if _, err := l.Read(off, 100, 100); !errors.Is(err, ErrOffsetOutOfRange) {
			t.Fatalf("read %d: %v, want ErrOffsetOutOfRange", off, err)
		}
	}
	// The caller owns the bytes: scribbling on them changes nothing.
	b, _ := l.Read(0, 1<<20, 100)
	clear(b)
	if got := readAll(t, l); len(got) != 10 {
		t.Fatalf("after scribbling on a read: %d records", len(got))
	}
}

func TestReadEveryOffsetAcrossSegments(t *testing.T) {
	cfg := smallConfig()
	cfg.SegmentBytes = 2048
	cfg.IndexIntervalBytes = 300
	_, l := openLog(t, ManagerConfig{}, cfg)
	var bases []int64
	for i := range 200 {
		r := mustAppend(t, l, simple(t, 1+i%4, 30+i%50, fmt.Sprint(i), 0))
		bases = append(bases, r.BaseOffset)
	}
	if l.NumSegments() < 10 {
		t.Fatalf("%d segments, want many", l.NumSegments())
	}
	leo := l.LogEndOffset()
	for off := int64(0); off < leo; off++ {
		b, err := l.Read(off, 1, leo)
		if err != nil {
			t.Fatal(err)
		}
		h, err := ParseBatchHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		i, found := slices.BinarySearch(bases, off)
		if !found {
			i--
		}
		if h.BaseOffset != bases[i] || h.LastOffset() < off || h.Size() != len(b) {
			t.Fatalf("read %d returned batch [%d, %d] of %d bytes (got %d)", off, h.BaseOffset, h.LastOffset(), h.Size(), len(b))
		}
	}
	// A large read crosses segment boundaries.
	b, err := l.Read(0, 1<<20, leo)
	if err != nil {
		t.Fatal(err)
	}
	if recs := decodeAll(t, b); int64(len(recs)) != leo {
		t.Fatalf("one big read returned %d records, want %d", len(recs), leo)
	}
	// Every segment is at most SegmentBytes (each append fits).
	for _, s := range l.segments() {
		if s.size.Load() > cfg.SegmentBytes {
			t.Fatalf("segment %d has %d bytes", s.base, s.size.Load())
		}
	}
}

func TestRollBySegmentAge(t *testing.T) {
	clock := newClock(time.Unix(1_700_000_000, 0))
	cfg := DefaultConfig()
	cfg.SegmentAge = time.Hour
	_, l := openLog(t, ManagerConfig{Now: clock.Now}, cfg)
	mustAppend(t, l, simple(t, 1, 10, "a", clock.Ms()))
	clock.Add(59 * time.Minute)
	mustAppend(t, l, simple(t, 1, 10, "b", clock.Ms()))
	if n := l.NumSegments(); n != 1 {
		t.Fatalf("%d segments before segment.ms, want 1", n)
	}
	clock.Add(time.Minute)
	r := mustAppend(t, l, simple(t, 1, 10, "c", clock.Ms()))
	if n := l.NumSegments(); n != 2 || l.active().base != r.BaseOffset {
		t.Fatalf("%d segments after segment.ms, active base %d; want 2, %d", n, l.active().base, r.BaseOffset)
	}
	if got := readAll(t, l); len(got) != 3 {
		t.Fatalf("%d records", len(got))
	}
}

func TestRetentionBySize(t *testing.T) {
	cfg := smallConfig()
	cfg.SegmentBytes = 1000
	cfg.RetentionBytes = 2500
	m, l := openLog(t, ManagerConfig{}, cfg)
	now := time.Now().UnixMilli()
	for i := range 40 {
		mustAppend(t, l, simple(t, 1, 200, fmt.Sprint(i), now))
	}
	before := l.NumSegments()
	if err := m.ApplyRetention(); err != nil {
		t.Fatal(err)
	}
	// Kafka's rule: delete the oldest segment while the log stays at or
	// above retention.bytes without it.
	if l.NumSegments() >= before || l.Size() < cfg.RetentionBytes {
		t.Fatalf("size %d (limit %d), segments %d -> %d", l.Size(), cfg.RetentionBytes, before, l.NumSegments())
	}
	if first := l.segments()[0]; l.Size()-first.size.Load() >= cfg.RetentionBytes {
		t.Fatalf("deleted too little: size %d, first segment %d", l.Size(), first.size.Load())
	}
	if l.LogStartOffset() != l.segments()[0].base {
		t.Fatalf("log start %d, first segment %d", l.LogStartOffset(), l.segments()[0].base)
	}
	if _, err := l.Read(0, 100, 100); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read deleted offset: %v", err)
	}
	recs := readAll(t, l)
	if recs[0].offset != l.LogStartOffset() || recs[len(recs)-1].offset != 39 {
		t.Fatalf("records %d..%d after retention", recs[0].offset, recs[len(recs)-1].offset)
	}
}

func TestRetentionByTime(t *testing.T) {
	clock := newClock(time.Unix(1_700_000_000, 0))
	cfg := smallConfig()
	cfg.SegmentBytes = 1000
	cfg.RetentionAge = time.Hour
	m, l := openLog(t, ManagerConfig{Now: clock.Now}, cfg)
	for i := range 10 { // old records
		mustAppend(t, l, simple(t, 1, 200, fmt.Sprint(i), clock.Ms()-2*time.Hour.Milliseconds()))
	}
	for i := range 10 { // fresh records
		mustAppend(t, l, simple(t, 1, 200, fmt.Sprint(i), clock.Ms()))
	}
	if err := m.ApplyRetention(); err != nil {
		t.Fatal(err)
	}
	// Segments holding only old records are gone; the one mixing both stays.
	start := l.LogStartOffset()
	if start == 0 || start > 10 {
		t.Fatalf("log start %d, want in (0, 10]", start)
	}
	// Everything expires: the active segment is rolled and the log is empty.
	clock.Add(3 * time.Hour)
	if err := m.ApplyRetention(); err != nil {
		t.Fatal(err)
	}
	if l.LogStartOffset() != 20 || l.LogEndOffset() != 20 || l.NumSegments() != 1 || l.Size() != 0 {
		t.Fatalf("after full expiry: start %d leo %d segments %d size %d", l.LogStartOffset(), l.LogEndOffset(), l.NumSegments(), l.Size())
	}
	if r := mustAppend(t, l, simple(t, 1, 10, "new", clock.Ms())); r.BaseOffset != 20 || r.LogStartOffset != 20 {
		t.Fatalf("append after expiry: %+v", r)
	}
}

func TestRetentionRunsInBackground(t *testing.T) {
	cfg := smallConfig()
	cfg.SegmentBytes = 1000
	cfg.RetentionBytes = 1000
	_, l := openLog(t, ManagerConfig{RetentionCheckInterval: time.Millisecond}, cfg)
	for i := range 20 {
		mustAppend(t, l, simple(t, 1, 200, fmt.Sprint(i), time.Now().UnixMilli()))
	}
	eventually(t, "background retention", func() bool { return l.LogStartOffset() > 0 })
}

func TestDeleteRecordsBeforeSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	cfg.SegmentBytes = 1000
	m := openTest(t, ManagerConfig{Dir: dir})
	l, err := m.OpenLog("t", 0, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		mustAppend(t, l, simple(t, 2, 100, fmt.Sprint(i), 0))
	}
	segsBefore := l.NumSegments()
	if _, err := l.DeleteRecordsBefore(61); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("delete past leo: %v", err)
	}
	start, err := l.DeleteRecordsBefore(33)
	if err != nil || start != 33 {
		t.Fatalf("delete records: %d, %v", start, err)
	}
	if l.NumSegments() >= segsBefore || l.segments()[0].base > 33 {
		t.Fatalf("segments %d -> %d, first base %d", segsBefore, l.NumSegments(), l.segments()[0].base)
	}
	if start, _ := l.DeleteRecordsBefore(10); start != 33 {
		t.Fatalf("moving back: start %d", start)
	}
	if _, err := l.Read(32, 100, 100); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below start: %v", err)
	}
	if b, err := l.Read(33, 1, 100); err != nil || decodeAll(t, b)[0].offset != 32 {
		t.Fatalf("read at start: %v", err) // batch [32, 33] holds offset 33
	}
	// Survives both a clean restart and a crash (no Close at all).
	for _, clean := range []bool{true, false} {
		if clean {
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
		} else {
			m.stopForTest()
		}
		m = openTest(t, ManagerConfig{Dir: dir})
		if l, err = m.OpenLog("t", 0, cfg); err != nil {
			t.Fatal(err)
		}
		if l.LogStartOffset() != 33 || l.LogEndOffset() != 60 {
			t.Fatalf("clean=%v: after restart start %d leo %d", clean, l.LogStartOffset(), l.LogEndOffset())
		}
		if recs := readAll(t, l); recs[0].offset != 33 || len(recs) != 27 {
			t.Fatalf("clean=%v: records from %d, %d of them", clean, recs[0].offset, len(recs))
		}
	}
	m.Close()
}

func TestLogAppendTime(t *testing.T) {
	clock := newClock(time.Unix(1_700_000_000, 0))
	cfg := DefaultConfig()
	cfg.TimestampType = LogAppendTime
	_, l := openLog(t, ManagerConfig{Now: clock.Now}, cfg)
	r := mustAppend(t, l, simple(t, 3, 10, "a", 5))
	if r.LogAppendTime != clock.Ms() {
		t.Fatalf("log append time %d, want %d", r.LogAppendTime, clock.Ms())
	}
	b, _ := l.Read(0, 1<<20, 10)
	h, _ := ParseBatchHeader(b)
	if !h.IsLogAppendTime() || h.MaxTimestamp != clock.Ms() || batchCRC(b) != h.CRC {
		t.Fatalf("stored header %+v", h)
	}
	for _, rec := range decodeAll(t, b) {
		if rec.ts != clock.Ms() {
			t.Fatalf("record timestamp %d", rec.ts)
		}
	}
	if off, ts, err := l.OffsetForTimestamp(clock.Ms()); err != nil || off != 0 || ts != clock.Ms() {
		t.Fatalf("offset for timestamp: %d %d %v", off, ts, err)
	}
}

func TestLeaderEpochAndOffsetsAreStamped(t *testing.T) {
	_, l := openLog(t, ManagerConfig{}, DefaultConfig())
	mustAppend(t, l, simple(t, 2, 10, "a", 0))
	in := append(simple(t, 2, 10, "b", 0), simple(t, 3, 10, "c", 0)...)
	r, err := l.Append(in, 7)
	if err != nil || r.BaseOffset != 2 || r.LastOffset != 6 {
		t.Fatalf("append: %+v %v", r, err)
	}
	b, _ := l.Read(2, 1<<20, 100)
	for _, want := range []struct{ base, epoch int64 }{{2, 7}, {4, 7}} {
		h, _ := ParseBatchHeader(b)
		if h.BaseOffset != want.base || int64(h.PartitionLeaderEpoch) != want.epoch {
			t.Fatalf("batch %+v, want base %d epoch %d", h, want.base, want.epoch)
		}
		b = b[h.Size():]
	}
}

func TestAppendRejects(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxMessageBytes = 500
	_, l := openLog(t, ManagerConfig{}, cfg)
	control := batchSpec{values: values(1, 10, "c"), pid: 5, attrs: AttrControl}.build(t)
	noSeq := batchSpec{values: values(1, 10, "c"), pid: 5, seq: -1}.build(t)
	bad := simple(t, 1, 10, "x", 0)
	bad[len(bad)-1] ^= 0xff
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"too large", simple(t, 3, 200, "x", 0), ErrMessageTooLarge},
		{"bad crc", bad, ErrCorruptMessage},
		{"control batch", control, ErrInvalidRecord},
		{"idempotent without sequence", noSeq, ErrInvalidRecord},
		{"good then bad", append(simple(t, 1, 10, "ok", 0), bad...), ErrCorruptMessage},
	} {
		if _, err := l.Append(tc.in, 0); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if l.LogEndOffset() != 0 || l.Size() != 0 {
		t.Fatalf("rejected appends wrote: leo %d size %d", l.LogEndOffset(), l.Size())
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(*Config){
		"segment bytes":   func(c *Config) { c.SegmentBytes = 10 },
		"segment bytes 2": func(c *Config) { c.SegmentBytes = 1 << 32 },
		"segment age":     func(c *Config) { c.SegmentAge = 0 },
		"retention bytes": func(c *Config) { c.RetentionBytes = -2 },
		"index interval":  func(c *Config) { c.IndexIntervalBytes = -1 },
		"max message":     func(c *Config) { c.MaxMessageBytes = -1 },
		"timestamp type":  func(c *Config) { c.TimestampType = 9 },
	} {
		c := DefaultConfig()
		f(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := OpenManager(ManagerConfig{}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("manager without dir: %v", err)
	}
	m := openTest(t, ManagerConfig{})
	defer m.Close()
	for _, topic := range []string{"", "..", "a/b", "a b", strings.Repeat("x", 250)} {
		if _, err := m.OpenLog(topic, 0, DefaultConfig()); !errors.Is(err, ErrInvalidTopic) {
			t.Errorf("topic %q: %v", topic, err)
		}
	}
}
