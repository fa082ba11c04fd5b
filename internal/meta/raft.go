package meta

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
)

// File names under <data>/meta/ (see doc.go).
const (
	logFileName    = "raft.log"
	stableFileName = "stable.json"
)

// openRaft opens the stores under dir, bootstraps a one-voter
// configuration on first start, and starts raft with s's FSM. It fills
// s.raft, s.logs and s.snaps; on error it releases what it opened.
func (s *Store) openRaft(dir string) (err error) {
	cfg := s.cfg
	hlog := newRaftLogger(cfg.Logger)
	for _, name := range []string{logFileName, stableFileName} {
		if err := removeTemp(filepath.Join(dir, name+".tmp")); err != nil {
			return err
		}
	}

	logs, err := openLogStore(filepath.Join(dir, logFileName), cfg.Logger)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			logs.Close()
		}
	}()
	stable, err := openStableStore(filepath.Join(dir, stableFileName))
	if err != nil {
		return err
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, cfg.SnapshotRetain, hlog.Named("snapshot"))
	if err != nil {
		return fmt.Errorf("open snapshot store %s: %w", dir, err)
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(strconv.Itoa(int(cfg.NodeID)))
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.TrailingLogs = cfg.TrailingLogs
	rc.NotifyCh = s.notify
	rc.Logger = hlog
	rc.NoLegacyTelemetry = true

	// Today the only voter is this node, reached in memory. The cluster
	// issue replaces this with raft.NewTCPTransport and a voter list.
	addr, trans := raft.NewInmemTransport(raft.ServerAddress("samsa-meta-" + strconv.Itoa(int(cfg.NodeID))))
	defer func() {
		if err != nil {
			trans.Close()
		}
	}()

	existing, err := raft.HasExistingState(logs, stable, snaps)
	if err != nil {
		return fmt.Errorf("inspect raft state in %s: %w", dir, err)
	}
	if !existing {
		voters := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: rc.LocalID, Address: addr}}}
		if err := raft.BootstrapCluster(rc, logs, stable, snaps, trans, voters); err != nil {
			return fmt.Errorf("bootstrap raft in %s: %w", dir, err)
		}
		cfg.Logger.Info("meta: bootstrapped a new one-voter cluster", "dir", dir, "node", cfg.NodeID)
	}

	r, err := raft.NewRaft(rc, (*raftFSM)(s), logs, stable, snaps, trans)
	if err != nil {
		return fmt.Errorf("start raft in %s: %w", dir, err)
	}
	s.raft, s.logs, s.snaps = r, logs, snaps
	return nil
}

// raftFSM is the Store seen as a raft.FSM. Raft calls Apply, Snapshot and
// Restore from its one FSM goroutine, so publish never races itself.
type raftFSM Store

// Apply decodes one committed command, runs the pure FSM on the current
// state and publishes the result.
func (f *raftFSM) Apply(l *raft.Log) any {
	s := (*Store)(f)
	c, err := decodeCommand(l.Data)
	if err != nil {
		// Our own bytes fail to decode: a newer or broken writer. Apply
		// it as a no-op on every node alike.
		s.logger.Error("meta: skipping undecodable command", "index", l.Index, "err", err)
		return result{err: err}
	}
	cur := s.State()
	next, res := apply(cur, c)
	if next != cur {
		s.publish(next)
	}
	return res
}

// Snapshot captures the current state; States are immutable, so Persist
// can encode it while Apply goes on.
func (f *raftFSM) Snapshot() (raft.FSMSnapshot, error) {
	return fsmSnapshot{state: (*Store)(f).State()}, nil
}

// Restore replaces the state with a snapshot's.
func (f *raftFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	st, err := readSnapshot(rc)
	if err != nil {
		return err
	}
	(*Store)(f).publish(st)
	return nil
}

// fsmSnapshot is one State being written to a snapshot sink.
type fsmSnapshot struct{ state *State }

func (s fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := writeSnapshot(sink, s.state); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s fsmSnapshot) Release() {}

// watchLeader is the Store's one goroutine: it follows raft's leadership
// notifications and, each time this node becomes leader, takes over as
// controller. It returns when Close closes s.stop.
func (s *Store) watchLeader() {
	defer close(s.done)
	for {
		select {
		case <-s.stop:
			return
		case leader := <-s.notify:
			if !leader {
				s.logger.Info("meta: this node is no longer the controller", "node", s.cfg.NodeID)
				continue
			}
			s.logger.Info("meta: this node is the controller", "node", s.cfg.NodeID)
			err := s.takeOver()
			switch {
			case err == nil:
				s.readyOnce.Do(func() { close(s.ready) })
			case errors.Is(err, ErrNotController) || errors.Is(err, ErrClosed):
				// Leadership moved on or we are closing; wait for the next
				// notification.
				s.logger.Info("meta: controller takeover interrupted", "err", err)
			default:
				s.logger.Error("meta: controller takeover failed", "err", err)
				select {
				case s.openErr <- err:
				default:
				}
			}
		}
	}
}

// takeOver runs once per leadership term: it waits until every earlier
// entry is applied, then records this node as controller and, on a new
// cluster, sets the cluster id.
func (s *Store) takeOver() error {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.ApplyTimeout)
	defer cancel()
	if err := s.raftError(ctx, s.raft.Barrier(s.cfg.ApplyTimeout).Error()); err != nil {
		return fmt.Errorf("wait for raft log: %w", err)
	}
	if s.State().ControllerID != s.cfg.NodeID {
		if _, err := s.apply(ctx, &command{Op: opSetController, NodeID: s.cfg.NodeID}); err != nil {
			return fmt.Errorf("record controller: %w", err)
		}
	}
	if s.State().ClusterID == "" {
		id := NewUUID()
		if _, err := s.apply(ctx, &command{Op: opSetClusterID, ClusterID: UUIDString(id)}); err != nil {
			return fmt.Errorf("set cluster id: %w", err)
		}
		s.logger.Info("meta: created cluster", "cluster_id", s.State().ClusterID)
	}
	return nil
}

// apply runs c through raft and returns the FSM's result. ctx bounds the
// wait for raft to accept c (ApplyTimeout when ctx has no deadline); once
// accepted, the call waits for commit, which raft fails with
// ErrLeadershipLost (reported as ErrNotController) if leadership ends.
func (s *Store) apply(ctx context.Context, c *command) (result, error) {
	if err := ctx.Err(); err != nil {
		return result{}, err
	}
	if err := s.checkOpen(); err != nil {
		return result{}, err
	}
	if st := s.raft.State(); st != raft.Leader {
		if st == raft.Shutdown {
			return result{}, ErrClosed
		}
		return result{}, ErrNotController
	}
	timeout := s.cfg.ApplyTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
		if timeout <= 0 {
			return result{}, context.DeadlineExceeded
		}
	}
	f := s.raft.Apply(c.encode(), timeout)
	if err := f.Error(); err != nil {
		return result{}, s.raftError(ctx, err)
	}
	res, ok := f.Response().(result)
	if !ok {
		return result{}, fmt.Errorf("apply %s: unexpected fsm response %T", c.Op, f.Response())
	}
	return res, res.err
}

// raftError maps raft's errors to ours.
func (s *Store) raftError(ctx context.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost):
		return fmt.Errorf("%w: %v", ErrNotController, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrClosed
	case errors.Is(err, raft.ErrEnqueueTimeout):
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %v", ctx.Err(), err)
		}
		return fmt.Errorf("%w: %v", context.DeadlineExceeded, err)
	}
	return err
}

// removeTemp deletes a leftover temporary file from an interrupted rewrite.
func removeTemp(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}
