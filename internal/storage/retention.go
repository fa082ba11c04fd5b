package storage

import (
	"fmt"
	"slices"
)

// applyRetention deletes the oldest segments past retention.ms or
// retention.bytes or wholly below the log start offset, and expires idle
// producers. As in Kafka, if every segment including a non-empty active one
// is due, the active segment is rolled first so the log keeps an (empty)
// active segment.
func (l *Log) applyRetention() error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if l.closed.Load() {
		return l.errorf("apply retention", ErrClosed)
	}
	cfg := l.cfg.Load()
	now := l.m.cfg.Now()
	nowMs := now.UnixMilli()

	l.mu.Lock()
	if l.failed != nil {
		l.mu.Unlock()
		return l.errorf("apply retention", l.failed)
	}
	expiry := l.m.cfg.ProducerIDExpiration.Milliseconds()
	for pid, p := range l.producers {
		if nowMs-p.lastTs >= expiry {
			delete(l.producers, pid)
		}
	}
	segs := l.segments()
	k := retentionCount(segs, cfg, nowMs, l.logStart.Load())
	rolled := false
	if k == len(segs) {
		if _, err := l.rollLocked(now); err != nil {
			l.mu.Unlock()
			return l.errorf("apply retention", err)
		}
		rolled = true
	}
	l.mu.Unlock()
	if k == 0 {
		return nil
	}
	if rolled || l.hasRolled() {
		// Finish rolled segments before deleting any.
		if _, err := l.syncLocked(false); err != nil {
			return l.errorf("apply retention", err)
		}
	}

	l.mu.Lock()
	segs = l.segments()
	k = min(k, len(segs)-1)
	gone := segs[:k]
	l.setSegments(slices.Clone(segs[k:]))
	start := l.logStart.Load()
	if b := segs[k].base; b > start {
		start = b
		l.logStart.Store(start)
		l.evictProducersLocked(start)
	}
	l.mu.Unlock()
	if err := l.removeSegments(gone, "retention"); err != nil {
		return err
	}
	if err := writeLogStart(l.m.fs, l.dir, start); err != nil {
		return l.errorf("apply retention", err)
	}
	return nil
}

// retentionCount returns how many leading segments are due for deletion:
// by time (the segment's max timestamp older than retention.ms), by size
// (the log larger than retention.bytes without them) and by the log start
// offset (the next segment starts at or below it). The active segment
// counts only when non-empty.
func retentionCount(segs []*segment, cfg *Config, nowMs, logStart int64) int {
	n := len(segs)
	if segs[n-1].size.Load() == 0 {
		n--
	}
	k := 0
	if cfg.RetentionAge >= 0 {
		limit := cfg.RetentionAge.Milliseconds()
		for k < n {
			ts, _ := segs[k].maxTimestamp()
			if ts < 0 || nowMs-ts <= limit {
				break
			}
			k++
		}
	}
	if cfg.RetentionBytes >= 0 {
		var total int64
		for _, s := range segs[k:] {
			total += s.size.Load()
		}
		diff := total - cfg.RetentionBytes
		for k < n && diff-segs[k].size.Load() >= 0 {
			diff -= segs[k].size.Load()
			k++
		}
	}
	for k+1 < len(segs) && segs[k+1].base <= logStart {
		k++
	}
	return k
}

// evictProducersLocked drops producers whose last batch is below the log
// start offset, as Kafka does. The caller holds mu.
func (l *Log) evictProducersLocked(logStart int64) {
	for pid, p := range l.producers {
		if p.lastOffset() < logStart {
			delete(l.producers, pid)
		}
	}
}

// DeleteRecordsBefore moves the log start offset forward to offset (never
// past leo: ErrOffsetOutOfRange), persists it, and deletes the segments
// wholly below it. It returns the new log start offset; an offset at or
// below the current one changes nothing.
func (l *Log) DeleteRecordsBefore(offset int64) (int64, error) {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if l.closed.Load() {
		return 0, l.errorf("delete records", ErrClosed)
	}
	start, leo := l.logStart.Load(), l.leo.Load()
	if offset < 0 || offset > leo {
		return start, l.errorf("delete records", fmt.Errorf("offset %d not in [0, %d]: %w", offset, leo, ErrOffsetOutOfRange))
	}
	if offset <= start {
		return start, nil
	}
	if err := writeLogStart(l.m.fs, l.dir, offset); err != nil {
		return start, l.errorf("delete records", err)
	}
	l.mu.Lock()
	l.logStart.Store(offset)
	l.evictProducersLocked(offset)
	l.mu.Unlock()
	if l.hasRolled() {
		// Finish rolled segments before deleting any.
		if _, err := l.syncLocked(false); err != nil {
			return offset, l.errorf("delete records", err)
		}
	}
	if err := l.deleteSegmentsBelowStart(); err != nil {
		return offset, err
	}
	return offset, nil
}

// hasRolled reports whether rolled segments await their final sync.
func (l *Log) hasRolled() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.rolled) > 0
}
