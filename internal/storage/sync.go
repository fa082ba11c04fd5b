package storage

import (
	"errors"
	"fmt"
	"maps"
)

// syncRound is one syncer round for this log.
func (l *Log) syncRound() (int64, error) {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	return l.syncLocked(false)
}

// syncLocked finishes rolled segments and, under FlushDurable (or when
// final), fdatasyncs the active segment and advances the flushed offset.
// Now and then (and when final) it also writes the recovery checkpoint and
// a producer snapshot. It returns the bytes it made durable. The caller
// holds syncMu.
func (l *Log) syncLocked(final bool) (int64, error) {
	l.dirty.Store(false)
	durable := final || l.m.cfg.Flush == FlushDurable

	l.mu.Lock()
	if l.closed.Load() {
		l.mu.Unlock()
		return 0, nil
	}
	if l.failed != nil {
		l.mu.Unlock()
		return 0, l.failed
	}
	rolled := l.rolled
	l.rolled = nil
	act := l.active()
	size := act.size.Load()
	leo := l.leo.Load()
	if final {
		act.mu.Lock()
		act.maybeAddTimeEntryLocked()
		act.mu.Unlock()
	}
	nIdx, nTidx := act.indexCounts()
	maxTs, maxTsOff := act.maxTimestamp()
	n := l.unsynced
	l.unsynced = 0
	l.sinceCkpt += n
	ckpt := final || len(rolled) > 0 || (durable && l.sinceCkpt >= l.m.cfg.CheckpointBytes)
	var snap map[int64]producerState
	snapAt := int64(-1)
	if ckpt && durable {
		snap, snapAt = maps.Clone(l.producers), leo
	} else if len(rolled) > 0 {
		r := rolled[len(rolled)-1]
		snap, snapAt = r.producers, r.snapAt
	}
	l.mu.Unlock()

	for _, r := range rolled {
		if err := r.seg.finish(); err != nil {
			return 0, l.fail(err)
		}
	}
	if len(rolled) > 0 {
		// The new segments' names must be durable before their data counts.
		if err := l.m.fs.SyncDir(l.dir); err != nil {
			return 0, l.fail(fmt.Errorf("sync dir %s: %w", l.dir, err))
		}
	}
	rp := recoveryPoint{segBase: act.base, pos: 0, next: act.base, maxTs: -1, maxTsOff: -1}
	if durable {
		if err := act.log.Sync(); err != nil {
			return 0, l.fail(fmt.Errorf("sync segment %s: %w", act.path, err))
		}
		if ckpt {
			if err := act.writeIndexes(nIdx, nTidx); err != nil {
				return 0, l.fail(err)
			}
			if err := act.syncIndexes(); err != nil {
				return 0, l.fail(err)
			}
			rp = recoveryPoint{segBase: act.base, pos: size, next: leo, idxEntries: int64(nIdx), tidxEntries: int64(nTidx), maxTs: maxTs, maxTsOff: maxTsOff}
		}
		l.advanceFlushed(leo)
	} else if len(rolled) > 0 {
		l.advanceFlushed(act.base)
	}
	if ckpt {
		if snap != nil {
			if err := writeSnapshot(l.m.fs, l.dir, snapAt, snap); err != nil {
				return n, l.fail(err)
			}
		}
		if err := writeRecoveryPoint(l.m.fs, l.dir, rp); err != nil {
			return n, l.fail(err)
		}
		l.sinceCkpt = 0
	}
	if !durable {
		return 0, nil
	}
	return n, nil
}

// fail makes an I/O error during a sync sticky: after a failed fdatasync
// the page cache can no longer be trusted, so the log refuses appends and
// WaitFlushed until it is reopened.
func (l *Log) fail(err error) error {
	l.mu.Lock()
	if l.failed == nil {
		l.failed = err
		l.logger.Error("log failed", "err", err)
	}
	l.mu.Unlock()
	l.wakeWaiters()
	return err
}

// Close flushes the log (whatever the flush policy), writes its recovery
// checkpoint and producer snapshot, and closes its files.
func (l *Log) Close() error {
	err := l.close(false)
	l.m.forget(l)
	return err
}

// close is Close without unregistering; deleting skips the final flush.
func (l *Log) close(deleting bool) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if l.closed.Load() {
		return nil
	}
	var errs []error
	if !deleting {
		if _, err := l.syncLocked(true); err != nil {
			errs = append(errs, err)
		}
	}
	l.mu.Lock()
	l.closed.Store(true)
	for _, r := range l.rolled {
		errs = append(errs, r.seg.closeFiles())
	}
	l.rolled = nil
	for _, s := range l.segments() {
		if err := s.closeFiles(); err != nil {
			errs = append(errs, fmt.Errorf("close segment %s: %w", s.path, err))
		}
	}
	l.mu.Unlock()
	l.wakeWaiters()
	if err := errors.Join(errs...); err != nil {
		return l.errorf("close", err)
	}
	return nil
}
