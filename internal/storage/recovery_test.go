package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// ackedBatch is a batch whose records WaitFlushed reported durable.
type ackedBatch struct {
	log    int
	base   int64
	values [][]byte
}

// TestPowerLossKeepsFlushedRecords appends concurrently to two logs with
// WaitFlushed, cuts the power at a random moment, reopens, and checks that
// every record reported flushed is there, identical, at its offset; that
// offsets are contiguous from the log start; and that the log accepts
// appends again. Half the seeds keep a random prefix of unsynced writes
// (torn tails), half drop them all.
func TestPowerLossKeepsFlushedRecords(t *testing.T) {
	seeds := 40
	if testing.Short() {
		seeds = 8
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { powerLossRun(t, uint64(seed), FlushDurable) })
	}
	// With FlushOS only what rolled is durable: FlushedOffset still tells.
	for seed := range seeds / 4 {
		t.Run(fmt.Sprintf("os-%d", seed), func(t *testing.T) { powerLossRun(t, uint64(seed), FlushOS) })
	}
}

func powerLossRun(t *testing.T, seed uint64, flush FlushPolicy) {
	rng := rand.New(rand.NewPCG(seed, 7))
	cfs := newCrashFS()
	mcfg := ManagerConfig{Dir: "/data", FS: cfs, CheckpointBytes: 8 << 10, SyncMaxDelay: -1, Flush: flush}
	m := openTest(t, mcfg)
	cfg := smallConfig()
	cfg.SegmentBytes = 16 << 10
	var logs [2]*Log
	for i := range logs {
		var err error
		if logs[i], err = m.OpenLog("t", int32(i), cfg); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu    sync.Mutex
		acked []ackedBatch
	)
	crashAfter := 20 + rng.IntN(200)
	crashed := make(chan struct{})
	var once sync.Once
	var newFS *crashFS
	var flushedAtCrash [2]int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			prng := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := 0; ; i++ {
				select {
				case <-crashed:
					return
				default:
				}
				li := prng.IntN(len(logs))
				vals := values(1+prng.IntN(5), 10+prng.IntN(300), fmt.Sprintf("w%d-%d", w, i))
				r, err := logs[li].Append(batchSpec{values: vals, pid: -1, baseTs: 1000}.build(t), 0)
				if err != nil {
					return
				}
				if err := logs[li].WaitFlushed(context.Background(), r.LastOffset+1); err != nil {
					return
				}
				if flush == FlushDurable && logs[li].FlushedOffset() <= r.LastOffset {
					t.Errorf("WaitFlushed returned with flushed %d <= %d", logs[li].FlushedOffset(), r.LastOffset)
				}
				mu.Lock()
				acked = append(acked, ackedBatch{log: li, base: r.BaseOffset, values: vals})
				n := len(acked)
				mu.Unlock()
				if n >= crashAfter {
					once.Do(func() {
						for i, l := range logs {
							flushedAtCrash[i] = l.FlushedOffset()
						}
						newFS = cfs.Crash(rng, seed%2 == 0)
						close(crashed)
					})
				}
			}
		})
	}
	wg.Wait()
	m.Close() // fails: the machine is gone; this only stops the goroutines

	mcfg.FS = newFS
	m2 := openTest(t, mcfg)
	defer m2.Close()
	for i := range logs {
		l, err := m2.OpenLog("t", int32(i), cfg)
		if err != nil {
			t.Fatal(err)
		}
		logs[i] = l
	}
	for i, l := range logs {
		recs := readAll(t, l)
		for j, r := range recs {
			if r.offset != l.LogStartOffset()+int64(j) {
				t.Fatalf("log %d: record %d has offset %d, want contiguous from %d", i, j, r.offset, l.LogStartOffset())
			}
		}
		for _, a := range acked {
			if a.log != i {
				continue
			}
			for k, v := range a.values {
				off := a.base + int64(k)
				if off >= flushedAtCrash[i] {
					continue
				}
				if off >= int64(len(recs)) || recs[off].value != string(v) {
					t.Fatalf("log %d: acked record at offset %d lost or changed (leo %d)", i, off, l.LogEndOffset())
				}
			}
		}
		t.Logf("log %d: %d acked batches in total, flushed %d at the crash, recovered leo %d, %d segments", i, len(acked), flushedAtCrash[i], l.LogEndOffset(), l.NumSegments())
		// The log takes appends again and reads them back.
		r := mustAppend(t, l, simple(t, 2, 20, "after", 2000))
		if r.BaseOffset != int64(len(recs)) {
			t.Fatalf("log %d: append after recovery at %d, want %d", i, r.BaseOffset, len(recs))
		}
		if got := readAll(t, l); len(got) != len(recs)+2 {
			t.Fatalf("log %d: %d records after append, want %d", i, len(got), len(recs)+2)
		}
	}
}

func TestReopenAfterCleanClose(t *testing.T) {
	dir := t.TempDir()
	m := openTest(t, ManagerConfig{Dir: dir})
	l, err := m.OpenLog("t", 0, smallConfig())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		mustAppend(t, l, simple(t, 2, 100, fmt.Sprint(i), int64(1000+i)))
	}
	want := readAll(t, l)
	if l.NumSegments() < 5 {
		t.Fatalf("only %d segments", l.NumSegments())
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m = openTest(t, ManagerConfig{Dir: dir})
	defer m.Close()
	if !m.CleanShutdown() {
		t.Fatal("clean shutdown not detected")
	}
	l, err = m.OpenLog("t", 0, smallConfig())
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, l)
	if len(got) != len(want) || l.LogEndOffset() != 200 || l.FlushedOffset() != 200 {
		t.Fatalf("after reopen: %d records, leo %d, flushed %d", len(got), l.LogEndOffset(), l.FlushedOffset())
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("record %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// segmentFiles returns the paths of a log's segment files with a suffix.
func segmentFiles(t *testing.T, l *Log, suffix string) []string {
	var out []string
	for _, s := range l.segments() {
		out = append(out, s.path+suffix)
	}
	return out
}

func TestRecoveryTruncatesTornTail(t *testing.T) {
	valid := simple(t, 2, 100, "torn", 5000)
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string, size int64) // on the active segment
		keep   int64                                       // records expected to survive of 40
	}{
		{"garbage appended", func(t *testing.T, path string, size int64) {
			appendFile(t, path, bytes.Repeat([]byte{0xde, 0xad}, 100))
		}, 40},
		{"half a batch", func(t *testing.T, path string, size int64) {
			b := slices.Clone(valid)
			binary.BigEndian.PutUint64(b, 40)
			appendFile(t, path, b[:len(b)/2])
		}, 40},
		{"zeros (preallocated space)", func(t *testing.T, path string, size int64) {
			appendFile(t, path, make([]byte, 4096))
		}, 40},
		{"whole batch with a flipped byte", func(t *testing.T, path string, size int64) {
			b := slices.Clone(valid)
			binary.BigEndian.PutUint64(b, 40)
			b[100] ^= 1
			appendFile(t, path, b)
		}, 40},
		{"valid batch with the wrong offset", func(t *testing.T, path string, size int64) {
			b := slices.Clone(valid)
			binary.BigEndian.PutUint64(b, 7)
			appendFile(t, path, b)
		}, 40},
		{"corrupt byte mid segment drops everything after it", func(t *testing.T, path string, size int64) {
			writeFileAt(t, path, size/2, []byte{0xff, 0xff, 0xff})
		}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := DefaultConfig()
			m := openTest(t, ManagerConfig{Dir: dir})
			l, err := m.OpenLog("t", 0, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 20 {
				mustAppend(t, l, simple(t, 2, 100, fmt.Sprint(i), 1000))
			}
			want := readAll(t, l)
			path := segmentFiles(t, l, logSuffix)[0]
			size := l.Size()
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			// An unclean stop with no recovery checkpoint: scan everything.
			os.Remove(filepath.Join(dir, cleanShutdownFile))
			os.Remove(filepath.Join(l.Dir(), recoveryPointFile))
			tc.damage(t, path, size)

			logger, find := newCapture(t)
			m = openTest(t, ManagerConfig{Dir: dir, Logger: logger})
			defer m.Close()
			if l, err = m.OpenLog("t", 0, cfg); err != nil {
				t.Fatal(err)
			}
			got := readAll(t, l)
			if tc.keep >= 0 {
				if int64(len(got)) != tc.keep || l.Size() != size {
					t.Fatalf("%d records, size %d; want %d, %d", len(got), l.Size(), tc.keep, size)
				}
			} else if len(got) == 0 || len(got) >= len(want) || l.Size() >= size/2+1 {
				t.Fatalf("%d records, size %d after mid-segment corruption", len(got), l.Size())
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("record %d changed", i)
				}
			}
			if fi, _ := os.Stat(path); fi.Size() != l.Size() {
				t.Fatalf("file %d bytes, log %d", fi.Size(), l.Size())
			}
			if len(find("truncating corrupt log tail")) != 1 {
				t.Fatal("truncation not logged")
			}
			// Appends continue right after the last valid batch.
			if r := mustAppend(t, l, simple(t, 1, 10, "x", 0)); r.BaseOffset != int64(len(got)) {
				t.Fatalf("append at %d, want %d", r.BaseOffset, len(got))
			}
		})
	}
}

func appendFile(t *testing.T, path string, b []byte) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func writeFileAt(t *testing.T, path string, off int64, b []byte) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func TestRecoveryDropsSegmentsAfterCorruption(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	cfg.SegmentBytes = 1000
	m := openTest(t, ManagerConfig{Dir: dir})
	l, _ := m.OpenLog("t", 0, cfg)
	for i := range 30 {
		mustAppend(t, l, simple(t, 1, 200, fmt.Sprint(i), 1000))
	}
	segs := segmentFiles(t, l, logSuffix)
	m.stopForTest()
	// Corrupt the first segment: with no recovery point everything is
	// scanned, and nothing after the bad byte may survive.
	os.Remove(filepath.Join(l.Dir(), recoveryPointFile))
	writeFileAt(t, segs[0], 300, []byte{1, 2, 3, 4})
	m = openTest(t, ManagerConfig{Dir: dir})
	defer m.Close()
	l, err := m.OpenLog("t", 0, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if l.NumSegments() != 1 || l.LogEndOffset() != 1 {
		t.Fatalf("%d segments, leo %d; want 1, 1", l.NumSegments(), l.LogEndOffset())
	}
	for _, p := range segs[1:] {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("%s still exists", p)
		}
	}
}

func TestRecoveryRebuildsMismatchedIndexes(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	cfg.SegmentBytes = 3000
	cfg.IndexIntervalBytes = 100
	m := openTest(t, ManagerConfig{Dir: dir})
	l, _ := m.OpenLog("t", 0, cfg)
	for i := range 60 {
		mustAppend(t, l, simple(t, 1+i%3, 60, fmt.Sprint(i), int64(1000+i)))
	}
	want := readAll(t, l)
	idx := segmentFiles(t, l, indexSuffix)
	tidx := segmentFiles(t, l, timeIndexSuffix)
	if len(idx) < 4 {
		t.Fatalf("%d segments", len(idx))
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	// Segment 0: every relative offset off by one (plausible but wrong).
	// Segment 1: one middle entry points between two batches (only a read
	// through it can tell). Segment 2: no time index. Active segment: a
	// partial trailing entry.
	b, _ := os.ReadFile(idx[0])
	for i := 0; i < len(b); i += 8 {
		binary.BigEndian.PutUint32(b[i:], binary.BigEndian.Uint32(b[i:])+1)
	}
	os.WriteFile(idx[0], b, 0o644)
	b, _ = os.ReadFile(idx[1])
	mid := len(b) / 16 * 8
	prev, cur := binary.BigEndian.Uint32(b[mid-4:]), binary.BigEndian.Uint32(b[mid+4:])
	binary.BigEndian.PutUint32(b[mid+4:], (prev+cur)/2)
	os.WriteFile(idx[1], b, 0o644)
	os.Remove(tidx[2])
	b, _ = os.ReadFile(idx[len(idx)-1])
	os.WriteFile(idx[len(idx)-1], b[:len(b)-3], 0o644)

	logger, find := newCapture(t)
	m = openTest(t, ManagerConfig{Dir: dir, Logger: logger})
	defer m.Close()
	l, err := m.OpenLog("t", 0, cfg)
	if err != nil {
		t.Fatal(err)
	}
	leo := l.LogEndOffset()
	for off := int64(0); off < leo; off++ {
		b, err := l.Read(off, 1, leo)
		if err != nil {
			t.Fatal(err)
		}
		recs := decodeAll(t, b)
		if recs[0].offset > off || recs[len(recs)-1].offset < off {
			t.Fatalf("read %d got [%d, %d]", off, recs[0].offset, recs[len(recs)-1].offset)
		}
	}
	for _, w := range want {
		if off, ts, err := l.OffsetForTimestamp(w.ts); err != nil || ts != w.ts || off > w.offset {
			t.Fatalf("OffsetForTimestamp(%d) = %d, %d, %v", w.ts, off, ts, err)
		}
	}
	if n := len(find("rebuilding segment index")); n != 3 {
		t.Fatalf("%d index rebuilds logged, want 3", n)
	}
	if n := len(find("index does not match the recovery checkpoint; rebuilding")); n != 1 {
		t.Fatalf("active segment index rebuilt %d times, want 1", n)
	}
	// The rebuilt files are good: a clean reopen needs no rebuild.
	m.Close()
	logger, find = newCapture(t)
	m2 := openTest(t, ManagerConfig{Dir: dir, Logger: logger})
	defer m2.Close()
	l, _ = m2.OpenLog("t", 0, cfg)
	for off := int64(0); off < leo; off++ {
		if _, err := l.Read(off, 1, leo); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(find("rebuilding segment index")); n != 0 {
		t.Fatalf("%d rebuilds after a clean reopen", n)
	}
}

func TestUncleanStartScansOnlyTheTail(t *testing.T) {
	cfs := newCrashFS()
	mcfg := ManagerConfig{Dir: "/data", FS: cfs, CheckpointBytes: 4 << 10, SyncMaxDelay: -1}
	m := openTest(t, mcfg)
	cfg := smallConfig()
	cfg.SegmentBytes = 32 << 10
	l, _ := m.OpenLog("t", 0, cfg)
	var batch int64
	for i := range 400 {
		r := mustAppend(t, l, simple(t, 2, 200, fmt.Sprint(i), 1000))
		batch = int64(len(simple(t, 2, 200, fmt.Sprint(i), 1000)))
		if err := l.WaitFlushed(context.Background(), r.LastOffset+1); err != nil {
			t.Fatal(err)
		}
	}
	total, leo := l.Size(), l.LogEndOffset()
	mcfg.FS = cfs.Crash(rand.New(rand.NewPCG(1, 1)), false)
	m.Close()

	logger, find := newCapture(t)
	mcfg.Logger = logger
	m = openTest(t, mcfg)
	defer m.Close()
	if m.CleanShutdown() {
		t.Fatal("crash looked clean")
	}
	l, err := m.OpenLog("t", 0, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if l.LogEndOffset() != leo {
		t.Fatalf("leo %d, want %d", l.LogEndOffset(), leo)
	}
	recs := find("log recovered")
	if len(recs) != 1 {
		t.Fatalf("%d recovery summaries", len(recs))
	}
	scanned := attr(recs[0], "scanned_bytes").Int64()
	if scanned > mcfg.CheckpointBytes+2*batch || scanned >= total/10 {
		t.Fatalf("scanned %d bytes of %d (checkpoint every %d)", scanned, total, mcfg.CheckpointBytes)
	}
	t.Logf("scanned %d of %d bytes", scanned, total)
}

func TestGroupCommitSharesSyncs(t *testing.T) {
	m := openTest(t, ManagerConfig{})
	defer m.Close()
	var logs []*Log
	for p := range 4 {
		l, err := m.OpenLog("t", int32(p), DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, l)
	}
	const workers, each = 16, 20
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			l := logs[w%len(logs)]
			b := simple(t, 4, 200, fmt.Sprint(w), 0)
			for range each {
				r, err := l.Append(slices.Clone(b), 0)
				if err != nil {
					t.Error(err)
					return
				}
				if err := l.WaitFlushed(context.Background(), r.LastOffset+1); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	st := m.SyncStats()
	t.Logf("%d appends in %d sync rounds, %d bytes", workers*each, st.Rounds, st.Bytes)
	if st.Rounds == 0 || st.Rounds >= workers*each/2 {
		t.Fatalf("%d sync rounds for %d appends: no group commit", st.Rounds, workers*each)
	}
	for _, l := range logs {
		if l.FlushedOffset() != l.LogEndOffset() {
			t.Fatalf("flushed %d, leo %d", l.FlushedOffset(), l.LogEndOffset())
		}
	}
}

func TestWaitFlushedHonoursContextAndClose(t *testing.T) {
	_, l := openLog(t, ManagerConfig{}, DefaultConfig())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.WaitFlushed(ctx, 100); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- l.WaitFlushed(context.Background(), 100) }()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
	if _, err := l.Append(simple(t, 1, 1, "x", 0), 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	if _, err := l.Read(0, 1, 1); err != nil {
		t.Fatalf("read of empty closed log: %v", err)
	}
}

func TestFlushOSReturnsAtOnce(t *testing.T) {
	_, l := openLog(t, ManagerConfig{Flush: FlushOS}, DefaultConfig())
	mustAppend(t, l, simple(t, 1, 10, "x", 0))
	if err := l.WaitFlushed(context.Background(), 1000); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentReadersAppendRetention(t *testing.T) {
	cfg := smallConfig()
	cfg.SegmentBytes = 2000
	cfg.RetentionBytes = 6000
	m, l := openLog(t, ManagerConfig{}, cfg)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r := range 3 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 0))
			for {
				select {
				case <-stop:
					return
				default:
				}
				leo := l.LogEndOffset()
				if leo == 0 {
					continue
				}
				off := l.LogStartOffset() + rng.Int64N(leo-l.LogStartOffset()+1)
				b, err := l.Read(off, 1+rng.IntN(3000), leo)
				if errors.Is(err, ErrOffsetOutOfRange) && off < l.LogStartOffset() {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				if off < leo && len(b) == 0 {
					t.Errorf("empty read at %d < %d", off, leo)
					return
				}
				for _, rec := range decodeAll(t, b) {
					if want := fmt.Sprintf("%d-", rec.offset); !strings.HasPrefix(rec.value, want) {
						t.Errorf("offset %d has value %q", rec.offset, rec.value)
						return
					}
				}
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			m.ApplyRetention()
		}
	})
	now := time.Now().UnixMilli()
	for i := range 500 {
		off := l.LogEndOffset()
		mustAppend(t, l, batchSpec{values: [][]byte{fmt.Appendf(nil, "%d-", off)}, pid: -1, baseTs: now}.build(t))
		_ = i
	}
	close(stop)
	wg.Wait()
}
