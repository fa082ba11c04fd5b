package storage

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// idem builds an idempotent batch of n records.
func idem(t *testing.T, pid int64, epoch int16, seq int32, n int) []byte {
	return batchSpec{values: values(n, 20, fmt.Sprintf("p%d-e%d-s%d", pid, epoch, seq)), pid: pid, epoch: epoch, seq: seq}.build(t)
}

func TestIdempotentProducer(t *testing.T) {
	type step struct {
		pid     int64
		epoch   int16
		seq     int32
		n       int
		want    error
		dupOf   int64 // expected original base offset of a duplicate, -1 if not a duplicate
		wantOff int64 // expected base offset of a new append
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"in order", []step{
			{1, 0, 0, 3, nil, -1, 0},
			{1, 0, 3, 2, nil, -1, 3},
			{1, 0, 5, 1, nil, -1, 5},
		}},
		{"retry of the last batch is a duplicate", []step{
			{1, 0, 0, 3, nil, -1, 0},
			{1, 0, 3, 2, nil, -1, 3},
			{1, 0, 3, 2, nil, 3, 0},
		}},
		{"retry of an older batch within five", []step{
			{1, 0, 0, 1, nil, -1, 0},
			{1, 0, 1, 1, nil, -1, 1},
			{1, 0, 2, 1, nil, -1, 2},
			{1, 0, 0, 1, nil, 0, 0},
		}},
		{"only five batches are remembered", []step{
			{1, 0, 0, 1, nil, -1, 0},
			{1, 0, 1, 1, nil, -1, 1},
			{1, 0, 2, 1, nil, -1, 2},
			{1, 0, 3, 1, nil, -1, 3},
			{1, 0, 4, 1, nil, -1, 4},
			{1, 0, 5, 1, nil, -1, 5},
			{1, 0, 0, 1, ErrOutOfOrderSequence, -1, 0},
			{1, 0, 1, 1, nil, 1, 0},
		}},
		{"gap", []step{
			{1, 0, 0, 3, nil, -1, 0},
			{1, 0, 4, 1, ErrOutOfOrderSequence, -1, 0},
			{1, 0, 3, 1, nil, -1, 3},
		}},
		{"overlap that is not a duplicate", []step{
			{1, 0, 0, 3, nil, -1, 0},
			{1, 0, 2, 2, ErrOutOfOrderSequence, -1, 0},
		}},
		{"epoch bump restarts at zero", []step{
			{1, 0, 0, 3, nil, -1, 0},
			{1, 1, 0, 1, nil, -1, 3},
			{1, 1, 1, 1, nil, -1, 4},
		}},
		{"epoch bump must start at zero", []step{
			{1, 0, 0, 3, nil, -1, 0},
			{1, 1, 5, 1, ErrOutOfOrderSequence, -1, 0},
		}},
		{"fenced by an older epoch", []step{
			{1, 2, 0, 1, nil, -1, 0},
			{1, 1, 1, 1, ErrInvalidProducerEpoch, -1, 0},
			{1, 1, 0, 1, ErrInvalidProducerEpoch, -1, 0},
		}},
		{"unknown producer may start anywhere", []step{
			{7, 3, 100, 2, nil, -1, 0},
			{7, 3, 102, 1, nil, -1, 2},
		}},
		{"sequence wraps past MaxInt32", []step{
			{1, 0, maxInt32 - 1, 2, nil, -1, 0},
			{1, 0, 0, 1, nil, -1, 2},
		}},
		{"producers are independent", []step{
			{1, 0, 0, 1, nil, -1, 0},
			{2, 0, 0, 1, nil, -1, 1},
			{1, 0, 1, 1, nil, -1, 2},
			{2, 0, 0, 1, nil, 1, 0},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, l := openLog(t, ManagerConfig{}, DefaultConfig())
			for i, s := range tc.steps {
				leo := l.LogEndOffset()
				r, err := l.Append(idem(t, s.pid, s.epoch, s.seq, s.n), 0)
				if !errors.Is(err, s.want) {
					t.Fatalf("step %d: err %v, want %v", i, err, s.want)
				}
				if err != nil {
					if l.LogEndOffset() != leo {
						t.Fatalf("step %d: failed append moved leo", i)
					}
					continue
				}
				if s.dupOf >= 0 {
					if !r.Duplicate || r.BaseOffset != s.dupOf || l.LogEndOffset() != leo {
						t.Fatalf("step %d: %+v, want duplicate of %d and nothing written", i, r, s.dupOf)
					}
					continue
				}
				if r.Duplicate || r.BaseOffset != s.wantOff || r.LastOffset != s.wantOff+int64(s.n)-1 {
					t.Fatalf("step %d: %+v, want new batch at %d", i, r, s.wantOff)
				}
			}
		})
	}
}

func TestIdempotentBatchesInOneAppend(t *testing.T) {
	_, l := openLog(t, ManagerConfig{}, DefaultConfig())
	in := append(idem(t, 1, 0, 0, 2), idem(t, 1, 0, 2, 2)...)
	if r, err := l.Append(in, 0); err != nil || r.LastOffset != 3 {
		t.Fatalf("two in-order batches: %+v %v", r, err)
	}
	// The second batch has a gap: the whole append fails and writes nothing.
	bad := append(idem(t, 1, 0, 4, 1), idem(t, 1, 0, 9, 1)...)
	if _, err := l.Append(bad, 0); !errors.Is(err, ErrOutOfOrderSequence) || l.LogEndOffset() != 4 {
		t.Fatalf("gap in second batch: %v, leo %d", err, l.LogEndOffset())
	}
	// Nor did it change the producer state: sequence 4 is still next.
	if r, err := l.Append(idem(t, 1, 0, 4, 1), 0); err != nil || r.BaseOffset != 4 {
		t.Fatalf("after failed append: %+v %v", r, err)
	}
}

func TestProducerStateSurvivesRestart(t *testing.T) {
	for _, mode := range []string{"clean", "crash", "crash after roll"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			cfg := smallConfig()
			m := openTest(t, ManagerConfig{Dir: dir})
			l, err := m.OpenLog("t", 0, cfg)
			if err != nil {
				t.Fatal(err)
			}
			seq := int32(0)
			for range 3 {
				mustAppend(t, l, idem(t, 1, 0, seq, 2))
				seq += 2
			}
			if mode == "crash after roll" {
				for i := range 80 {
					mustAppend(t, l, idem(t, 2, 0, int32(i), 1))
				}
				if l.NumSegments() < 2 {
					t.Fatal("no roll")
				}
				mustAppend(t, l, idem(t, 1, 0, seq, 2))
				seq += 2
			}
			lastBase := l.LogEndOffset() - 2
			if mode == "clean" {
				if err := m.Close(); err != nil {
					t.Fatal(err)
				}
			} else {
				m.stopForTest()
			}
			m = openTest(t, ManagerConfig{Dir: dir})
			defer m.Close()
			if l, err = m.OpenLog("t", 0, cfg); err != nil {
				t.Fatal(err)
			}
			r, err := l.Append(idem(t, 1, 0, seq-2, 2), 0)
			if err != nil || !r.Duplicate || r.BaseOffset != lastBase {
				t.Fatalf("retry after restart: %+v %v, want duplicate of %d", r, err, lastBase)
			}
			if _, err := l.Append(idem(t, 1, 0, seq+1, 1), 0); !errors.Is(err, ErrOutOfOrderSequence) {
				t.Fatalf("gap after restart: %v", err)
			}
			if _, err := l.Append(idem(t, 1, 0, seq, 1), 0); err != nil {
				t.Fatalf("next sequence after restart: %v", err)
			}
		})
	}
}

func TestProducerSnapshotRoundTrip(t *testing.T) {
	m := map[int64]producerState{}
	for pid := range int64(7) {
		var p producerState
		p.epoch = int16(pid)
		for i := range int(pid) {
			h := BatchHeader{ProducerID: pid, ProducerEpoch: int16(pid), BaseSequence: int32(i * 2), LastOffsetDelta: 1, BaseOffset: int64(100*pid) + int64(2*i)}
			p.update(&h, 1234)
		}
		m[pid] = p
	}
	b := encodeSnapshot(99, m)
	off, got, err := decodeSnapshot(b)
	if err != nil || off != 99 || len(got) != len(m) {
		t.Fatalf("decode: %d %d %v", off, len(got), err)
	}
	for pid, p := range m {
		if got[pid] != p {
			t.Fatalf("pid %d: %+v, want %+v", pid, got[pid], p)
		}
	}
	b[len(b)-1] ^= 1
	if _, _, err := decodeSnapshot(b); err == nil {
		t.Fatal("corrupt snapshot decoded")
	}
}

func TestIdleProducersExpire(t *testing.T) {
	clock := newClock(time.Unix(1_700_000_000, 0))
	m, l := openLog(t, ManagerConfig{Now: clock.Now, ProducerIDExpiration: time.Hour}, DefaultConfig())
	mustAppend(t, l, idem(t, 1, 0, 0, 1))
	clock.Add(2 * time.Hour)
	if err := m.ApplyRetention(); err != nil {
		t.Fatal(err)
	}
	// The producer is unknown again, so any sequence is accepted.
	if _, err := l.Append(idem(t, 1, 0, 50, 1), 0); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
}
