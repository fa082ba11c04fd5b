package storage

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// topicsDir is the subdirectory of the data directory holding the logs.
const topicsDir = "topics"

// logKey names a log.
type logKey struct {
	topic     string
	partition int32
}

// Manager owns the logs of one data directory, the syncer goroutine that
// fdatasyncs them in shared rounds (group commit), and the retention loop.
type Manager struct {
	cfg    ManagerConfig
	fs     FS
	logger *slog.Logger
	clean  bool // the previous shutdown wrote the clean marker

	// mu guards logs and closed. Lock order: mu before any Log lock.
	mu     sync.Mutex
	logs   map[logKey]*Log
	closed bool

	// Syncer state.
	dirtyMu   sync.Mutex
	dirtyLogs []*Log        // logs with unsynced work; each at most once (Log.dirty); guarded by dirtyMu
	wake      chan struct{} // cap 1: there is dirty work
	full      chan struct{} // cap 1: pending bytes reached SyncMinBytes
	pending   atomic.Int64  // bytes appended since the last round started

	syncRounds atomic.Int64
	syncBytes  atomic.Int64

	decomp decompressor // decodes batches for timestamp lookups

	stop chan struct{}
	wg   sync.WaitGroup
}

// SyncStats counts the syncer's work since OpenManager.
type SyncStats struct {
	Rounds int64 // sync rounds that synced at least one log
	Bytes  int64 // bytes those rounds made durable
}

// OpenManager opens (creating if needed) a data directory, notes whether the
// previous shutdown was clean, and starts the syncer and the retention loop.
func OpenManager(cfg ManagerConfig) (*Manager, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("open storage manager: %w", err)
	}
	m := &Manager{
		cfg:    cfg,
		fs:     cfg.FS,
		logger: cfg.Logger,
		logs:   make(map[logKey]*Log),
		wake:   make(chan struct{}, 1),
		full:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
	}
	_, statErr := m.fs.ReadDir(filepath.Join(cfg.Dir, topicsDir))
	fresh := errors.Is(statErr, fs.ErrNotExist) // a new data directory: nothing to recover
	if err := m.fs.MkdirAll(filepath.Join(cfg.Dir, topicsDir), 0o755); err != nil {
		return nil, fmt.Errorf("open storage manager %s: %w", cfg.Dir, err)
	}
	// Make the directories themselves durable (a no-op cost after the first start).
	for _, d := range []string{filepath.Dir(filepath.Clean(cfg.Dir)), cfg.Dir} {
		if err := m.fs.SyncDir(d); err != nil {
			return nil, fmt.Errorf("open storage manager: sync %s: %w", d, err)
		}
	}
	marker := filepath.Join(cfg.Dir, cleanShutdownFile)
	if f, err := m.fs.OpenFile(marker, os.O_RDONLY, 0); err == nil {
		f.Close()
		m.clean = true
		// From now on a crash must look unclean.
		if err := m.fs.Remove(marker); err != nil {
			return nil, fmt.Errorf("open storage manager: remove clean marker: %w", err)
		}
		if err := m.fs.SyncDir(cfg.Dir); err != nil {
			return nil, fmt.Errorf("open storage manager: sync %s: %w", cfg.Dir, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open storage manager: %w", err)
	}
	if fresh {
		m.logger.Info("storage opened", "dir", cfg.Dir, "new_data_dir", true, "flush", cfg.Flush.String())
	} else {
		m.logger.Info("storage opened", "dir", cfg.Dir, "clean_shutdown", m.clean, "flush", cfg.Flush.String())
	}
	m.wg.Add(2)
	go m.syncLoop()
	go m.retentionLoop()
	return m, nil
}

// CleanShutdown reports whether the previous process closed the manager
// cleanly (so logs opened now skip recovery).
func (m *Manager) CleanShutdown() bool { return m.clean }

// validTopic reports whether a topic name is safe as a directory name
// (Kafka's rule: 1-249 of [a-zA-Z0-9._-], not "." or "..").
func validTopic(t string) bool {
	if t == "" || len(t) > 249 || t == "." || t == ".." {
		return false
	}
	for _, c := range []byte(t) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (m *Manager) logDir(topic string, partition int32) string {
	return filepath.Join(m.cfg.Dir, topicsDir, topic+"-"+strconv.Itoa(int(partition)))
}

// OpenLog opens the log of a partition, creating it if needed and
// recovering it after an unclean shutdown. If the log is already open it is
// returned with cfg applied.
func (m *Manager) OpenLog(topic string, partition int32, cfg Config) (*Log, error) {
	if !validTopic(topic) || partition < 0 {
		return nil, fmt.Errorf("open log %q-%d: %w", topic, partition, ErrInvalidTopic)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("open log %s-%d: %w", topic, partition, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, fmt.Errorf("open log %s-%d: %w", topic, partition, ErrClosed)
	}
	key := logKey{topic, partition}
	if l, ok := m.logs[key]; ok {
		l.SetConfig(cfg)
		return l, nil
	}
	l, err := m.openLog(topic, partition, cfg)
	if err != nil {
		return nil, fmt.Errorf("open log %s-%d: %w", topic, partition, err)
	}
	m.logs[key] = l
	return l, nil
}

// DeleteLog closes a log (if open) and removes its directory.
func (m *Manager) DeleteLog(topic string, partition int32) error {
	if !validTopic(topic) || partition < 0 {
		return fmt.Errorf("delete log %q-%d: %w", topic, partition, ErrInvalidTopic)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	key := logKey{topic, partition}
	if l, ok := m.logs[key]; ok {
		delete(m.logs, key)
		if err := l.close(false); err != nil {
			m.logger.Warn("close log before delete", "topic", topic, "partition", partition, "err", err)
		}
	}
	dir := m.logDir(topic, partition)
	if err := m.fs.RemoveAll(dir); err != nil {
		return fmt.Errorf("delete log %s-%d: %w", topic, partition, err)
	}
	if err := m.fs.SyncDir(filepath.Join(m.cfg.Dir, topicsDir)); err != nil {
		return fmt.Errorf("delete log %s-%d: %w", topic, partition, err)
	}
	m.logger.Info("log deleted", "topic", topic, "partition", partition)
	return nil
}

// forget drops l from the open logs if it is still registered.
func (m *Manager) forget(l *Log) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := logKey{l.topic, l.partition}
	if m.logs[key] == l {
		delete(m.logs, key)
	}
}

// Logs returns all open logs, ordered by topic and partition.
func (m *Manager) Logs() []*Log {
	m.mu.Lock()
	out := make([]*Log, 0, len(m.logs))
	for _, l := range m.logs {
		out = append(out, l)
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b *Log) int {
		return cmp.Or(strings.Compare(a.topic, b.topic), cmp.Compare(a.partition, b.partition))
	})
	return out
}

// LogID names a log directory found on disk.
type LogID struct {
	Topic     string
	Partition int32
}

// LogsOnDisk lists the log directories under Dir/topics, open or not, so the
// caller can tell which partitions have data.
func (m *Manager) LogsOnDisk() ([]LogID, error) {
	names, err := m.fs.ReadDir(filepath.Join(m.cfg.Dir, topicsDir))
	if err != nil {
		return nil, fmt.Errorf("list logs: %w", err)
	}
	var out []LogID
	for _, n := range names {
		i := strings.LastIndexByte(n, '-')
		if i <= 0 {
			continue
		}
		p, err := strconv.ParseInt(n[i+1:], 10, 32)
		if err != nil || p < 0 || !validTopic(n[:i]) {
			continue
		}
		out = append(out, LogID{Topic: n[:i], Partition: int32(p)})
	}
	return out, nil
}

// DirSize returns the bytes in the segment files of the open logs.
func (m *Manager) DirSize() int64 {
	var n int64
	for _, l := range m.Logs() {
		n += l.Size()
	}
	return n
}

// SyncStats returns the syncer's counters.
func (m *Manager) SyncStats() SyncStats {
	return SyncStats{Rounds: m.syncRounds.Load(), Bytes: m.syncBytes.Load()}
}

// Close stops the background goroutines, flushes and closes every log and,
// if all of that worked, writes the clean-shutdown marker.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	logs := make([]*Log, 0, len(m.logs))
	for _, l := range m.logs {
		logs = append(logs, l)
	}
	m.mu.Unlock()

	close(m.stop)
	m.wg.Wait()
	var errs []error
	for _, l := range logs {
		if err := l.close(false); err != nil {
			errs = append(errs, err)
		}
	}
	m.mu.Lock()
	clear(m.logs)
	m.mu.Unlock()
	m.decomp.close()
	if len(errs) > 0 {
		return fmt.Errorf("close storage manager: %w", errors.Join(errs...))
	}
	if err := writeFileAtomic(m.fs, m.cfg.Dir, cleanShutdownFile, nil); err != nil {
		return fmt.Errorf("close storage manager: %w", err)
	}
	m.logger.Info("storage closed", "dir", m.cfg.Dir)
	return nil
}

// addPending counts appended bytes toward the next sync round.
func (m *Manager) addPending(n int64) {
	if n <= 0 {
		return
	}
	if after := m.pending.Add(n); after >= m.cfg.SyncMinBytes && after-n < m.cfg.SyncMinBytes {
		select {
		case m.full <- struct{}{}:
		default:
		}
	}
}

// enqueueDirty hands a log to the syncer.
func (m *Manager) enqueueDirty(l *Log) {
	m.dirtyMu.Lock()
	m.dirtyLogs = append(m.dirtyLogs, l)
	m.dirtyMu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// syncLoop is the syncer: it gathers dirty logs, fdatasyncs them (several at
// once), advances their flushed offsets and wakes WaitFlushed callers.
// Appends during a round go to the next one, so rounds pipeline behind the
// appends. When the previous round found more work waiting, it lingers up
// to SyncMaxDelay for SyncMinBytes to gather.
func (m *Manager) syncLoop() {
	defer m.wg.Done()
	var timer *time.Timer
	busy := false
	for {
		select {
		case <-m.stop:
			return
		case <-m.wake:
		}
		if busy && m.cfg.SyncMaxDelay > 0 && m.pending.Load() < m.cfg.SyncMinBytes {
			if timer == nil {
				timer = time.NewTimer(m.cfg.SyncMaxDelay)
			} else {
				timer.Reset(m.cfg.SyncMaxDelay)
			}
			select {
			case <-m.stop:
				return
			case <-m.full:
			case <-timer.C:
			}
			timer.Stop()
		}
		select {
		case <-m.full:
		default:
		}
		m.pending.Store(0)
		m.dirtyMu.Lock()
		logs := m.dirtyLogs
		m.dirtyLogs = nil
		m.dirtyMu.Unlock()
		m.syncLogs(logs)
		select {
		case <-m.wake:
			busy = true
			// Put the token back so the loop runs again.
			select {
			case m.wake <- struct{}{}:
			default:
			}
		default:
			busy = false
		}
	}
}

// syncLogs runs one round over logs, up to SyncConcurrency at a time.
func (m *Manager) syncLogs(logs []*Log) {
	var bytes atomic.Int64
	run := func(l *Log) {
		n, err := l.syncRound()
		if err != nil {
			m.logger.Error("sync log", "topic", l.topic, "partition", l.partition, "err", err)
		}
		bytes.Add(n)
	}
	if len(logs) == 1 || m.cfg.SyncConcurrency <= 1 {
		for _, l := range logs {
			run(l)
		}
	} else {
		sem := make(chan struct{}, m.cfg.SyncConcurrency)
		var wg sync.WaitGroup
		for _, l := range logs {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				run(l)
			})
		}
		wg.Wait()
	}
	if n := bytes.Load(); n > 0 {
		m.syncRounds.Add(1)
		m.syncBytes.Add(n)
	}
}

// retentionLoop applies retention every RetentionCheckInterval.
func (m *Manager) retentionLoop() {
	defer m.wg.Done()
	t := time.NewTicker(m.cfg.RetentionCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			if err := m.ApplyRetention(); err != nil {
				m.logger.Error("apply retention", "err", err)
			}
		}
	}
}

// ApplyRetention runs one retention pass over every open log now: it
// deletes segments past retention.ms / retention.bytes or wholly below the
// log start offset, and expires idle producers. The background loop calls
// it every RetentionCheckInterval.
func (m *Manager) ApplyRetention() error {
	var errs []error
	for _, l := range m.Logs() {
		if err := l.applyRetention(); err != nil && !errors.Is(err, ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
