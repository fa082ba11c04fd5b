package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// AppendResult describes where Append put the batches.
type AppendResult struct {
	BaseOffset     int64 // offset of the first record
	LastOffset     int64 // offset of the last record
	LogAppendTime  int64 // ms stamped on the batches; -1 unless LogAppendTime
	LogStartOffset int64
	Duplicate      bool // a retried batch: offsets are the original ones, nothing written
}

// Log is one partition's log: a sequence of segments in one directory.
//
// Readers (Read, the offset getters, OffsetForTimestamp) take no log-wide
// lock: they load leo, logStart and the segment list from atomics and read
// the files with ReadAt. Writers take mu; the syncer and Close take syncMu
// before mu. See doc.go for the lock order.
type Log struct {
	m         *Manager
	topic     string
	partition int32
	dir       string
	logger    *slog.Logger

	cfg atomic.Pointer[Config]

	// Published state. Invariant: logStart <= flushed-or-leo, logStart <= leo,
	// and the last segment's base <= leo.
	segs     atomic.Pointer[[]*segment] // sorted by base; the last is active; replaced, never mutated
	leo      atomic.Int64               // log end offset
	logStart atomic.Int64               // log start offset
	flushed  atomic.Int64               // every offset below is durable
	closed   atomic.Bool
	dirty    atomic.Bool // queued for the syncer

	flushMu sync.Mutex
	flushCh chan struct{} // closed and replaced when flushed advances or the log fails; guarded by flushMu

	// syncMu serializes sync rounds, retention and Close on this log.
	syncMu    sync.Mutex
	sinceCkpt int64 // bytes synced since the last recovery checkpoint; guarded by syncMu

	// mu guards the fields below and every append.
	mu        sync.Mutex
	producers map[int64]producerState // idempotent producer state by pid
	rolled    []rolledSegment         // rolled segments awaiting their final sync, oldest first
	failed    error                   // set after an I/O error that left the log unusable; sticky
	unsynced  int64                   // bytes appended since the last sync round took its snapshot
}

// rolledSegment is a segment that stopped being active and still needs its
// final sync, and the producer state as of the roll.
type rolledSegment struct {
	seg       *segment
	snapAt    int64
	producers map[int64]producerState
}

// Topic returns the log's topic.
func (l *Log) Topic() string { return l.topic }

// Partition returns the log's partition.
func (l *Log) Partition() int32 { return l.partition }

// Dir returns the log's directory.
func (l *Log) Dir() string { return l.dir }

// Config returns the log's current configuration.
func (l *Log) Config() Config { return *l.cfg.Load() }

// SetConfig replaces the configuration; it applies to the next append,
// roll and retention pass. An invalid config is ignored and logged.
func (l *Log) SetConfig(cfg Config) {
	if err := cfg.Validate(); err != nil {
		l.logger.Error("set log config", "err", err)
		return
	}
	l.cfg.Store(&cfg)
}

// LogStartOffset returns the first offset that can be read.
func (l *Log) LogStartOffset() int64 { return l.logStart.Load() }

// LogEndOffset returns the offset the next record will get (leo).
func (l *Log) LogEndOffset() int64 { return l.leo.Load() }

// FlushedOffset returns the offset below which every record is durable.
func (l *Log) FlushedOffset() int64 { return l.flushed.Load() }

// Size returns the bytes in the log's segment files.
func (l *Log) Size() int64 {
	var n int64
	for _, s := range *l.segs.Load() {
		n += s.size.Load()
	}
	return n
}

// NumSegments returns how many segments the log has.
func (l *Log) NumSegments() int { return len(*l.segs.Load()) }

func (l *Log) segments() []*segment { return *l.segs.Load() }

func (l *Log) active() *segment {
	s := *l.segs.Load()
	return s[len(s)-1]
}

func (l *Log) setSegments(s []*segment) { l.segs.Store(&s) }

func (l *Log) errorf(op string, err error) error {
	return fmt.Errorf("%s %s-%d: %w", op, l.topic, l.partition, err)
}

// batchInfo is the part of a header Append needs after the checks.
type batchInfo struct {
	pos int
	h   BatchHeader
}

// pendingProducer is a producer state changed by the append in progress.
type pendingProducer struct {
	pid int64
	st  producerState
}

// Append validates data (one or more batches, see ValidateBatches), checks
// idempotent producer sequences, assigns offsets, stamps leaderEpoch and,
// if configured, LogAppendTime, and appends the bytes as received. It
// rewrites those header fields of data in place and does not keep data.
// It is atomic: on error nothing is written. It does not wait for fsync;
// see WaitFlushed.
func (l *Log) Append(data []byte, leaderEpoch int32) (AppendResult, error) {
	cfg := l.cfg.Load()
	if _, _, err := ValidateBatches(data, cfg.MaxMessageBytes); err != nil {
		return AppendResult{}, l.errorf("append", err)
	}
	if int64(len(data)) > maxUint32/2 {
		return AppendResult{}, l.errorf("append", fmt.Errorf("%d bytes in one append: %w", len(data), ErrMessageTooLarge))
	}
	var small [4]batchInfo
	batches := small[:0]
	for pos := 0; pos < len(data); {
		h := parseHeader(data[pos:])
		if h.IsControl() {
			return AppendResult{}, l.errorf("append", fmt.Errorf("control batch from a client: %w", ErrInvalidRecord))
		}
		if h.ProducerID >= 0 && h.BaseSequence < 0 {
			return AppendResult{}, l.errorf("append", fmt.Errorf("producer %d batch without sequence: %w", h.ProducerID, ErrInvalidRecord))
		}
		batches = append(batches, batchInfo{pos: pos, h: h})
		pos += h.Size()
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return AppendResult{}, l.errorf("append", ErrClosed)
	}
	if l.failed != nil {
		return AppendResult{}, l.errorf("append", l.failed)
	}
	now := l.m.cfg.Now()
	nowMs := now.UnixMilli()

	// Producer checks first: a duplicate or a bad sequence writes nothing.
	var smallPend [2]pendingProducer
	pend := smallPend[:0]
	next := l.leo.Load()
	for i := range batches {
		h := &batches[i].h
		if h.ProducerID < 0 {
			next += int64(h.LastOffsetDelta) + 1
			continue
		}
		j := -1
		for k := range pend {
			if pend[k].pid == h.ProducerID {
				j = k
			}
		}
		if j < 0 {
			st, known := l.producers[h.ProducerID]
			if dup, ok := st.duplicateOf(h); known && ok {
				return AppendResult{BaseOffset: dup.baseOffset, LastOffset: dup.lastOffset, LogAppendTime: -1, LogStartOffset: l.logStart.Load(), Duplicate: true}, nil
			}
			if known {
				if err := st.check(h); err != nil {
					return AppendResult{}, l.errorf("append", err)
				}
			} else {
				st = producerState{epoch: noEpoch}
			}
			pend = append(pend, pendingProducer{pid: h.ProducerID, st: st})
			j = len(pend) - 1
		} else if err := pend[j].st.check(h); err != nil {
			return AppendResult{}, l.errorf("append", err)
		}
		h.BaseOffset = next
		pend[j].st.update(h, nowMs)
		next += int64(h.LastOffsetDelta) + 1
	}

	seg := l.active()
	if l.shouldRollLocked(seg, cfg, int64(len(data)), next-1, now) {
		var err error
		if seg, err = l.rollLocked(now); err != nil {
			return AppendResult{}, l.errorf("append", err)
		}
	}

	base := l.leo.Load()
	lat := int64(-1)
	if cfg.TimestampType == LogAppendTime {
		lat = nowMs
	}
	off := base
	for i := range batches {
		b := &batches[i]
		batch := data[b.pos : b.pos+b.h.Size()]
		setBaseOffset(batch, off)
		setLeaderEpoch(batch, leaderEpoch)
		b.h.BaseOffset = off
		b.h.PartitionLeaderEpoch = leaderEpoch
		if lat >= 0 {
			setLogAppendTime(batch, lat)
			b.h.MaxTimestamp = lat
			b.h.Attributes |= AttrLogAppendTime
		}
		off += int64(b.h.LastOffsetDelta) + 1
	}

	pos := seg.size.Load()
	if n, err := seg.log.WriteAt(data, pos); err != nil || n != len(data) {
		if err == nil {
			err = io.ErrShortWrite
		}
		if terr := seg.log.Truncate(pos); terr != nil {
			l.failed = fmt.Errorf("segment %s has a partial write: %w", seg.path, errors.Join(err, terr))
			l.logger.Error("log failed", "err", l.failed)
			l.wakeWaiters()
		}
		return AppendResult{}, l.errorf("append", fmt.Errorf("write segment %s: %w", seg.path, err))
	}
	if seg.firstAppend.IsZero() {
		seg.firstAppend = now
	}
	for i := range batches {
		seg.addBatchLocked(batches[i].h, pos+int64(batches[i].pos), cfg.IndexIntervalBytes)
	}
	for _, p := range pend {
		l.producers[p.pid] = p.st
	}
	seg.size.Store(pos + int64(len(data)))
	l.leo.Store(off)
	l.markDirty(int64(len(data)))
	return AppendResult{BaseOffset: base, LastOffset: off - 1, LogAppendTime: lat, LogStartOffset: l.logStart.Load()}, nil
}

// shouldRollLocked reports whether an append of n bytes ending at lastOffset
// must go to a new segment.
func (l *Log) shouldRollLocked(seg *segment, cfg *Config, n, lastOffset int64, now time.Time) bool {
	size := seg.size.Load()
	if size == 0 {
		return false
	}
	return size+n > cfg.SegmentBytes ||
		size+n > maxUint32 ||
		lastOffset-seg.base > maxUint32 ||
		(!seg.firstAppend.IsZero() && now.Sub(seg.firstAppend) >= cfg.SegmentAge)
}

// rollLocked starts a new active segment at leo. The old one is finished
// (indexes written, files synced) by the syncer.
func (l *Log) rollLocked(now time.Time) (*segment, error) {
	old := l.active()
	base := l.leo.Load()
	seg, err := createSegment(l.m.fs, l.dir, base)
	if err != nil {
		return nil, fmt.Errorf("roll: %w", err)
	}
	old.mu.Lock()
	old.maybeAddTimeEntryLocked()
	old.mu.Unlock()
	r := rolledSegment{seg: old, snapAt: base}
	if l.m.cfg.Flush == FlushOS {
		// Under FlushDurable the syncer snapshots at leo instead.
		r.producers = maps.Clone(l.producers)
	}
	l.rolled = append(l.rolled, r)
	segs := append(l.segments()[:len(l.segments()):len(l.segments())], seg)
	l.setSegments(segs)
	l.logger.Info("segment roll", "offset", base, "old_size", old.size.Load(), "age", now.Sub(old.firstAppend).Round(time.Millisecond))
	l.markDirty(0)
	return seg, nil
}

// markDirty queues the log for the next sync round. The caller holds mu.
func (l *Log) markDirty(n int64) {
	l.unsynced += n
	l.m.addPending(n)
	if l.dirty.CompareAndSwap(false, true) {
		l.m.enqueueDirty(l)
	}
}

// flushWaitCh returns a channel closed the next time flushed advances.
func (l *Log) flushWaitCh() chan struct{} {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	return l.flushCh
}

// advanceFlushed publishes a new flushed offset and wakes waiters.
func (l *Log) advanceFlushed(off int64) {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	if off > l.flushed.Load() {
		l.flushed.Store(off)
	}
	close(l.flushCh)
	l.flushCh = make(chan struct{})
}

// wakeWaiters wakes WaitFlushed callers so they see a failure or Close.
func (l *Log) wakeWaiters() { l.advanceFlushed(0) }

// failedErr returns the sticky failure, if any.
func (l *Log) failedErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed
}

// WaitFlushed blocks until every record below offset is durable, ctx ends,
// the log fails or it is closed. With FlushOS it returns nil at once.
func (l *Log) WaitFlushed(ctx context.Context, offset int64) error {
	if l.m.cfg.Flush == FlushOS {
		return nil
	}
	for {
		ch := l.flushWaitCh()
		if l.flushed.Load() >= offset {
			return nil
		}
		if err := l.failedErr(); err != nil {
			return l.errorf("wait flushed", err)
		}
		if l.closed.Load() {
			return l.errorf("wait flushed", ErrClosed)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return l.errorf("wait flushed", ctx.Err())
		}
	}
}

// findSegment returns the index of the segment holding offset, -1 if it is
// below the first segment.
func findSegment(segs []*segment, offset int64) int {
	return sort.Search(len(segs), func(i int) bool { return segs[i].base > offset }) - 1
}

// Read returns whole batches starting with the batch that contains offset,
// stopping before maxOffset (exclusive) and once maxBytes would be passed,
// but always at least one whole batch if one is below maxOffset (KIP-74).
// offset below the log start or above leo: ErrOffsetOutOfRange. offset at
// leo or at/after maxOffset: nil, nil. The bytes are the caller's.
func (l *Log) Read(offset int64, maxBytes int, maxOffset int64) ([]byte, error) {
	return l.ReadInto(nil, offset, maxBytes, maxOffset)
}

// ReadInto is Read appending to dst[:0], so callers can recycle buffers: the
// result aliases dst when it fits in its capacity.
func (l *Log) ReadInto(dst []byte, offset int64, maxBytes int, maxOffset int64) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		out, err := l.read(dst[:0], offset, maxBytes, maxOffset)
		// A segment deleted by retention under us: retry with fresh state.
		if err != nil && errors.Is(err, fs.ErrClosed) && !l.closed.Load() && attempt < 3 {
			continue
		}
		if err != nil && l.closed.Load() && !errors.Is(err, ErrOffsetOutOfRange) {
			return nil, l.errorf("read", ErrClosed)
		}
		return out, err
	}
}

func (l *Log) read(out []byte, offset int64, maxBytes int, maxOffset int64) ([]byte, error) {
	leo := l.leo.Load()
	start := l.logStart.Load()
	if offset < start || offset > leo {
		return nil, l.errorf("read", fmt.Errorf("offset %d not in [%d, %d]: %w", offset, start, leo, ErrOffsetOutOfRange))
	}
	limit := min(leo, maxOffset)
	if offset >= limit {
		return nil, nil
	}
	segs := l.segments()
	i := findSegment(segs, offset)
	if i < 0 {
		return nil, l.errorf("read", fmt.Errorf("offset %d below log start %d: %w", offset, l.logStart.Load(), ErrOffsetOutOfRange))
	}
	for ; i < len(segs); i++ {
		seg := segs[i]
		var more bool
		var err error
		out, more, err = l.readSegment(seg, out, offset, limit, maxBytes)
		if err != nil {
			return nil, err
		}
		if !more || i+1 >= len(segs) {
			break
		}
		offset = segs[i+1].base
	}
	return out, nil
}

// readSegment appends to out the batches of seg from the one containing
// offset, below limit and within maxBytes (the first batch of the whole
// read is always taken). more says the segment end was reached with budget
// left.
func (l *Log) readSegment(seg *segment, out []byte, offset, limit int64, maxBytes int) ([]byte, bool, error) {
	if err := l.ensureIndex(seg); err != nil {
		return nil, false, err
	}
	end := seg.size.Load()
	gen := seg.generation()
	pos, want := seg.lookup(offset)
	var hb [BatchHeaderSize]byte
	// Hop from the indexed batch to the one containing offset.
	for first := true; ; first = false {
		if pos+BatchHeaderSize > end {
			return out, true, nil
		}
		if _, err := seg.log.ReadAt(hb[:], pos); err != nil {
			return nil, false, fmt.Errorf("read segment %s at %d: %w", seg.path, pos, err)
		}
		h := parseHeader(hb[:])
		if first && h.BaseOffset != want {
			// The index points at the wrong place: rebuild it and retry.
			if err := l.rebuildIndex(seg, gen, fmt.Sprintf("entry for offset %d points at offset %d", want, h.BaseOffset)); err != nil {
				return nil, false, err
			}
			gen = seg.generation()
			pos, want = seg.lookup(offset)
			first = true
			continue
		}
		if h.BatchLength < minBatchLength {
			return nil, false, &CorruptionError{File: seg.path + logSuffix, Position: pos, Reason: fmt.Sprintf("batch length %d", h.BatchLength)}
		}
		if h.LastOffset() >= offset {
			if h.LastOffset() >= limit {
				return out, false, nil
			}
			break
		}
		pos += int64(h.Size())
	}
	// Read the budget in one go, then cut at the last whole batch that fits.
	budget := int64(maxBytes - len(out))
	firstSize := int64(logOverhead) + int64(int32(binary.BigEndian.Uint32(hb[offBatchLength:])))
	if len(out) == 0 {
		budget = max(budget, firstSize)
	}
	if budget < firstSize {
		return out, false, nil
	}
	n := min(budget, end-pos)
	start := len(out)
	out = slices.Grow(out, int(n))[:start+int(n)]
	buf := out[start:]
	if got, err := seg.log.ReadAt(buf, pos); int64(got) < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, false, fmt.Errorf("read segment %s at %d: %w", seg.path, pos, err)
	}
	p := 0
	for p+BatchHeaderSize <= len(buf) {
		size := logOverhead + int(int32(binary.BigEndian.Uint32(buf[p+offBatchLength:])))
		if size < BatchHeaderSize || p+size > len(buf) {
			break
		}
		last := int64(binary.BigEndian.Uint64(buf[p:])) + int64(int32(binary.BigEndian.Uint32(buf[p+offLastOffsetDelta:])))
		if last >= limit {
			return out[:start+p], false, nil
		}
		p += size
	}
	more := pos+int64(p) == end && len(out[:start+p]) < maxBytes
	return out[:start+p], more, nil
}

// ensureIndex loads an old segment's index files on first use, rebuilding
// them if they do not match the segment.
func (l *Log) ensureIndex(seg *segment) error {
	seg.mu.RLock()
	ok := seg.loaded
	seg.mu.RUnlock()
	if ok {
		return nil
	}
	seg.mu.Lock()
	if seg.loaded {
		seg.mu.Unlock()
		return nil
	}
	gen := seg.gen
	fsys := l.m.fs
	var idx []indexEntry
	var tidx []timeEntry
	ib, err := readFile(fsys, seg.path+indexSuffix)
	if err == nil {
		idx, err = decodeIndex(ib)
	}
	if err == nil {
		var tb []byte
		if tb, err = readFile(fsys, seg.path+timeIndexSuffix); err == nil {
			tidx, err = decodeTimeIndex(tb)
		}
	}
	if err == nil {
		err = checkIndexes(seg.log, seg.base, seg.next, seg.size.Load(), idx, tidx, true)
	}
	if err == nil {
		seg.idx, seg.tidx, seg.loaded = idx, tidx, true
		if n := len(tidx); n > 0 {
			seg.maxTs, seg.maxTsOff = tidx[n-1].ts, seg.base+int64(tidx[n-1].rel)
		}
		seg.mu.Unlock()
		return nil
	}
	seg.mu.Unlock()
	return l.rebuildIndex(seg, gen, err.Error())
}

// rebuildIndex rebuilds a segment's indexes from its batches, unless they
// were rebuilt since generation gen, and rewrites the index files of a
// segment that is no longer written (the syncer rewrites the active one's).
func (l *Log) rebuildIndex(seg *segment, gen uint64, reason string) error {
	seg.rebuildMu.Lock()
	defer seg.rebuildMu.Unlock()
	if seg.generation() != gen {
		return nil
	}
	p := l.segs.Load()
	active := p != nil && (*p)[len(*p)-1] == seg
	if active {
		// Appends would race with the scan.
		l.mu.Lock()
		defer l.mu.Unlock()
	}
	l.logger.Warn("rebuilding segment index", "segment", seg.path, "reason", reason)
	cfg := l.cfg.Load()
	idx, tidx, maxTs, maxTsOff, _, err := buildIndexes(seg.log, seg.path, seg.base, seg.size.Load(), cfg.IndexIntervalBytes)
	if err != nil {
		return fmt.Errorf("rebuild index %s: %w", seg.path, err)
	}
	seg.mu.Lock()
	seg.idx, seg.tidx, seg.maxTs, seg.maxTsOff, seg.loaded = idx, tidx, maxTs, maxTsOff, true
	seg.gen++
	seg.rewrite = active
	seg.mu.Unlock()
	if active {
		l.markDirty(0)
		return nil
	}
	ib, tb := encodeIndexes(idx, tidx)
	dir, name := l.dir, segmentName(seg.base)
	if err := writeFileAtomic(l.m.fs, dir, name+indexSuffix, ib); err != nil {
		l.logger.Error("rewrite index", "err", err)
	}
	if err := writeFileAtomic(l.m.fs, dir, name+timeIndexSuffix, tb); err != nil {
		l.logger.Error("rewrite time index", "err", err)
	}
	return nil
}
