package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"

	indexEntrySize = 8  // relative offset uint32 | position uint32
	timeEntrySize  = 12 // timestamp int64 | relative offset uint32

	maxUint32 = 1<<32 - 1
)

// segmentName is the file name stem of the segment starting at base.
func segmentName(base int64) string { return fmt.Sprintf("%020d", base) }

// parseSegmentName returns the base offset of a "<20 digits><suffix>" name.
func parseSegmentName(name, suffix string) (int64, bool) {
	stem, ok := strings.CutSuffix(name, suffix)
	if !ok || len(stem) != 20 {
		return 0, false
	}
	base, err := strconv.ParseInt(stem, 10, 64)
	if err != nil || base < 0 {
		return 0, false
	}
	return base, true
}

// indexEntry is one offset index entry: the base offset of a batch relative
// to the segment base, and the batch's byte position in the segment.
type indexEntry struct {
	rel uint32
	pos uint32
}

// timeEntry is one time index entry: the largest batch max timestamp seen so
// far in the segment, and the relative base offset of the first batch that
// carried it. Every record in a batch at or before that batch has a
// timestamp <= ts.
type timeEntry struct {
	ts  int64
	rel uint32
}

// segment is one log file with its offset and time index.
type segment struct {
	base int64
	path string // directory/<20-digit base>, without suffix
	log  File

	// size is the number of committed bytes in log. Appends store it after
	// the write and before publishing the new log end offset, so readers
	// never look past bytes that are fully written.
	size atomic.Int64

	// mu guards the fields below; readers take it shared, appends (under
	// Log.mu) take it exclusively for a few instructions.
	mu       sync.RWMutex
	loaded   bool         // idx and tidx hold the whole index (lazy for old segments)
	idx      []indexEntry // increasing rel and pos
	tidx     []timeEntry  // increasing ts and rel
	maxTs    int64        // largest batch max timestamp; -1 if none
	maxTsOff int64        // base offset of the first batch carrying maxTs; -1 if none
	gen      uint64       // bumped by each index rebuild
	rewrite  bool         // the index files must be rewritten from scratch (active segment rebuilt)

	rebuildMu sync.Mutex // serializes index rebuilds

	// Writer state, guarded by Log.mu.
	next        int64     // offset after the last batch (== base when empty)
	sinceIndex  int       // bytes appended since the last offset index entry
	firstAppend time.Time // clock at the first append, for segment.ms; zero when empty

	// Index files, open while the segment is active or awaiting its final
	// sync; guarded by Log.syncMu (Log.mu for open and close at roll).
	idxFile, tidxFile       File
	idxWritten, tidxWritten int // entries already written to the files
}

// createSegment creates empty files for a new segment at base.
func createSegment(fsys FS, dir string, base int64) (*segment, error) {
	s := &segment{base: base, path: filepath.Join(dir, segmentName(base)), loaded: true, maxTs: -1, maxTsOff: -1, next: base}
	var err error
	flags := os.O_CREATE | os.O_RDWR | os.O_TRUNC
	if s.log, err = fsys.OpenFile(s.path+logSuffix, flags, 0o644); err != nil {
		return nil, fmt.Errorf("create segment %s: %w", s.path, err)
	}
	if err := s.openIndexFiles(fsys, flags); err != nil {
		s.log.Close()
		return nil, err
	}
	return s, nil
}

// openIndexFiles opens the index files for writing.
func (s *segment) openIndexFiles(fsys FS, flags int) error {
	var err error
	if s.idxFile, err = fsys.OpenFile(s.path+indexSuffix, flags, 0o644); err != nil {
		return fmt.Errorf("open index %s: %w", s.path, err)
	}
	if s.tidxFile, err = fsys.OpenFile(s.path+timeIndexSuffix, flags, 0o644); err != nil {
		s.idxFile.Close()
		s.idxFile = nil
		return fmt.Errorf("open time index %s: %w", s.path, err)
	}
	return nil
}

// closeFiles closes every open file of the segment.
func (s *segment) closeFiles() error {
	var errs []error
	if s.idxFile != nil {
		errs = append(errs, s.idxFile.Close())
		s.idxFile = nil
	}
	if s.tidxFile != nil {
		errs = append(errs, s.tidxFile.Close())
		s.tidxFile = nil
	}
	errs = append(errs, s.log.Close())
	return errors.Join(errs...)
}

// removeFiles deletes the segment's files; the segment must be closed.
func (s *segment) removeFiles(fsys FS) error {
	return errors.Join(fsys.Remove(s.path+logSuffix), fsys.Remove(s.path+indexSuffix), fsys.Remove(s.path+timeIndexSuffix))
}

// addBatchLocked records a batch appended at pos in the in-memory indexes.
// The caller holds Log.mu.
func (s *segment) addBatchLocked(h BatchHeader, pos int64, interval int) {
	s.mu.Lock()
	if h.MaxTimestamp > s.maxTs {
		s.maxTs, s.maxTsOff = h.MaxTimestamp, h.BaseOffset
	}
	if pos > 0 && s.sinceIndex >= interval {
		s.idx = append(s.idx, indexEntry{rel: uint32(h.BaseOffset - s.base), pos: uint32(pos)})
		s.maybeAddTimeEntryLocked()
		s.sinceIndex = 0
	}
	s.mu.Unlock()
	s.sinceIndex += h.Size()
	s.next = h.LastOffset() + 1
}

// maybeAddTimeEntryLocked appends (maxTs, maxTsOff) to the time index if it
// is newer than the last entry. The caller holds s.mu.
func (s *segment) maybeAddTimeEntryLocked() {
	if s.maxTs < 0 {
		return
	}
	if n := len(s.tidx); n > 0 && s.tidx[n-1].ts >= s.maxTs {
		return
	}
	s.tidx = append(s.tidx, timeEntry{ts: s.maxTs, rel: uint32(s.maxTsOff - s.base)})
}

// generation returns the index generation, bumped by each rebuild.
func (s *segment) generation() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.gen
}

// maxTimestamp returns the largest batch max timestamp and the base offset
// of its batch, (-1, -1) if none.
func (s *segment) maxTimestamp() (ts, off int64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.maxTs, s.maxTsOff
}

// lookup returns the position and base offset of the last indexed batch
// whose base offset is <= off, or (0, s.base).
func (s *segment) lookup(off int64) (pos, base int64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if off <= s.base {
		return 0, s.base
	}
	rel := off - s.base
	i := sort.Search(len(s.idx), func(i int) bool { return int64(s.idx[i].rel) > rel })
	if i == 0 {
		return 0, s.base
	}
	e := s.idx[i-1]
	return int64(e.pos), s.base + int64(e.rel)
}

// timeLookup returns the offset of the last time index entry with a
// timestamp < ts, or s.base: no record before that offset's batch has a
// timestamp >= ts.
func (s *segment) timeLookup(ts int64) int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := sort.Search(len(s.tidx), func(i int) bool { return s.tidx[i].ts >= ts })
	if i == 0 {
		return s.base
	}
	return s.base + int64(s.tidx[i-1].rel)
}

// indexCounts returns how many entries each index holds.
func (s *segment) indexCounts() (idx, tidx int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.idx), len(s.tidx)
}

// writeIndexes writes the entries not yet in the index files, up to the
// given counts. The caller holds Log.syncMu.
func (s *segment) writeIndexes(upToIdx, upToTidx int) error {
	if s.idxFile == nil {
		return nil
	}
	s.mu.Lock()
	if s.rewrite {
		if err := errors.Join(s.idxFile.Truncate(0), s.tidxFile.Truncate(0)); err != nil {
			s.mu.Unlock()
			return fmt.Errorf("truncate index %s: %w", s.path, err)
		}
		s.idxWritten, s.tidxWritten, s.rewrite = 0, 0, false
	}
	upToIdx, upToTidx = min(upToIdx, len(s.idx)), min(upToTidx, len(s.tidx))
	var ib, tb []byte
	for _, e := range s.idx[s.idxWritten:upToIdx] {
		ib = binary.BigEndian.AppendUint32(ib, e.rel)
		ib = binary.BigEndian.AppendUint32(ib, e.pos)
	}
	for _, e := range s.tidx[s.tidxWritten:upToTidx] {
		tb = binary.BigEndian.AppendUint64(tb, uint64(e.ts))
		tb = binary.BigEndian.AppendUint32(tb, e.rel)
	}
	s.mu.Unlock()
	if len(ib) > 0 {
		if _, err := s.idxFile.WriteAt(ib, int64(s.idxWritten)*indexEntrySize); err != nil {
			return fmt.Errorf("write index %s: %w", s.path, err)
		}
		s.idxWritten = upToIdx
	}
	if len(tb) > 0 {
		if _, err := s.tidxFile.WriteAt(tb, int64(s.tidxWritten)*timeEntrySize); err != nil {
			return fmt.Errorf("write time index %s: %w", s.path, err)
		}
		s.tidxWritten = upToTidx
	}
	return nil
}

// syncIndexes fdatasyncs the open index files.
func (s *segment) syncIndexes() error {
	if s.idxFile == nil {
		return nil
	}
	if err := s.idxFile.Sync(); err != nil {
		return fmt.Errorf("sync index %s: %w", s.path, err)
	}
	if err := s.tidxFile.Sync(); err != nil {
		return fmt.Errorf("sync time index %s: %w", s.path, err)
	}
	return nil
}

// finish writes every index entry, syncs the segment's three files and
// closes the index files: the segment is no longer written. The caller
// holds Log.syncMu.
func (s *segment) finish() error {
	n, tn := s.indexCounts()
	if err := s.writeIndexes(n, tn); err != nil {
		return err
	}
	if err := s.log.Sync(); err != nil {
		return fmt.Errorf("sync segment %s: %w", s.path, err)
	}
	if err := s.syncIndexes(); err != nil {
		return err
	}
	if s.idxFile != nil {
		err := errors.Join(s.idxFile.Close(), s.tidxFile.Close())
		s.idxFile, s.tidxFile = nil, nil
		if err != nil {
			return fmt.Errorf("close index %s: %w", s.path, err)
		}
	}
	return nil
}

// decodeIndex decodes offset index bytes; a trailing partial entry is an error.
func decodeIndex(b []byte) ([]indexEntry, error) {
	if len(b)%indexEntrySize != 0 {
		return nil, fmt.Errorf("index size %d not a multiple of %d", len(b), indexEntrySize)
	}
	out := make([]indexEntry, len(b)/indexEntrySize)
	for i := range out {
		out[i] = indexEntry{rel: binary.BigEndian.Uint32(b[i*8:]), pos: binary.BigEndian.Uint32(b[i*8+4:])}
	}
	return out, nil
}

// decodeTimeIndex decodes time index bytes; a trailing partial entry is an error.
func decodeTimeIndex(b []byte) ([]timeEntry, error) {
	if len(b)%timeEntrySize != 0 {
		return nil, fmt.Errorf("time index size %d not a multiple of %d", len(b), timeEntrySize)
	}
	out := make([]timeEntry, len(b)/timeEntrySize)
	for i := range out {
		out[i] = timeEntry{ts: int64(binary.BigEndian.Uint64(b[i*12:])), rel: binary.BigEndian.Uint32(b[i*12+8:])}
	}
	return out, nil
}

// encodeIndexes encodes both indexes into file bytes.
func encodeIndexes(idx []indexEntry, tidx []timeEntry) (ib, tb []byte) {
	ib = make([]byte, 0, len(idx)*indexEntrySize)
	for _, e := range idx {
		ib = binary.BigEndian.AppendUint32(ib, e.rel)
		ib = binary.BigEndian.AppendUint32(ib, e.pos)
	}
	tb = make([]byte, 0, len(tidx)*timeEntrySize)
	for _, e := range tidx {
		tb = binary.BigEndian.AppendUint64(tb, uint64(e.ts))
		tb = binary.BigEndian.AppendUint32(tb, e.rel)
	}
	return ib, tb
}

// checkIndexes reports whether index entries are consistent with a segment
// [base, next) of size bytes: both strictly increasing, inside the segment,
// the first and last offset entries pointing at batches with the offsets
// they claim, and the last time entry at a batch with its timestamp. For a
// finished segment an empty time index must mean no batch had a timestamp.
func checkIndexes(log File, base, next, size int64, idx []indexEntry, tidx []timeEntry, finished bool) error {
	for i, e := range idx {
		if int64(e.pos) >= size || base+int64(e.rel) >= next || e.pos == 0 {
			return fmt.Errorf("index entry %d (%d, %d) outside the segment", i, e.rel, e.pos)
		}
		if i > 0 && (e.rel <= idx[i-1].rel || e.pos <= idx[i-1].pos) {
			return fmt.Errorf("index entry %d not increasing", i)
		}
	}
	for i, e := range tidx {
		if base+int64(e.rel) >= next {
			return fmt.Errorf("time index entry %d outside the segment", i)
		}
		if i > 0 && (e.ts <= tidx[i-1].ts || e.rel < tidx[i-1].rel) {
			return fmt.Errorf("time index entry %d not increasing", i)
		}
	}
	var hb [BatchHeaderSize]byte
	for _, i := range []int{0, len(idx) - 1} {
		if i < 0 || i >= len(idx) {
			continue
		}
		if _, err := log.ReadAt(hb[:], int64(idx[i].pos)); err != nil {
			return fmt.Errorf("read batch of index entry %d: %w", i, err)
		}
		if got := int64(binary.BigEndian.Uint64(hb[:])); got != base+int64(idx[i].rel) {
			return fmt.Errorf("index entry %d claims offset %d, batch has %d", i, base+int64(idx[i].rel), got)
		}
	}
	if size == 0 || (len(tidx) == 0 && !finished) {
		return nil
	}
	// The last time entry names a batch carrying its timestamp; an empty
	// time index means no batch had a timestamp (the first one included).
	target, want := base, int64(-1)
	if n := len(tidx); n > 0 {
		target, want = base+int64(tidx[n-1].rel), tidx[n-1].ts
	}
	pos := int64(0)
	if i := sort.Search(len(idx), func(i int) bool { return base+int64(idx[i].rel) > target }); i > 0 {
		pos = int64(idx[i-1].pos)
	}
	for hops := 0; ; hops++ {
		if pos+BatchHeaderSize > size || hops > 10000 {
			return fmt.Errorf("time index entry for offset %d: no such batch", target)
		}
		if _, err := log.ReadAt(hb[:], pos); err != nil {
			return fmt.Errorf("read batch of time index entry: %w", err)
		}
		h := parseHeader(hb[:])
		if h.BaseOffset == target {
			if n := len(tidx); (n > 0 && h.MaxTimestamp != want) || (n == 0 && h.MaxTimestamp >= 0) {
				return fmt.Errorf("time index says %d for offset %d, batch says %d", want, target, h.MaxTimestamp)
			}
			return nil
		}
		if h.BaseOffset > target || h.BatchLength < minBatchLength {
			return fmt.Errorf("time index entry for offset %d: no such batch", target)
		}
		pos += int64(h.Size())
	}
}

// scanner walks the batches of a segment file from a position, reading in
// large chunks. It reports malformed bytes as *CorruptionError.
type scanner struct {
	f      File
	path   string
	end    int64 // stop here (file size or committed size)
	pos    int64 // position of the next batch
	verify bool  // check CRCs and inner framing
	buf    []byte
	bufOff int64 // file position of buf[0]
	bufLen int
}

// scanChunk is how much a scanner reads at once.
const scanChunk = 1 << 20

// window returns n bytes at file position p, refilling the buffer as needed.
func (sc *scanner) window(p int64, n int) ([]byte, error) {
	if p >= sc.bufOff && p+int64(n) <= sc.bufOff+int64(sc.bufLen) {
		o := int(p - sc.bufOff)
		return sc.buf[o : o+n], nil
	}
	want := max(n, scanChunk)
	if rem := sc.end - p; int64(want) > rem {
		want = int(rem)
	}
	if cap(sc.buf) < want {
		sc.buf = make([]byte, want)
	}
	sc.buf = sc.buf[:want]
	got, err := sc.f.ReadAt(sc.buf, p)
	if got < want {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read %s at %d: %w", sc.path, p, err)
	}
	sc.bufOff, sc.bufLen = p, want
	return sc.buf[:n], nil
}

// corrupt builds the error for bad bytes at the current position.
func (sc *scanner) corrupt(format string, args ...any) error {
	return &CorruptionError{File: sc.path, Position: sc.pos, Reason: fmt.Sprintf(format, args...)}
}

// next returns the batch at the current position and moves past it; io.EOF
// at the end. The returned bytes are valid until the next call.
func (sc *scanner) next() (BatchHeader, []byte, error) {
	rem := sc.end - sc.pos
	if rem <= 0 {
		return BatchHeader{}, nil, io.EOF
	}
	if rem < BatchHeaderSize {
		return BatchHeader{}, nil, sc.corrupt("%d trailing bytes, shorter than a batch header", rem)
	}
	hb, err := sc.window(sc.pos, BatchHeaderSize)
	if err != nil {
		return BatchHeader{}, nil, err
	}
	length := int64(int32(binary.BigEndian.Uint32(hb[offBatchLength:])))
	if length < minBatchLength {
		return BatchHeader{}, nil, sc.corrupt("batch length %d", length)
	}
	if logOverhead+length > rem {
		return BatchHeader{}, nil, sc.corrupt("batch of %d bytes, %d left in the file", logOverhead+length, rem)
	}
	if hb[offMagic] != 2 {
		return BatchHeader{}, nil, sc.corrupt("magic %d", int8(hb[offMagic]))
	}
	batch, err := sc.window(sc.pos, int(logOverhead+length))
	if err != nil {
		return BatchHeader{}, nil, err
	}
	h := parseHeader(batch)
	if h.NumRecords <= 0 || int64(h.NumRecords) != int64(h.LastOffsetDelta)+1 {
		return BatchHeader{}, nil, sc.corrupt("record count %d, last offset delta %d", h.NumRecords, h.LastOffsetDelta)
	}
	if sc.verify {
		if got := batchCRC(batch); got != h.CRC {
			return BatchHeader{}, nil, sc.corrupt("crc %08x, computed %08x", h.CRC, got)
		}
	}
	sc.pos += int64(len(batch))
	return h, batch, nil
}

// buildIndexes scans a whole segment and returns indexes as appends would
// have built them, plus its max timestamp and the next offset.
func buildIndexes(log File, path string, base, size int64, interval int) (idx []indexEntry, tidx []timeEntry, maxTs, maxTsOff, next int64, err error) {
	tmp := &segment{base: base, maxTs: -1, maxTsOff: -1, next: base, loaded: true}
	sc := &scanner{f: log, path: path + logSuffix, end: size}
	for {
		pos := sc.pos
		h, _, err := sc.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, 0, 0, 0, err
		}
		tmp.addBatchLocked(h, pos, interval)
	}
	tmp.maybeAddTimeEntryLocked()
	return tmp.idx, tmp.tidx, tmp.maxTs, tmp.maxTsOff, tmp.next, nil
}
