package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzValidateBatches feeds arbitrary bytes and limits to ValidateBatches.
// Properties checked:
//   - it never panics and always returns one of the sentinel errors
//     (ErrCorruptMessage, ErrInvalidRecord, ErrMessageTooLarge) on failure;
//   - on success the bytes are a whole number of magic-2 batches, each with
//     a valid CRC-32C, at most maxBatchBytes long, recordCount ==
//     lastOffsetDelta+1 > 0, and the returned counts match the headers;
//   - the result does not depend on anything but the input (same twice).
//
// With fixCRC the CRCs are recomputed first so that the inner record
// framing is exercised too.
func FuzzValidateBatches(f *testing.F) {
	one := simple(f, 3, 20, "a", 1000)
	f.Add(one, 1<<20, false)
	f.Add(append(slices.Clone(one), simple(f, 1, 5, "b", 0)...), 1<<20, false)
	f.Add(batchSpec{values: values(4, 50, "z"), pid: 3, seq: 1, codec: CompressionZstd}.build(f), 1<<20, false)
	f.Add(one[:len(one)-1], 1<<20, false)
	f.Add(one, 10, false)
	f.Add([]byte{}, -1, false)
	bad := slices.Clone(one)
	bad[70] ^= 4
	f.Add(bad, -1, false)
	f.Add(bad, -1, true)
	f.Fuzz(func(t *testing.T, data []byte, maxBytes int, fixCRC bool) {
		if fixCRC {
			data = slices.Clone(data)
			// Let the fuzzer past the CRC to the inner record framing.
			for rest := data; len(rest) >= BatchHeaderSize; {
				n := logOverhead + int(int32(binary.BigEndian.Uint32(rest[offBatchLength:])))
				if n < BatchHeaderSize || n > len(rest) {
					break
				}
				binary.BigEndian.PutUint32(rest[offCRC:], batchCRC(rest[:n]))
				rest = rest[n:]
			}
		}
		batches, records, err := ValidateBatches(data, maxBatchArg(maxBytes))
		b2, r2, err2 := ValidateBatches(data, maxBatchArg(maxBytes))
		if b2 != batches || r2 != records || (err == nil) != (err2 == nil) {
			t.Fatal("not deterministic")
		}
		if err != nil {
			if !errors.Is(err, ErrCorruptMessage) && !errors.Is(err, ErrInvalidRecord) && !errors.Is(err, ErrMessageTooLarge) {
				t.Fatalf("error without a sentinel: %v", err)
			}
			return
		}
		nb, nr := 0, 0
		for len(data) > 0 {
			h, err := ParseBatchHeader(data)
			if err != nil {
				t.Fatalf("accepted bytes do not parse: %v", err)
			}
			if h.Size() > len(data) || batchCRC(data[:h.Size()]) != h.CRC || h.NumRecords <= 0 || int64(h.NumRecords) != int64(h.LastOffsetDelta)+1 {
				t.Fatalf("accepted a bad batch: %+v", h)
			}
			if maxBytes >= 0 && h.Size() > maxBatchArg(maxBytes) {
				t.Fatalf("accepted a batch of %d bytes over %d", h.Size(), maxBytes)
			}
			nb++
			nr += int(h.NumRecords)
			data = data[h.Size():]
		}
		if nb != batches || nr != records || nb == 0 {
			t.Fatalf("counted %d/%d, returned %d/%d", nb, nr, batches, records)
		}
	})
}

// maxBatchArg maps a fuzzed int to a limit: negative stays "no limit".
func maxBatchArg(n int) int {
	if n < 0 {
		return -1
	}
	return n % (1 << 22)
}

// recoverFixture is a log directory with one synced segment (offsets
// 0..base1-1) and an active segment at base1, built once per fuzz run.
type recoverFixture struct {
	fs      *crashFS
	base1   int64
	records []decodedRecord
}

func newRecoverFixture(t testing.TB) *recoverFixture {
	cfs := newCrashFS()
	m := openTest(t, ManagerConfig{Dir: "/data", FS: cfs})
	cfg := smallConfig()
	cfg.SegmentBytes = 2000
	cfg.IndexIntervalBytes = 100
	l, err := m.OpenLog("t", 0, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; l.NumSegments() < 2; i++ {
		mustAppend(t, l, simple(t, 1+i%3, 40, fmt.Sprint(i), int64(1000+10*i)))
	}
	fx := &recoverFixture{base1: l.active().base}
	for _, r := range readAll(t, l) {
		if r.offset < fx.base1 {
			fx.records = append(fx.records, r)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	fx.fs = cfs
	return fx
}

// build returns a fresh copy of the fixture with segment 0's index files
// and segment 1's log replaced, and a recovery point at the start of
// segment 1 (so segment 0 is trusted and segment 1 is scanned).
func (fx *recoverFixture) build(seg1, idx0, tidx0 []byte) *crashFS {
	c := newCrashFS()
	fx.fs.mu.Lock()
	for p, n := range fx.fs.live {
		nn := &cnode{data: slices.Clone(n.data), synced: slices.Clone(n.data)}
		c.live[p], c.durable[p] = nn, nn
	}
	for d := range fx.fs.dirs {
		c.dirs[d] = true
	}
	fx.fs.mu.Unlock()
	dir := "/data/topics/t-0"
	set := func(name string, b []byte) {
		n := &cnode{data: slices.Clone(b), synced: slices.Clone(b)}
		c.live[filepath.Join(dir, name)], c.durable[filepath.Join(dir, name)] = n, n
	}
	set(segmentName(0)+indexSuffix, idx0)
	set(segmentName(0)+timeIndexSuffix, tidx0)
	set(segmentName(fx.base1)+logSuffix, seg1)
	var p []byte
	for _, v := range []int64{fx.base1, 0, fx.base1, 0, 0, -1, -1} {
		p = binary.BigEndian.AppendUint64(p, uint64(v))
	}
	set(recoveryPointFile, sealed(p))
	delete(c.live, "/data/"+cleanShutdownFile)
	delete(c.durable, "/data/"+cleanShutdownFile)
	return c
}

// FuzzRecover opens a log whose active segment holds arbitrary bytes and
// whose older (trusted) segment has arbitrary index files. Properties:
//   - OpenLog does not panic or fail: bad bytes are truncated, bad indexes
//     rebuilt;
//   - the active segment is truncated to a prefix of the input made only
//     of valid batches (CRC, framing) with offsets contiguous from its base,
//     and the log end offset is right after them;
//   - every record of the older segment still reads back at its offset,
//     whatever its index files said, and timestamp lookups never fail or
//     return a record older than asked for;
//   - the log accepts an append afterwards.
func FuzzRecover(f *testing.F) {
	fx := newRecoverFixture(f)
	good := func(base int64, n int) []byte {
		var out []byte
		for i := range n {
			b := simple(f, 2, 30, fmt.Sprint(i), 5000)
			setBaseOffset(b, base+int64(2*i))
			out = append(out, b...)
		}
		return out
	}
	idx0 := fx.fs.Contents(filepath.Join("/data/topics/t-0", segmentName(0)+indexSuffix))
	tidx0 := fx.fs.Contents(filepath.Join("/data/topics/t-0", segmentName(0)+timeIndexSuffix))
	f.Add(good(fx.base1, 3), idx0, tidx0)
	f.Add(append(good(fx.base1, 2), 1, 2, 3), idx0, tidx0)
	f.Add(good(fx.base1, 3)[:150], idx0[:len(idx0)-3], []byte{})
	f.Add(good(fx.base1+1, 2), []byte{0, 0, 0, 1, 0, 0, 0, 9}, tidx0[:12])
	f.Add([]byte{}, []byte{}, []byte{})
	f.Add(bytes.Repeat([]byte{0}, 200), bytes.Repeat([]byte{0xff}, 16), bytes.Repeat([]byte{0x7f}, 24))
	f.Fuzz(func(t *testing.T, seg1, idx, tidx []byte) {
		cfs := fx.build(seg1, idx, tidx)
		m, err := OpenManager(ManagerConfig{Dir: "/data", FS: cfs})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		cfg := smallConfig()
		cfg.IndexIntervalBytes = 100
		l, err := m.OpenLog("t", 0, cfg)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		kept := cfs.Contents(filepath.Join("/data/topics/t-0", segmentName(fx.base1)+logSuffix))
		if !bytes.HasPrefix(seg1, kept) {
			t.Fatal("active segment is not a prefix of the input")
		}
		next := fx.base1
		for rest := kept; len(rest) > 0; {
			n, _, err := validateBatch(rest, -1)
			if err != nil {
				t.Fatalf("kept an invalid batch: %v", err)
			}
			if h := parseHeader(rest); h.BaseOffset != next {
				t.Fatalf("kept batch at %d, want %d", h.BaseOffset, next)
			} else {
				next = h.LastOffset() + 1
			}
			rest = rest[n:]
		}
		if l.LogEndOffset() != next {
			t.Fatalf("leo %d, want %d", l.LogEndOffset(), next)
		}
		for _, r := range fx.records {
			b, err := l.Read(r.offset, 1, l.LogEndOffset())
			if err != nil {
				t.Fatalf("read %d: %v", r.offset, err)
			}
			h, err := ParseBatchHeader(b)
			if err != nil || h.BaseOffset > r.offset || h.LastOffset() < r.offset {
				t.Fatalf("read %d returned %+v, %v", r.offset, h, err)
			}
			// A damaged but plausible time index can hide records from
			// timestamp lookups; it must not make them fail or lie.
			if off, ts, err := l.OffsetForTimestamp(r.ts); err != nil || (off >= 0 && ts < r.ts) {
				t.Fatalf("OffsetForTimestamp(%d) = %d, %d, %v", r.ts, off, ts, err)
			}
		}
		if r, err := l.Append(simple(t, 1, 5, "x", 0), 0); err != nil || r.BaseOffset != next {
			t.Fatalf("append after recovery: %+v %v", r, err)
		}
	})
}
