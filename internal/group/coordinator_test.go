package group

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/storage"
)

// openTestCoordinator starts a coordinator with the real clock on one
// partition of a fresh log and waits for it to load.
func openTestCoordinator(t testing.TB, flush storage.FlushPolicy, tweak func(*Config)) (*Coordinator, *storage.Log) {
	t.Helper()
	mgr, err := storage.OpenManager(storage.ManagerConfig{Dir: t.TempDir(), Flush: flush})
	if err != nil {
		t.Fatal(err)
	}
	l, err := mgr.OpenLog(OffsetsTopic, 0, storage.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.MinSessionTimeout = 10 * time.Millisecond
	cfg.InitialRebalanceDelay = 0
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
		if err := mgr.Close(); err != nil {
			t.Error(err)
		}
	})
	c.Load(Partition{Log: l, Count: 1})
	deadline := time.Now().Add(10 * time.Second)
	for !c.Loaded()[0] {
		if time.Now().After(deadline) {
			t.Fatal("not loaded")
		}
		time.Sleep(time.Millisecond)
	}
	return c, l
}

func TestCommitIsAnsweredOnlyOnceDurable(t *testing.T) {
	c, l := openTestCoordinator(t, storage.FlushDurable, nil)
	for i := range 20 {
		errs := <-c.CommitOffsets(CommitRequest{Group: "g", Generation: -1, Offsets: []OffsetCommit{{TopicPartition: TopicPartition{"t", 0}, Offset: int64(i), LeaderEpoch: -1}}})
		if errs[0] != nil {
			t.Fatal(errs[0])
		}
		if flushed, leo := l.FlushedOffset(), l.LogEndOffset(); flushed < leo {
			t.Fatalf("commit %d answered with the log flushed to %d of %d", i, flushed, leo)
		}
		offs, err := c.FetchOffsets("g", []TopicPartition{{"t", 0}})
		if err != nil || offs[0].Offset != int64(i) {
			t.Fatalf("fetch after commit %d: %+v, %v", i, offs, err)
		}
	}
}

func TestRequestsBeforeLoadAndForOtherPartitions(t *testing.T) {
	c, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Heartbeat(HeartbeatRequest{Group: "g", MemberID: "m"}); !errors.Is(err, ErrNotCoordinator) {
		t.Errorf("heartbeat with no partition handed over: %v, want ErrNotCoordinator", err)
	}
	// A partition still replaying answers COORDINATOR_LOAD_IN_PROGRESS;
	// groups of partitions not hosted here, NOT_COORDINATOR.
	c.mu.Lock()
	c.count = 2
	c.shards[PartitionFor("g", 2)] = &shard{c: c, loading: true, groups: map[string]*group{}}
	c.mu.Unlock()
	other := "g"
	for i := 0; PartitionFor(other, 2) == PartitionFor("g", 2); i++ {
		other = fmt.Sprintf("group-%d", i)
	}
	if r := <-c.Join(JoinRequest{Group: "g", ProtocolType: "consumer", Protocols: []Protocol{{Name: "range"}}, SessionTimeout: 10 * time.Second}); !errors.Is(r.Err, ErrCoordinatorLoadInProgress) {
		t.Errorf("join while loading: %v", r.Err)
	}
	if _, err := c.FetchOffsets("g", nil); !errors.Is(err, ErrCoordinatorLoadInProgress) {
		t.Errorf("fetch while loading: %v", err)
	}
	if _, err := c.ListGroups(); !errors.Is(err, ErrCoordinatorLoadInProgress) {
		t.Errorf("list while loading: %v", err)
	}
	if errs := <-c.CommitOffsets(CommitRequest{Group: other, Generation: -1, Offsets: []OffsetCommit{{}}}); !errors.Is(errs[0], ErrNotCoordinator) {
		t.Errorf("commit for a partition not hosted here: %v", errs[0])
	}
}

// TestConcurrentMembersKeepInvariants runs members that join, sync,
// heartbeat, commit and leave at once, with the real clock, and checks
// that every request is answered and the group's invariants hold.
func TestConcurrentMembersKeepInvariants(t *testing.T) {
	c, _ := openTestCoordinator(t, storage.FlushOS, func(cfg *Config) { cfg.InitialRebalanceDelay = 5 * time.Millisecond })
	const members, rounds = 6, 15
	await := func(what string, ch <-chan JoinResult) JoinResult {
		select {
		case r := <-ch:
			return r
		case <-time.After(20 * time.Second):
			t.Errorf("%s: no answer", what)
			return JoinResult{Err: errors.New("no answer")}
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	count := func(what string) {
		mu.Lock()
		outcomes[what]++
		mu.Unlock()
	}
	for i := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := fmt.Sprintf("c%d", i)
			for round := range rounds {
				id := ""
				var r JoinResult
				for attempt := 0; attempt < 50; attempt++ {
					r = await("join", c.Join(JoinRequest{Group: "busy", MemberID: id, ClientID: client, ProtocolType: "consumer",
						Protocols: []Protocol{{Name: "range", Metadata: []byte(client)}}, SessionTimeout: time.Second, RebalanceTimeout: 200 * time.Millisecond, RequireKnownMemberID: true}))
					if errors.Is(r.Err, ErrMemberIDRequired) {
						id = r.MemberID
						continue
					}
					if r.Err == nil {
						break
					}
					if errors.Is(r.Err, ErrUnknownMemberID) {
						id = ""
					}
				}
				if r.Err != nil {
					count("join failed")
					continue
				}
				count("joined")
				var sr SyncResult
				select {
				case sr = <-c.Sync(SyncRequest{Group: "busy", MemberID: r.MemberID, Generation: r.Generation, Assignments: map[string][]byte{r.MemberID: []byte("x")}}):
				case <-time.After(20 * time.Second):
					t.Error("sync: no answer")
				}
				_ = c.Heartbeat(HeartbeatRequest{Group: "busy", MemberID: r.MemberID, Generation: r.Generation})
				if sr.Err == nil {
					count("synced")
					select {
					case <-c.CommitOffsets(CommitRequest{Group: "busy", MemberID: r.MemberID, Generation: r.Generation, Offsets: []OffsetCommit{{TopicPartition: TopicPartition{"t", int32(i)}, Offset: int64(round)}}}):
					case <-time.After(20 * time.Second):
						t.Error("commit: no answer")
					}
				}
				if _, err := c.Leave("busy", []LeavingMember{{MemberID: r.MemberID}}); err != nil {
					t.Errorf("leave: %v", err)
				}
				c.Describe("busy")
			}
		}()
	}
	wg.Wait()
	t.Logf("outcomes: %v", outcomes)
	if outcomes["joined"] != members*rounds || outcomes["synced"] == 0 {
		t.Errorf("outcomes %v: want every join to succeed eventually and some syncs to get an assignment", outcomes)
	}
	for _, s := range c.loadedShards() {
		groups, err := s.groupList()
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range groups {
			g.mu.Lock()
			if err := g.checkLocked(); err != nil {
				t.Errorf("group %s: %v", g.id, err)
			}
			g.mu.Unlock()
		}
	}
}

// TestJoinWhileLoadArmsSessions joins new groups while a load arms the
// session timers of the groups it replayed: the load must not walk the
// shard's group map, which Join adds to once the groups are served. Under
// -race this failed with a data race on that map (without -race, Go may
// stop with "concurrent map iteration and map write").
func TestJoinWhileLoadArmsSessions(t *testing.T) {
	c1, l := openTestCoordinator(t, storage.FlushOS, nil)
	join := func(c *Coordinator, group string) JoinResult {
		t.Helper()
		select {
		case r := <-c.Join(JoinRequest{Group: group, ClientID: "c", ProtocolType: "consumer", Protocols: []Protocol{{Name: "range", Metadata: []byte("x")}},
			SessionTimeout: time.Minute, RebalanceTimeout: time.Minute}):
			return r
		case <-time.After(20 * time.Second):
			t.Fatalf("join %s: no answer", group)
			return JoinResult{}
		}
	}
	// Enough Stable groups that arming their sessions takes a while.
	const replayed = 2000
	for i := range replayed {
		g := fmt.Sprintf("g%d", i)
		r := join(c1, g)
		if r.Err != nil {
			t.Fatalf("join %s: %v", g, r.Err)
		}
		if sr := <-c1.Sync(SyncRequest{Group: g, MemberID: r.MemberID, Generation: r.Generation, Assignments: map[string][]byte{r.MemberID: []byte("p")}}); sr.Err != nil {
			t.Fatalf("sync %s: %v", g, sr.Err)
		}
	}
	if err := c1.Close(); err != nil {
		t.Fatal(err)
	}

	cfg := DefaultConfig()
	cfg.MinSessionTimeout = 10 * time.Millisecond
	cfg.InitialRebalanceDelay = 0
	c2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c2.Close(); err != nil {
			t.Error(err)
		}
	})
	c2.Load(Partition{Log: l, Count: 1})
	joined := 0
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; !c2.Loaded()[0]; i++ {
		if time.Now().After(deadline) {
			t.Fatal("not loaded after 20s")
		}
		r := join(c2, fmt.Sprintf("new%d", i))
		switch {
		case r.Err == nil:
			joined++
		case !errors.Is(r.Err, ErrCoordinatorLoadInProgress):
			t.Fatalf("join during the load: %v", r.Err)
		}
	}
	t.Logf("%d groups joined while the load armed %d groups' sessions", joined, replayed)
	if joined == 0 {
		t.Fatal("no group joined before the load finished: nothing raced with it")
	}
	groups, err := c2.loadedShards()[0].groupList()
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != replayed+joined {
		t.Errorf("%d groups after the load, want %d replayed and %d joined", len(groups), replayed, joined)
	}
	for _, g := range groups {
		g.mu.Lock()
		for _, m := range g.members {
			if m.timer == nil {
				t.Errorf("group %s: member %s has no session timer", g.id, m.id)
			}
		}
		g.mu.Unlock()
	}
}

// BenchmarkCommitOffsets measures one member's synchronous commits through
// the coordinator and the log, with each flush policy.
func BenchmarkCommitOffsets(b *testing.B) {
	for _, flush := range []storage.FlushPolicy{storage.FlushOS, storage.FlushDurable} {
		b.Run(flush.String(), func(b *testing.B) {
			c, _ := openTestCoordinator(b, flush, nil)
			req := CommitRequest{Group: "bench", Generation: -1, Offsets: []OffsetCommit{{TopicPartition: TopicPartition{"t", 0}, LeaderEpoch: -1}}}
			b.ReportAllocs()
			for b.Loop() {
				req.Offsets[0].Offset++
				if errs := <-c.CommitOffsets(req); errs[0] != nil {
					b.Fatal(errs[0])
				}
			}
		})
	}
}
