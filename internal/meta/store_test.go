package meta

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func testConfig(t testing.TB, dir string) Config {
	cfg := DefaultConfig()
	cfg.Dir = dir
	cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	return cfg
}

func openStore(t testing.TB, cfg Config) *Store {
	t.Helper()
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

func testTopic(name string, partitions int) Topic {
	t := Topic{Name: name, ID: NewUUID(), Configs: map[string]string{"retention.ms": "1000"}}
	for i := range partitions {
		t.Partitions = append(t.Partitions, Partition{ID: int32(i), Leader: 1, Replicas: []int32{1}, ISR: []int32{1}})
	}
	return t
}

func TestOpenNewStoreBecomesController(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.NodeID = 7
	start := time.Now()
	s := openStore(t, cfg)
	t.Logf("Open on an empty dir took %v", time.Since(start))

	st := s.State()
	if _, err := ParseUUID(st.ClusterID); err != nil {
		t.Errorf("cluster id: %v", err)
	}
	if st.ControllerID != 7 || !s.IsController() {
		t.Errorf("controller = %d (IsController %v), want 7", st.ControllerID, s.IsController())
	}
	for _, name := range []string{"meta/raft.log", "meta/stable.json", "meta/snapshots"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
}

func TestStoreTopicLifecycle(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, testConfig(t, t.TempDir()))

	if err := s.RegisterBroker(ctx, Broker{ID: 1, Host: "localhost", Port: 9092}); err != nil {
		t.Fatal(err)
	}
	orders := testTopic("orders", 2)
	if err := s.CreateTopic(ctx, orders); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTopic(ctx, orders); !errors.Is(err, ErrTopicExists) {
		t.Errorf("second CreateTopic = %v, want ErrTopicExists", err)
	}
	if err := s.CreateTopic(ctx, testTopic("empty", 0)); !errors.Is(err, ErrInvalidPartitions) {
		t.Errorf("CreateTopic without partitions = %v, want ErrInvalidPartitions", err)
	}

	more := []Partition{{ID: 2, Leader: 1, Replicas: []int32{1}, ISR: []int32{1}}}
	if err := s.CreatePartitions(ctx, "orders", more); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePartitions(ctx, "orders", more); !errors.Is(err, ErrInvalidPartitions) {
		t.Errorf("repeated CreatePartitions = %v, want ErrInvalidPartitions", err)
	}
	if err := s.CreatePartitions(ctx, "orders", nil); !errors.Is(err, ErrInvalidPartitions) {
		t.Errorf("CreatePartitions with none = %v, want ErrInvalidPartitions", err)
	}

	if err := s.AlterTopicConfigs(ctx, "orders", map[string]string{"cleanup.policy": "compact"}, []string{"retention.ms"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AlterBrokerConfigs(ctx, map[string]string{"num.partitions": "3", "x": "y"}, []string{"x"}); err != nil {
		t.Fatal(err)
	}

	st := s.State()
	got := st.Topic("orders")
	if got == nil || len(got.Partitions) != 3 || st.TopicByID(orders.ID) != got {
		t.Fatalf("orders = %+v", got)
	}
	if want := map[string]string{"cleanup.policy": "compact"}; !reflect.DeepEqual(got.Configs, want) {
		t.Errorf("orders configs = %v, want %v", got.Configs, want)
	}
	if want := map[string]string{"num.partitions": "3"}; !reflect.DeepEqual(st.BrokerConfigs, want) {
		t.Errorf("broker configs = %v, want %v", st.BrokerConfigs, want)
	}
	if b, ok := st.Broker(1); !ok || b.Port != 9092 {
		t.Errorf("Broker(1) = %v, %v", b, ok)
	}

	if err := s.ReplaceTopicConfigs(ctx, "orders", map[string]string{"segment.bytes": "1024"}); err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"segment.bytes": "1024"}; !reflect.DeepEqual(s.State().Topic("orders").Configs, want) {
		t.Errorf("configs after replace = %v, want %v", s.State().Topic("orders").Configs, want)
	}

	if err := s.DeleteTopic(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	if s.State().Topic("orders") != nil || s.State().TopicByID(orders.ID) != nil {
		t.Error("orders still there after DeleteTopic")
	}
	for name, err := range map[string]error{
		"DeleteTopic":         s.DeleteTopic(ctx, "orders"),
		"CreatePartitions":    s.CreatePartitions(ctx, "orders", more),
		"AlterTopicConfigs":   s.AlterTopicConfigs(ctx, "orders", map[string]string{"a": "b"}, nil),
		"ReplaceTopicConfigs": s.ReplaceTopicConfigs(ctx, "orders", nil),
	} {
		if !errors.Is(err, ErrUnknownTopic) {
			t.Errorf("%s of a deleted topic = %v, want ErrUnknownTopic", name, err)
		}
	}
	// The first state we read is untouched by everything since.
	if st.Topic("orders") != got || len(got.Partitions) != 3 || got.Configs["cleanup.policy"] != "compact" {
		t.Error("a published State changed")
	}
}

func TestStoreDoesNotAliasCallerData(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, testConfig(t, t.TempDir()))
	tp := testTopic("t", 1)
	if err := s.CreateTopic(ctx, tp); err != nil {
		t.Fatal(err)
	}
	tp.Partitions[0].Replicas[0] = 99
	tp.Configs["retention.ms"] = "5"
	got := s.State().Topic("t")
	if got.Partitions[0].Replicas[0] != 1 || got.Configs["retention.ms"] != "1000" {
		t.Errorf("state follows the caller's data: %+v", got)
	}
}

func TestStoreChangesFireOnChangeOnly(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, testConfig(t, t.TempDir()))

	before, ch := s.Watch()
	if ch != s.Changes() {
		t.Fatal("Watch and Changes disagree on the channel")
	}
	if err := s.CreateTopic(ctx, testTopic("a", 1)); err != nil {
		t.Fatal(err)
	}
	// The FSM runs before the call returns, so the channel is closed now.
	select {
	case <-ch:
	default:
		t.Fatal("Changes did not fire after CreateTopic")
	}
	if before.Topic("a") != nil || s.State().Topic("a") == nil {
		t.Error("old or new state wrong")
	}

	_, ch = s.Watch()
	if err := s.DeleteTopic(ctx, "nope"); !errors.Is(err, ErrUnknownTopic) {
		t.Fatal(err)
	}
	select {
	case <-ch:
		t.Fatal("Changes fired for a rejected command")
	default:
	}
}

func TestStoreRegisterBrokerSkipsUnchanged(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, testConfig(t, t.TempDir()))
	b := Broker{ID: 1, Host: "h", Port: 9092}
	if err := s.RegisterBroker(ctx, b); err != nil {
		t.Fatal(err)
	}
	last, _ := s.logs.LastIndex()
	if err := s.RegisterBroker(ctx, b); err != nil {
		t.Fatal(err)
	}
	if now, _ := s.logs.LastIndex(); now != last {
		t.Errorf("unchanged registration wrote to the log (%d -> %d)", last, now)
	}
	b.Port = 9093
	if err := s.RegisterBroker(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.State().Broker(1); got.Port != 9093 {
		t.Errorf("port = %d after re-registering", got.Port)
	}
	if err := s.RegisterBroker(ctx, Broker{ID: 2}); !errors.Is(err, ErrInvalidBroker) {
		t.Errorf("RegisterBroker without host = %v, want ErrInvalidBroker", err)
	}
}

// populate makes changes of every kind and returns the producer-ID
// high-water mark.
func populate(t *testing.T, s *Store, rounds int) int64 {
	t.Helper()
	ctx := context.Background()
	if err := s.RegisterBroker(ctx, Broker{ID: 1, Host: "h", Port: 9092, Rack: "r"}); err != nil {
		t.Fatal(err)
	}
	var hwm int64
	for i := range rounds {
		name := fmt.Sprintf("t%d", i)
		if err := s.CreateTopic(ctx, testTopic(name, 1+i%3)); err != nil {
			t.Fatal(err)
		}
		if err := s.AlterTopicConfigs(ctx, name, map[string]string{"k": name}, nil); err != nil {
			t.Fatal(err)
		}
		first, err := s.AllocateProducerIDs(ctx, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if first != hwm {
			t.Fatalf("AllocateProducerIDs = %d, want %d", first, hwm)
		}
		hwm = first + 1000
	}
	if err := s.DeleteTopic(ctx, "t0"); err != nil {
		t.Fatal(err)
	}
	if err := s.AlterBrokerConfigs(ctx, map[string]string{"num.partitions": "3"}, nil); err != nil {
		t.Fatal(err)
	}
	return hwm
}

func TestStoreStateSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t, t.TempDir())
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hwm := populate(t, s, 5)
	want := s.State()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, cfg)
	if got := s.State(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after reopen:\n%s\nwant:\n%s", dumpState(got), dumpState(want))
	}
	first, err := s.AllocateProducerIDs(ctx, 1)
	if err != nil || first != hwm {
		t.Fatalf("AllocateProducerIDs after reopen = %d, %v; want %d", first, err, hwm)
	}
}

func TestStoreRestoresFromSnapshot(t *testing.T) {
	for _, tc := range []struct {
		name  string
		force func(t *testing.T, s *Store)
	}{
		{"threshold", func(t *testing.T, s *Store) {}},
		{"explicit", func(t *testing.T, s *Store) {
			if err := s.Snapshot(); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			cfg := testConfig(t, t.TempDir())
			cfg.TrailingLogs = 0
			if tc.name == "threshold" {
				cfg.SnapshotThreshold = 8
				cfg.SnapshotInterval = 5 * time.Millisecond
			}
			s, err := Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			hwm := populate(t, s, 10)
			tc.force(t, s)
			// A snapshot exists and the log before it is gone, so a
			// reopen can only get the state back from the snapshot.
			eventually(t, "snapshot and log compaction", func() bool {
				snaps, err := s.snaps.List()
				return err == nil && len(snaps) > 0 && !hasLog(s, 1)
			})
			want := s.State()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			s = openStore(t, cfg)
			if hasLog(s, 1) {
				t.Fatal("log still starts at 1; the test would not exercise the snapshot")
			}
			if got := s.State(); !reflect.DeepEqual(got, want) {
				t.Fatalf("after restore:\n%s\nwant:\n%s", dumpState(got), dumpState(want))
			}
			first, err := s.AllocateProducerIDs(ctx, 1)
			if err != nil || first != hwm {
				t.Fatalf("AllocateProducerIDs after restore = %d, %v; want %d", first, err, hwm)
			}
		})
	}
}

// hasLog reports whether the raft log still holds entry i.
func hasLog(s *Store, i uint64) bool {
	var l raft.Log
	return s.logs.GetLog(i, &l) == nil
}

func TestStoreAllocatesDisjointProducerIDsConcurrently(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, testConfig(t, t.TempDir()))
	const workers, per, n = 4, 25, 7
	var mu sync.Mutex
	var firsts []int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range per {
				first, err := s.AllocateProducerIDs(ctx, n)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				firsts = append(firsts, first)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(firsts)
	for i, f := range firsts {
		if f != int64(i*n) {
			t.Fatalf("blocks overlap or leave gaps: %v", firsts)
		}
	}
	if got := s.State().NextProducerID; got != workers*per*n {
		t.Errorf("NextProducerID = %d, want %d", got, workers*per*n)
	}
}

func TestStoreFailsAfterClose(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, testConfig(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	_, allocErr := s.AllocateProducerIDs(ctx, 1)
	for name, err := range map[string]error{
		"RegisterBroker":      s.RegisterBroker(ctx, Broker{ID: 1, Host: "h", Port: 1}),
		"CreateTopic":         s.CreateTopic(ctx, testTopic("t", 1)),
		"DeleteTopic":         s.DeleteTopic(ctx, "t"),
		"AlterBrokerConfigs":  s.AlterBrokerConfigs(ctx, nil, nil),
		"AllocateProducerIDs": allocErr,
		"Snapshot":            s.Snapshot(),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
	if s.State() == nil {
		t.Error("State after Close is nil")
	}
}

func TestStoreApplyHonoursContext(t *testing.T) {
	s := openStore(t, testConfig(t, t.TempDir()))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.CreateTopic(ctx, testTopic("t", 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateTopic with a cancelled context = %v", err)
	}
	ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if err := s.CreateTopic(ctx, testTopic("t", 1)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("CreateTopic past its deadline = %v", err)
	}
	if s.State().Topic("t") != nil {
		t.Error("topic created anyway")
	}
}

func TestOpenStopsWhenContextEnds(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Open(ctx, cfg); !errors.Is(err, context.Canceled) {
		t.Fatalf("Open with a cancelled context = %v", err)
	}
	eventually(t, "goroutines to stop", func() bool { return runtime.NumGoroutine() <= before })
	// Open released everything, so the directory opens again.
	openStore(t, cfg)
}

func TestCloseStopsAllGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	s, err := Open(context.Background(), testConfig(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	populate(t, s, 2)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "goroutines to stop", func() bool { return runtime.NumGoroutine() <= before })
}

func TestRaftErrorMapping(t *testing.T) {
	s := &Store{}
	live := context.Background()
	dead, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		in   error
		want error
	}{
		{"not leader", live, raft.ErrNotLeader, ErrNotController},
		{"leadership lost", live, raft.ErrLeadershipLost, ErrNotController},
		{"shutdown", live, raft.ErrRaftShutdown, ErrClosed},
		{"enqueue timeout", live, raft.ErrEnqueueTimeout, context.DeadlineExceeded},
		{"enqueue timeout after cancel", dead, raft.ErrEnqueueTimeout, context.Canceled},
		{"other", live, os.ErrPermission, os.ErrPermission},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.raftError(tc.ctx, tc.in); !errors.Is(got, tc.want) {
				t.Errorf("raftError(%v) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		ok   bool
	}{
		{"default with dir", func(*Config) {}, true},
		{"no dir", func(c *Config) { c.Dir = "" }, false},
		{"negative node", func(c *Config) { c.NodeID = -1 }, false},
		{"nil logger", func(c *Config) { c.Logger = nil }, false},
		{"zero apply timeout", func(c *Config) { c.ApplyTimeout = 0 }, false},
		{"tiny lease", func(c *Config) { c.LeaderLeaseTimeout = time.Millisecond }, false},
		{"heartbeat below lease", func(c *Config) { c.HeartbeatTimeout = c.LeaderLeaseTimeout / 2 }, false},
		{"election below heartbeat", func(c *Config) { c.ElectionTimeout = c.HeartbeatTimeout / 2 }, false},
		{"tiny snapshot interval", func(c *Config) { c.SnapshotInterval = time.Millisecond }, false},
		{"no snapshots kept", func(c *Config) { c.SnapshotRetain = 0 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			c.Dir = "/data"
			tc.edit(&c)
			if err := c.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func BenchmarkOpenEmpty(b *testing.B) {
	for b.Loop() {
		s, err := Open(context.Background(), testConfig(b, b.TempDir()))
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

func BenchmarkStoreAllocateProducerIDs(b *testing.B) {
	s := openStore(b, testConfig(b, b.TempDir()))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.AllocateProducerIDs(ctx, 1000); err != nil {
			b.Fatal(err)
		}
	}
}
