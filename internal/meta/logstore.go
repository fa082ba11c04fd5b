package meta

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// CorruptionError reports a damaged record in one of the files under
// <data>/meta/ that is not a torn tail, so it cannot be dropped safely.
type CorruptionError struct {
	Path   string
	Offset int64
	Reason string
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("corrupt %s at offset %d: %s", e.Path, e.Offset, e.Reason)
}

// Record kinds in raft.log.
const (
	recordEntry       byte = 1
	recordDeleteRange byte = 2
)

const (
	// recordHeaderSize is the length and CRC in front of every record.
	recordHeaderSize = 8
	// maxRecordSize bounds one record; a length above it is garbage.
	maxRecordSize = 64 << 20
	// defaultCompactMinBytes is how many dead bytes raft.log may carry
	// before it is rewritten.
	defaultCompactMinBytes = 1 << 20
)

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// logEntry is one raft log entry held in memory together with the size of
// its record in raft.log.
type logEntry struct {
	log  raft.Log
	size int64
}

// logStore is the durable raft.LogStore: every entry lives in memory and in
// raft.log, an append-only file of CRC-checked records (layout in doc.go).
// Each StoreLogs and DeleteRange appends one write and fsyncs it. When more
// than half of the file (and at least compactMin bytes) is deleted entries,
// the file is rewritten with only the live ones and renamed into place.
//
// mu guards every field below.
type logStore struct {
	mu     sync.Mutex
	path   string
	logger *slog.Logger
	f      *os.File // nil after close
	size   int64    // bytes in f
	// entries are contiguous: entries[i].log.Index == entries[0].log.Index+i.
	entries    []logEntry
	liveBytes  int64 // sum of entries[i].size
	compactMin int64
	// err is the first write error; once set every later write fails, since
	// the file's tail is no longer known to match memory.
	err error
}

var (
	_ raft.LogStore          = (*logStore)(nil)
	_ raft.MonotonicLogStore = (*logStore)(nil)
)

// openLogStore opens (or creates) the log file at path and replays it. A
// torn tail (a short or checksum-failing last record) is cut off and
// logged; damage before the tail is a *CorruptionError.
func openLogStore(path string, logger *slog.Logger) (*logStore, error) {
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("open raft log %s: %w", path, err)
	}
	s := &logStore{path: path, logger: logger, compactMin: defaultCompactMinBytes}
	good, err := s.replay(data)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open raft log %s: %w", path, err)
	}
	if good < int64(len(data)) {
		logger.Warn("meta: dropping torn tail of raft log", "file", path, "offset", good, "bytes", int64(len(data))-good)
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, fmt.Errorf("truncate raft log %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("sync raft log %s: %w", path, err)
		}
	}
	if len(data) == 0 {
		// A new file: make its directory entry durable.
		if err := syncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return nil, err
		}
	}
	s.f = f
	s.size = good
	return s, nil
}

// replay applies the records in data and returns the length of the valid
// prefix.
func (s *logStore) replay(data []byte) (int64, error) {
	off := int64(0)
	for off < int64(len(data)) {
		rest := data[off:]
		if len(rest) < recordHeaderSize {
			return off, nil // torn header
		}
		n := int64(binary.BigEndian.Uint32(rest))
		if n > maxRecordSize || recordHeaderSize+n > int64(len(rest)) {
			return off, nil // torn or garbage length running past the end
		}
		payload := rest[recordHeaderSize : recordHeaderSize+n]
		end := off + recordHeaderSize + n
		if crc32.Checksum(payload, crc32c) != binary.BigEndian.Uint32(rest[4:]) {
			if end == int64(len(data)) {
				return off, nil // torn last record
			}
			return 0, &CorruptionError{Path: s.path, Offset: off, Reason: "checksum mismatch"}
		}
		if err := s.replayRecord(payload, recordHeaderSize+n); err != nil {
			return 0, &CorruptionError{Path: s.path, Offset: off, Reason: err.Error()}
		}
		off = end
	}
	return off, nil
}

func (s *logStore) replayRecord(p []byte, size int64) error {
	if len(p) == 0 {
		return errors.New("empty record")
	}
	switch p[0] {
	case recordEntry:
		l, err := decodeEntry(p)
		if err != nil {
			return err
		}
		if err := s.checkNextLocked(l.Index); err != nil {
			return err
		}
		s.entries = append(s.entries, logEntry{log: l, size: size})
		s.liveBytes += size
		return nil
	case recordDeleteRange:
		if len(p) != 17 {
			return errors.New("bad delete-range record")
		}
		return s.deleteLocked(binary.BigEndian.Uint64(p[1:]), binary.BigEndian.Uint64(p[9:]))
	}
	return fmt.Errorf("unknown record kind %d", p[0])
}

// appendRecord frames payload as a record onto buf.
func appendRecord(buf, payload []byte) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(payload)))
	buf = binary.BigEndian.AppendUint32(buf, crc32.Checksum(payload, crc32c))
	return append(buf, payload...)
}

// encodeEntry returns the payload of an entry record.
func encodeEntry(l *raft.Log) []byte {
	p := make([]byte, 0, 1+8+8+1+8+4+len(l.Data)+4+len(l.Extensions))
	p = append(p, recordEntry)
	p = binary.BigEndian.AppendUint64(p, l.Index)
	p = binary.BigEndian.AppendUint64(p, l.Term)
	p = append(p, byte(l.Type))
	var at int64
	if !l.AppendedAt.IsZero() {
		at = l.AppendedAt.UnixNano()
	}
	p = binary.BigEndian.AppendUint64(p, uint64(at))
	p = binary.BigEndian.AppendUint32(p, uint32(len(l.Data)))
	p = append(p, l.Data...)
	p = binary.BigEndian.AppendUint32(p, uint32(len(l.Extensions)))
	return append(p, l.Extensions...)
}

// decodeEntry parses the payload of an entry record.
func decodeEntry(p []byte) (raft.Log, error) {
	var l raft.Log
	if len(p) < 1+8+8+1+8+4 {
		return l, errors.New("short entry record")
	}
	l.Index = binary.BigEndian.Uint64(p[1:])
	l.Term = binary.BigEndian.Uint64(p[9:])
	l.Type = raft.LogType(p[17])
	if at := int64(binary.BigEndian.Uint64(p[18:])); at != 0 {
		l.AppendedAt = time.Unix(0, at)
	}
	rest := p[26:]
	n := int(binary.BigEndian.Uint32(rest))
	rest = rest[4:]
	if n > len(rest) {
		return l, errors.New("entry data runs past the record")
	}
	if n > 0 {
		l.Data = append([]byte(nil), rest[:n]...)
	}
	rest = rest[n:]
	if len(rest) < 4 {
		return l, errors.New("short entry record")
	}
	n = int(binary.BigEndian.Uint32(rest))
	rest = rest[4:]
	if n != len(rest) {
		return l, errors.New("entry extensions do not fill the record")
	}
	if n > 0 {
		l.Extensions = append([]byte(nil), rest...)
	}
	return l, nil
}

// checkNextLocked reports whether an entry with index may be appended.
func (s *logStore) checkNextLocked(index uint64) error {
	if len(s.entries) == 0 {
		if index == 0 {
			return errors.New("log index 0")
		}
		return nil
	}
	if last := s.entries[len(s.entries)-1].log.Index; index != last+1 {
		return fmt.Errorf("log index %d does not follow last index %d", index, last)
	}
	return nil
}

// deleteLocked removes entries min..max (inclusive) from memory. Raft only
// deletes a prefix (compaction) or a suffix (conflicting entries), so a
// range that would leave a hole is refused.
func (s *logStore) deleteLocked(min, max uint64) error {
	if len(s.entries) == 0 || min > max {
		return nil
	}
	first := s.entries[0].log.Index
	last := s.entries[len(s.entries)-1].log.Index
	if max < first || min > last {
		return nil
	}
	var keep []logEntry
	switch {
	case min <= first && max >= last:
		keep = nil
	case min <= first:
		keep = append([]logEntry(nil), s.entries[max-first+1:]...)
	case max >= last:
		keep = s.entries[: min-first : min-first]
	default:
		return fmt.Errorf("delete log range %d-%d inside %d-%d would leave a hole", min, max, first, last)
	}
	s.entries = keep
	s.liveBytes = 0
	for _, e := range keep {
		s.liveBytes += e.size
	}
	return nil
}

// FirstIndex returns the first index in the log, or 0 if it is empty.
func (s *logStore) FirstIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.entries) == 0 {
		return 0, nil
	}
	return s.entries[0].log.Index, nil
}

// LastIndex returns the last index in the log, or 0 if it is empty.
func (s *logStore) LastIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.entries) == 0 {
		return 0, nil
	}
	return s.entries[len(s.entries)-1].log.Index, nil
}

// GetLog fills log with the entry at index, or returns raft.ErrLogNotFound.
// The entry's byte slices are shared and must not be modified.
func (s *logStore) GetLog(index uint64, log *raft.Log) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.entries) == 0 {
		return raft.ErrLogNotFound
	}
	first := s.entries[0].log.Index
	if index < first || index-first >= uint64(len(s.entries)) {
		return raft.ErrLogNotFound
	}
	*log = s.entries[index-first].log
	return nil
}

// StoreLog appends one entry.
func (s *logStore) StoreLog(log *raft.Log) error {
	return s.StoreLogs([]*raft.Log{log})
}

// StoreLogs appends entries, which must continue the log without a gap,
// with one write and one fsync.
func (s *logStore) StoreLogs(logs []*raft.Log) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writableLocked(); err != nil {
		return err
	}
	var buf []byte
	added := make([]logEntry, 0, len(logs))
	next := uint64(0)
	if len(s.entries) > 0 {
		next = s.entries[len(s.entries)-1].log.Index + 1
	}
	for _, l := range logs {
		if (next == 0 && l.Index == 0) || (next != 0 && l.Index != next) {
			return fmt.Errorf("store raft log %d: expected index %d", l.Index, next)
		}
		next = l.Index + 1
		before := len(buf)
		buf = appendRecord(buf, encodeEntry(l))
		c := *l
		c.Data = append([]byte(nil), l.Data...)
		c.Extensions = append([]byte(nil), l.Extensions...)
		added = append(added, logEntry{log: c, size: int64(len(buf) - before)})
	}
	if err := s.writeLocked(buf); err != nil {
		return fmt.Errorf("store raft logs %d-%d: %w", logs[0].Index, next-1, err)
	}
	for _, e := range added {
		s.entries = append(s.entries, e)
		s.liveBytes += e.size
	}
	return nil
}

// DeleteRange deletes the entries min..max, inclusive.
func (s *logStore) DeleteRange(min, max uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writableLocked(); err != nil {
		return err
	}
	before := len(s.entries)
	saved, savedLive := s.entries, s.liveBytes
	if err := s.deleteLocked(min, max); err != nil {
		return err
	}
	if len(s.entries) == before {
		return nil
	}
	p := make([]byte, 17)
	p[0] = recordDeleteRange
	binary.BigEndian.PutUint64(p[1:], min)
	binary.BigEndian.PutUint64(p[9:], max)
	if err := s.writeLocked(appendRecord(nil, p)); err != nil {
		s.entries, s.liveBytes = saved, savedLive
		return fmt.Errorf("delete raft logs %d-%d: %w", min, max, err)
	}
	if dead := s.size - s.liveBytes; dead >= s.compactMin && dead > s.liveBytes {
		if err := s.rewriteLocked(); err != nil {
			return fmt.Errorf("compact raft log: %w", err)
		}
	}
	return nil
}

// IsMonotonic tells raft that this store cannot hold gaps, so after a
// snapshot restore raft clears the log instead of leaving a gap.
func (s *logStore) IsMonotonic() bool { return true }

func (s *logStore) writableLocked() error {
	if s.f == nil {
		return ErrClosed
	}
	return s.err
}

// writeLocked appends buf to the file and fsyncs it. A failure leaves the
// file's tail unknown, so it is sticky.
func (s *logStore) writeLocked(buf []byte) error {
	if _, err := s.f.WriteAt(buf, s.size); err != nil {
		s.err = fmt.Errorf("write %s: %w", s.path, err)
		return s.err
	}
	if err := s.f.Sync(); err != nil {
		s.err = fmt.Errorf("sync %s: %w", s.path, err)
		return s.err
	}
	s.size += int64(len(buf))
	return nil
}

// rewriteLocked replaces the file with one holding only the live entries.
// Until the rename the old file stays valid, so a crash loses nothing.
func (s *logStore) rewriteLocked() error {
	tmp := s.path + ".tmp"
	var buf []byte
	for _, e := range s.entries {
		buf = appendRecord(buf, encodeEntry(&e.log))
	}
	if err := writeFileSync(tmp, buf); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	// From here the old handle points at an unlinked file.
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if err != nil {
		s.err = fmt.Errorf("reopen %s: %w", s.path, err)
		return s.err
	}
	s.f.Close()
	s.f = f
	s.size = int64(len(buf))
	if err := syncDir(filepath.Dir(s.path)); err != nil {
		s.err = err
		return err
	}
	s.logger.Debug("meta: compacted raft log", "file", s.path, "bytes", s.size, "entries", len(s.entries))
	return nil
}

// Close closes the file. Later calls fail with ErrClosed.
func (s *logStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	if err != nil {
		return fmt.Errorf("close %s: %w", s.path, err)
	}
	return nil
}

// errStableNotFound is what raft expects from a StableStore for a missing
// key: it compares the error text with "not found".
var errStableNotFound = errors.New("not found")

// stableStore is the durable raft.StableStore (current term, last vote).
// The whole key space is a small JSON object in one file; each Set writes a
// new file, fsyncs it and renames it over the old one, so a crash leaves
// either the old or the new file, never a mix. Sets happen once per term
// or vote, so the cost does not matter.
//
// mu guards m.
type stableStore struct {
	mu   sync.Mutex
	path string
	m    map[string][]byte
}

var _ raft.StableStore = (*stableStore)(nil)

// openStableStore reads the stable store at path, if it exists.
func openStableStore(path string) (*stableStore, error) {
	s := &stableStore{path: path, m: map[string][]byte{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open stable store %s: %w", path, err)
	}
	if err := json.Unmarshal(data, &s.m); err != nil {
		return nil, &CorruptionError{Path: path, Reason: err.Error()}
	}
	return s, nil
}

// Set stores val under key durably.
func (s *stableStore) Set(key, val []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, had := s.m[string(key)]
	s.m[string(key)] = append([]byte(nil), val...)
	if err := s.saveLocked(); err != nil {
		if had {
			s.m[string(key)] = old
		} else {
			delete(s.m, string(key))
		}
		return err
	}
	return nil
}

// Get returns the value of key, or an error reading "not found".
func (s *stableStore) Get(key []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[string(key)]
	if !ok {
		return nil, errStableNotFound
	}
	return append([]byte(nil), v...), nil
}

// SetUint64 stores val under key as 8 big-endian bytes.
func (s *stableStore) SetUint64(key []byte, val uint64) error {
	return s.Set(key, binary.BigEndian.AppendUint64(nil, val))
}

// GetUint64 returns the value stored by SetUint64, or an error reading
// "not found".
func (s *stableStore) GetUint64(key []byte) (uint64, error) {
	v, err := s.Get(key)
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("stable store key %q: value is %d bytes, want 8", key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

func (s *stableStore) saveLocked() error {
	data, err := json.Marshal(s.m)
	if err != nil {
		return fmt.Errorf("encode stable store: %w", err)
	}
	tmp := s.path + ".tmp"
	if err := writeFileSync(tmp, data); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return syncDir(filepath.Dir(s.path))
}

// writeFileSync writes data to a new file at path and fsyncs it.
func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

// syncDir fsyncs a directory so that created and renamed entries in it
// survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}
