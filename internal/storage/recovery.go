package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// openLog opens or creates the log directory of a partition. After an
// unclean shutdown it recovers it: batches after the recovery checkpoint
// are validated, a torn or corrupt tail is truncated (and logged), indexes
// of the scanned segments are rebuilt and producer state is rebuilt from
// the newest snapshot plus the batches after it.
func (m *Manager) openLog(topic string, partition int32, cfg Config) (*Log, error) {
	dir := m.logDir(topic, partition)
	l := &Log{
		m:         m,
		topic:     topic,
		partition: partition,
		dir:       dir,
		logger:    m.logger.With("topic", topic, "partition", partition),
		producers: make(map[int64]producerState),
		flushCh:   make(chan struct{}),
	}
	l.cfg.Store(&cfg)
	if err := m.dropStaleLogDir(l, cfg.TopicID); err != nil {
		return nil, err
	}
	names, err := m.fs.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := m.fs.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create log dir: %w", err)
		}
		if err := m.fs.SyncDir(filepath.Dir(dir)); err != nil {
			return nil, fmt.Errorf("sync %s: %w", filepath.Dir(dir), err)
		}
		if err := writeTopicID(m.fs, dir, cfg.TopicID); err != nil {
			return nil, err
		}
		if err := l.startEmpty(0); err != nil {
			return nil, err
		}
		l.logger.Info("log created", "dir", dir)
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list log dir: %w", err)
	}
	r := &recovery{l: l, names: names, start: time.Now()}
	if err := r.run(); err != nil {
		for _, s := range r.segs {
			s.closeFiles()
		}
		return nil, err
	}
	return l, nil
}

// startEmpty gives the log one empty segment at base.
func (l *Log) startEmpty(base int64) error {
	seg, err := createSegment(l.m.fs, l.dir, base)
	if err != nil {
		return err
	}
	if err := l.m.fs.SyncDir(l.dir); err != nil {
		seg.closeFiles()
		return fmt.Errorf("sync %s: %w", l.dir, err)
	}
	l.setSegments([]*segment{seg})
	l.leo.Store(base)
	l.logStart.Store(base)
	l.flushed.Store(base)
	return nil
}

// recovery holds the state of one log's open.
type recovery struct {
	l     *Log
	names []string
	start time.Time
	segs  []*segment

	scanned  int64 // bytes validated
	dropped  int64 // bytes truncated or deleted
	scanFrom int   // first segment that was scanned
}

func (r *recovery) run() error {
	l, fsys := r.l, r.l.m.fs
	cfg := l.cfg.Load()
	var bases []int64
	for _, n := range r.names {
		switch {
		case strings.HasSuffix(n, tmpSuffix):
			if err := fsys.Remove(filepath.Join(l.dir, n)); err != nil {
				return fmt.Errorf("remove %s: %w", n, err)
			}
		default:
			if b, ok := parseSegmentName(n, logSuffix); ok {
				bases = append(bases, b)
			}
		}
	}
	slices.Sort(bases)
	// Index files without a segment are left over from a deletion.
	for _, n := range r.names {
		for _, suf := range []string{indexSuffix, timeIndexSuffix} {
			if b, ok := parseSegmentName(n, suf); ok {
				if _, found := slices.BinarySearch(bases, b); !found {
					fsys.Remove(filepath.Join(l.dir, n))
				}
			}
		}
	}
	ckStart, hasStart, err := readLogStart(fsys, l.dir)
	if err != nil {
		return err
	}
	if len(bases) == 0 {
		return l.startEmpty(max(ckStart, 0))
	}
	rp, hasRP, err := readRecoveryPoint(fsys, l.dir)
	if err != nil {
		return err
	}
	for _, b := range bases {
		s := &segment{base: b, path: filepath.Join(l.dir, segmentName(b)), maxTs: -1, maxTsOff: -1, next: b}
		if s.log, err = fsys.OpenFile(s.path+logSuffix, os.O_RDWR, 0o644); err != nil {
			return fmt.Errorf("open segment: %w", err)
		}
		r.segs = append(r.segs, s)
		size, err := s.log.Size()
		if err != nil {
			return fmt.Errorf("size of segment %s: %w", s.path, err)
		}
		s.size.Store(size)
	}

	// Where to start validating.
	i0, pos0, next0 := 0, int64(0), bases[0]
	useRP := false
	if hasRP {
		if j, found := slices.BinarySearch(bases, rp.segBase); found && rp.pos <= r.segs[j].size.Load() {
			i0, pos0, next0, useRP = j, rp.pos, rp.next, true
		} else if found {
			i0, next0 = j, rp.segBase
		}
	}
	last := len(r.segs) - 1
	clean := l.m.clean && useRP && i0 == last && pos0 == r.segs[last].size.Load()
	if !clean {
		l.logger.Info("recovering log", "dir", l.dir, "segments", len(r.segs), "from_segment", bases[i0], "from_position", pos0)
	}
	r.scanFrom = i0

	// Segments before the recovery point were synced with their indexes
	// when they rolled: trust them, load their indexes lazily.
	for i := range i0 {
		s := r.segs[i]
		s.next = bases[i+1]
		if ts, off, ok := readLastTimeEntry(fsys, s); ok {
			s.maxTs, s.maxTsOff = ts, off
		} else if err := l.ensureIndex(s); err != nil {
			return err
		}
	}

	// Validate from the recovery point on; stop at the first bad byte.
	next := next0
	cut := -1 // index of the first segment to delete after a truncation
	for i := i0; i < len(r.segs); i++ {
		s := r.segs[i]
		from := int64(0)
		if i == i0 {
			from = pos0
		} else if s.base != next {
			l.logger.Warn("segment does not continue the log", "segment", s.path, "offset", next)
			cut = i
			break
		}
		keepIdx, keepTidx := 0, 0
		if i == i0 && useRP && from > 0 {
			k, tk, ok := r.loadIndexPrefix(s, rp)
			if ok {
				keepIdx, keepTidx = k, tk
				s.maxTs, s.maxTsOff = rp.maxTs, rp.maxTsOff
				s.sinceIndex = int(from)
				if k > 0 {
					s.sinceIndex = int(from - int64(s.idx[k-1].pos))
				}
			} else {
				from, next = 0, s.base
				s.idx, s.tidx = nil, nil
			}
		}
		s.loaded = true
		s.next = next
		sc := &scanner{f: s.log, path: s.path + logSuffix, end: s.size.Load(), pos: from, verify: true}
		for {
			pos := sc.pos
			h, batch, err := sc.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err == nil && h.BaseOffset != s.next {
				err = &CorruptionError{File: sc.path, Position: pos, Reason: fmt.Sprintf("batch offset %d, want %d", h.BaseOffset, s.next)}
			}
			if err == nil && h.Compression() == CompressionNone {
				if verr := validateRecords(batch[BatchHeaderSize:], h.NumRecords); verr != nil {
					err = &CorruptionError{File: sc.path, Position: pos, Reason: verr.Error()}
				}
			}
			var ce *CorruptionError
			if errors.As(err, &ce) {
				size := s.size.Load()
				l.logger.Warn("truncating corrupt log tail", "segment", sc.path, "position", pos, "offset", s.next, "dropped_bytes", size-pos, "err", err)
				r.dropped += size - pos
				if terr := s.log.Truncate(pos); terr != nil {
					return fmt.Errorf("truncate %s: %w", sc.path, terr)
				}
				s.size.Store(pos)
				cut = i + 1
				break
			}
			if err != nil {
				return err
			}
			r.scanned += int64(h.Size())
			s.addBatchLocked(h, pos, cfg.IndexIntervalBytes)
		}
		next = s.next
		if i == len(r.segs)-1 || cut >= 0 {
			s.idxWritten, s.tidxWritten = keepIdx, keepTidx
		} else {
			s.maybeAddTimeEntryLocked()
		}
		if cut >= 0 {
			break
		}
	}
	if cut >= 0 {
		for _, s := range r.segs[cut:] {
			size := s.size.Load()
			l.logger.Warn("deleting segment after corrupt data", "segment", s.path, "dropped_bytes", size)
			r.dropped += size
			if err := errors.Join(s.closeFiles(), s.removeFiles(fsys)); err != nil {
				return fmt.Errorf("delete segment %s: %w", s.path, err)
			}
		}
		r.segs = r.segs[:cut]
	}
	if len(r.segs) == 0 {
		// The first segment did not start where it claimed.
		return l.startEmpty(max(ckStart, bases[0]))
	}
	act := r.segs[len(r.segs)-1]
	leo := act.next

	// Make what was scanned durable, with full indexes for the segments
	// that are no longer written.
	for i := r.scanFrom; i < len(r.segs); i++ {
		s := r.segs[i]
		if clean {
			break
		}
		if err := s.log.Sync(); err != nil {
			return fmt.Errorf("sync segment %s: %w", s.path, err)
		}
		if s == act {
			break
		}
		ib, tb := encodeIndexes(s.idx, s.tidx)
		if err := writeFileAtomic(fsys, l.dir, segmentName(s.base)+indexSuffix, ib); err != nil {
			return err
		}
		if err := writeFileAtomic(fsys, l.dir, segmentName(s.base)+timeIndexSuffix, tb); err != nil {
			return err
		}
	}
	if err := act.openIndexFiles(fsys, os.O_CREATE|os.O_RDWR); err != nil {
		return err
	}
	if err := errors.Join(act.idxFile.Truncate(int64(act.idxWritten)*indexEntrySize), act.tidxFile.Truncate(int64(act.tidxWritten)*timeEntrySize)); err != nil {
		return fmt.Errorf("truncate index %s: %w", act.path, err)
	}
	if !clean {
		n, tn := act.indexCounts()
		if err := act.writeIndexes(n, tn); err != nil {
			return err
		}
		if err := act.syncIndexes(); err != nil {
			return err
		}
		if err := fsys.SyncDir(l.dir); err != nil {
			return fmt.Errorf("sync %s: %w", l.dir, err)
		}
	}
	if act.size.Load() > 0 {
		act.firstAppend = time.Now()
		if ts := r.firstBatchTimestamp(act); ts > 0 {
			act.firstAppend = time.UnixMilli(ts)
		}
	}

	// Log start: the checkpoint, or the first segment.
	logStart := r.segs[0].base
	if hasStart && ckStart > logStart {
		logStart = ckStart
	}
	l.setSegments(r.segs)
	l.leo.Store(leo)
	if logStart > leo {
		l.logger.Warn("log start offset beyond recovered end; starting empty", "offset", logStart, "leo", leo)
		for _, s := range r.segs {
			if err := errors.Join(s.closeFiles(), s.removeFiles(fsys)); err != nil {
				return fmt.Errorf("delete segment %s: %w", s.path, err)
			}
		}
		r.segs = nil
		if err := l.startEmpty(logStart); err != nil {
			return err
		}
		r.segs = l.segments()
		leo = logStart
	}
	l.logStart.Store(logStart)
	l.flushed.Store(leo)
	if err := l.deleteSegmentsBelowStart(); err != nil {
		return err
	}
	r.segs = l.segments()

	if err := r.rebuildProducers(leo, logStart, clean); err != nil {
		return err
	}
	act = l.active()
	if !clean {
		n, tn := act.indexCounts()
		mts, moff := act.maxTimestamp()
		if err := writeRecoveryPoint(fsys, l.dir, recoveryPoint{segBase: act.base, pos: act.size.Load(), next: leo, idxEntries: int64(n), tidxEntries: int64(tn), maxTs: mts, maxTsOff: moff}); err != nil {
			return err
		}
		l.logger.Info("log recovered", "segments", len(r.segs), "log_start", logStart, "leo", leo,
			"scanned_bytes", r.scanned, "dropped_bytes", r.dropped, "producers", len(l.producers), "took", time.Since(r.start).Round(time.Millisecond))
	}
	return nil
}

// loadIndexPrefix loads the first rp.idxEntries / rp.tidxEntries entries
// of the recovery point's segment, which were synced with the checkpoint.
func (r *recovery) loadIndexPrefix(s *segment, rp recoveryPoint) (k, tk int, ok bool) {
	fsys := r.l.m.fs
	ib, err := readFile(fsys, s.path+indexSuffix)
	if err == nil && int64(len(ib)) < rp.idxEntries*indexEntrySize {
		err = fmt.Errorf("index has %d bytes, checkpoint has %d entries", len(ib), rp.idxEntries)
	}
	var tb []byte
	if err == nil {
		tb, err = readFile(fsys, s.path+timeIndexSuffix)
	}
	if err == nil && int64(len(tb)) < rp.tidxEntries*timeEntrySize {
		err = fmt.Errorf("time index has %d bytes, checkpoint has %d entries", len(tb), rp.tidxEntries)
	}
	var idx []indexEntry
	var tidx []timeEntry
	if err == nil {
		idx, err = decodeIndex(ib[:rp.idxEntries*indexEntrySize])
	}
	if err == nil {
		tidx, err = decodeTimeIndex(tb[:rp.tidxEntries*timeEntrySize])
	}
	if err == nil {
		err = checkIndexes(s.log, s.base, rp.next, rp.pos, idx, tidx, false)
	}
	if err != nil {
		r.l.logger.Warn("index does not match the recovery checkpoint; rebuilding", "segment", s.path, "err", err)
		return 0, 0, false
	}
	s.idx, s.tidx = idx, tidx
	return len(idx), len(tidx), true
}

// readLastTimeEntry reads the last time index entry of a synced segment.
func readLastTimeEntry(fsys FS, s *segment) (ts, off int64, ok bool) {
	f, err := fsys.OpenFile(s.path+timeIndexSuffix, os.O_RDONLY, 0)
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil || size%timeEntrySize != 0 {
		return 0, 0, false
	}
	if size == 0 {
		return -1, -1, s.size.Load() == 0
	}
	var b [timeEntrySize]byte
	if _, err := f.ReadAt(b[:], size-timeEntrySize); err != nil {
		return 0, 0, false
	}
	rel := int64(binary.BigEndian.Uint32(b[8:]))
	if s.base+rel >= s.next {
		return 0, 0, false
	}
	return int64(binary.BigEndian.Uint64(b[:])), s.base + rel, true
}

// firstBatchTimestamp returns the max timestamp of a segment's first batch.
func (r *recovery) firstBatchTimestamp(s *segment) int64 {
	var hb [BatchHeaderSize]byte
	if _, err := s.log.ReadAt(hb[:], 0); err != nil {
		return -1
	}
	return parseHeader(hb[:]).MaxTimestamp
}

// rebuildProducers loads the newest usable producer snapshot and replays
// the batches after it.
func (r *recovery) rebuildProducers(leo, logStart int64, clean bool) error {
	l, fsys := r.l, r.l.m.fs
	nowMs := l.m.cfg.Now().UnixMilli()
	offs := listSnapshots(r.names)
	from := l.segments()[0].base
	for i := len(offs) - 1; i >= 0; i-- {
		path := filepath.Join(l.dir, snapshotName(offs[i]))
		if offs[i] > leo {
			l.logger.Warn("deleting producer snapshot beyond the log end", "offset", offs[i], "leo", leo)
			if err := fsys.Remove(path); err != nil {
				return fmt.Errorf("remove snapshot: %w", err)
			}
			continue
		}
		b, err := readFile(fsys, path)
		if err != nil {
			return fmt.Errorf("read producer snapshot: %w", err)
		}
		at, m, err := decodeSnapshot(b)
		if err != nil || at != offs[i] {
			l.logger.Warn("ignoring unreadable producer snapshot", "offset", offs[i], "err", err)
			continue
		}
		l.producers, from = m, at
		break
	}
	if from < leo {
		segs := l.segments()
		for i := max(findSegment(segs, from), 0); i < len(segs); i++ {
			s := segs[i]
			if err := l.ensureIndex(s); err != nil {
				return err
			}
			pos, _ := s.lookup(from)
			sc := &scanner{f: s.log, path: s.path + logSuffix, end: s.size.Load(), pos: pos}
			for {
				h, _, err := sc.next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return fmt.Errorf("replay producer state: %w", err)
				}
				if h.LastOffset() >= from {
					applyRebuilt(l.producers, &h, nowMs)
				}
			}
		}
		if clean {
			l.logger.Info("replayed producer state after snapshot", "from", from, "leo", leo)
		}
	}
	for pid, p := range l.producers {
		if p.lastOffset() < logStart {
			delete(l.producers, pid)
		}
	}
	return nil
}

// deleteSegmentsBelowStart deletes the segments wholly below the log start
// offset, never the active one. The caller holds syncMu (or owns the log
// exclusively during open).
func (l *Log) deleteSegmentsBelowStart() error {
	l.mu.Lock()
	segs := l.segments()
	start := l.logStart.Load()
	k := 0
	for k+1 < len(segs) && segs[k+1].base <= start {
		k++
	}
	gone := segs[:k]
	if k > 0 {
		l.setSegments(slices.Clone(segs[k:]))
	}
	l.mu.Unlock()
	return l.removeSegments(gone, "below log start offset")
}

// removeSegments closes and deletes segments already unlinked from the log.
func (l *Log) removeSegments(gone []*segment, why string) error {
	var errs []error
	for _, s := range gone {
		l.logger.Info("deleting segment", "segment", s.path, "reason", why, "bytes", s.size.Load())
		errs = append(errs, s.closeFiles(), s.removeFiles(l.m.fs))
	}
	if err := errors.Join(errs...); err != nil {
		return l.errorf("delete segments", err)
	}
	return nil
}
