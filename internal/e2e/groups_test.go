package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// groupFlags start the broker with group timeouts short enough for tests:
// members ask for 3–6s sessions, the initial rebalance waits 100ms.
var groupFlags = []string{"--group-min-session-timeout", "1s", "--group-initial-rebalance-delay", "100ms", "--offsets-topic-partitions", "5"}

type labConsumer struct {
	Name     string    `json:"name"`
	Assigned []int32   `json:"assigned"`
	Values   []string  `json:"values"`
	Keys     []*string `json:"keys"`
	Errors   []string  `json:"errors"`
}

// TestPythonGroupLabTasks runs the lab's post-office tasks 1–3 with
// confluent-kafka consumers in threads, as the lab's kafka.py does.
func TestPythonGroupLabTasks(t *testing.T) {
	python := requirePythonKafka(t)
	p := startBroker(t, groupFlags...)
	tests := []struct {
		name      string
		mode      string
		consumers int
		strategy  string
	}{
		{"task1-independent-groups", "independent", 3, "range,roundrobin"},
		{"task2-three-share-five-partitions", "shared", 3, "range,roundrobin"},
		{"task2-seven-on-five-partitions", "shared", 7, "range,roundrobin"},
		{"task3-keyed", "keyed", 3, "range,roundrobin"},
		{"task2-cooperative-sticky", "shared", 3, "cooperative-sticky"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topic := fmt.Sprintf("post.office.%d", i)
			createTopic(t, p.Addr(), topic, 5, nil)
			const letters = 40
			var out struct {
				Letters   []string      `json:"letters"`
				Consumers []labConsumer `json:"consumers"`
			}
			runPython(t, python, "groups_lab.py", &out, p.Addr(), topic, tt.mode, strconv.Itoa(tt.consumers), strconv.Itoa(letters), tt.strategy)
			if len(out.Consumers) != tt.consumers || len(out.Letters) != letters {
				t.Fatalf("%d consumers, %d letters in the output", len(out.Consumers), len(out.Letters))
			}
			want := slices.Sorted(slices.Values(out.Letters))
			for _, c := range out.Consumers {
				if len(c.Errors) > 0 {
					t.Errorf("%s saw errors: %v", c.Name, c.Errors)
				}
			}
			if tt.mode == "independent" {
				for _, c := range out.Consumers {
					if got := slices.Sorted(slices.Values(c.Values)); !slices.Equal(got, want) {
						t.Errorf("%s got %d letters, want all %d once", c.Name, len(got), len(want))
					}
					if len(c.Assigned) != 5 {
						t.Errorf("%s alone in its group owns %v, want all 5 partitions", c.Name, c.Assigned)
					}
				}
				return
			}
			var all []string
			active := 0
			keyOwner := map[string]string{}
			for _, c := range out.Consumers {
				all = append(all, c.Values...)
				if len(c.Assigned) > 0 {
					active++
				}
				for _, k := range c.Keys {
					if k == nil {
						continue
					}
					if o, ok := keyOwner[*k]; ok && o != c.Name {
						t.Errorf("key %s reached %s and %s", *k, o, c.Name)
					}
					keyOwner[*k] = c.Name
				}
			}
			if got := slices.Sorted(slices.Values(all)); !slices.Equal(got, want) {
				t.Errorf("the group received %d letters (%d distinct of %d): each must arrive exactly once", len(all), len(slices.Compact(got)), len(want))
			}
			if wantActive := min(tt.consumers, 5); active != wantActive {
				t.Errorf("%d consumers own partitions, want %d", active, wantActive)
			}
			if tt.mode == "keyed" && len(keyOwner) != 4 {
				t.Errorf("%d keys seen, want 4", len(keyOwner))
			}
		})
	}
}

// pyMember is a groups_member.py process; a goroutine reads its JSON lines.
type pyMember struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process exited and its output is read

	mu      sync.Mutex // guards the fields below
	ready   bool
	closed  bool
	owned   []int32
	records []memberRecord
	errors  []string
	stderr  bytes.Buffer
}

type memberRecord struct {
	Partition int32   `json:"partition"`
	Offset    int64   `json:"offset"`
	Key       *string `json:"key"`
	Value     string  `json:"value"`
}

// startPyMember starts a group member process; it is killed at cleanup if
// still running.
func startPyMember(t *testing.T, python, addr, topic, groupID, name, strategy string, instance ...string) *pyMember {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("testdata", "groups_member.py"))
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-B", script, addr, topic, groupID, name, strategy}, instance...)
	m := &pyMember{t: t, name: name, cmd: exec.Command(python, args...), done: make(chan struct{})}
	out, err := m.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	m.cmd.Stderr = &lockedWriter{mu: &m.mu, w: &m.stderr}
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		defer close(m.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var ev struct {
				Event      string  `json:"event"`
				Partitions []int32 `json:"partitions"`
				Error      string  `json:"error"`
				memberRecord
			}
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				continue
			}
			m.mu.Lock()
			switch ev.Event {
			case "ready":
				m.ready = true
			case "assigned":
				m.owned = ev.Partitions
			case "record":
				m.records = append(m.records, ev.memberRecord)
			case "error":
				m.errors = append(m.errors, ev.Error)
			case "closed":
				m.closed = true
			}
			m.mu.Unlock()
		}
		m.cmd.Wait()
	}()
	t.Cleanup(func() {
		m.cmd.Process.Kill()
		<-m.done
		if t.Failed() {
			m.mu.Lock()
			t.Logf("%s stderr:\n%s", name, m.stderr.String())
			m.mu.Unlock()
		}
	})
	return m
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

func (m *pyMember) ownedPartitions() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.owned)
}

func (m *pyMember) received() []memberRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.records)
}

// kill sends SIGKILL: the member vanishes without leaving the group.
func (m *pyMember) kill() {
	m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.done
}

// stop sends SIGTERM and waits for the member to close (leave the group).
func (m *pyMember) stop() {
	m.t.Helper()
	m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(toolTimeout):
		m.t.Fatalf("%s did not exit within %v of SIGTERM", m.name, toolTimeout)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.t.Fatalf("%s exited without closing its consumer", m.name)
	}
}

// waitMembersOwn waits until the members own every one of n partitions
// exactly once, with `active` members owning some, steady for a second.
func waitMembersOwn(t *testing.T, n, active int, ms ...*pyMember) {
	t.Helper()
	var since time.Time
	samsatest.Eventually(t, 60*time.Second, fmt.Sprintf("%d members owning %d partitions", active, n), func() bool {
		seen := map[int32]int{}
		owners := 0
		for _, m := range ms {
			o := m.ownedPartitions()
			if len(o) > 0 {
				owners++
			}
			for _, p := range o {
				seen[p]++
			}
		}
		ok := len(seen) == n && owners == active
		for _, c := range seen {
			ok = ok && c == 1
		}
		if !ok {
			since = time.Time{}
			return false
		}
		if since.IsZero() {
			since = time.Now()
		}
		return time.Since(since) >= time.Second
	})
}

func produceTo(t *testing.T, addr, topic string, partition int32, values ...string) {
	t.Helper()
	cl := samsatest.NewClient(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var recs []*kgo.Record
	for _, v := range values {
		recs = append(recs, &kgo.Record{Topic: topic, Partition: partition, Value: []byte(v)})
	}
	if err := cl.ProduceSync(samsatest.Context(t, 20*time.Second), recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// TestPythonGroupIdleMemberTakesOverFromKilledOne is task 2's last point:
// six librdkafka consumers on five partitions; one owning a partition is
// SIGKILLed (no LeaveGroup), and within its session timeout the idle one
// takes its partition over and consumes what arrives there.
func TestPythonGroupIdleMemberTakesOverFromKilledOne(t *testing.T) {
	python := requirePythonKafka(t)
	p := startBroker(t, groupFlags...)
	for _, strategy := range []string{"range,roundrobin", "cooperative-sticky"} {
		t.Run(strategy, func(t *testing.T) {
			topic := "takeover-" + strategy[:5]
			createTopic(t, p.Addr(), topic, 5, nil)
			var ms []*pyMember
			for i := range 6 {
				ms = append(ms, startPyMember(t, python, p.Addr(), topic, topic, fmt.Sprintf("m%d", i), strategy))
			}
			waitMembersOwn(t, 5, 5, ms...)
			var victim, idle *pyMember
			for _, m := range ms {
				if o := m.ownedPartitions(); len(o) == 0 {
					idle = m
				} else if victim == nil {
					victim = m
				}
			}
			part := victim.ownedPartitions()[0]
			start := time.Now()
			victim.kill()
			produceTo(t, p.Addr(), topic, part, "after-kill")
			samsatest.Eventually(t, 30*time.Second, "the killed member's partition consumed by another", func() bool {
				for _, m := range ms {
					if m == victim {
						continue
					}
					for _, r := range m.received() {
						if r.Value == "after-kill" {
							return true
						}
					}
				}
				return false
			})
			t.Logf("partition %d consumed again %v after its member was killed (session timeout 3s)", part, time.Since(start).Round(time.Millisecond))
			live := slices.DeleteFunc(slices.Clone(ms), func(m *pyMember) bool { return m == victim })
			waitMembersOwn(t, 5, 5, live...)
			if len(idle.ownedPartitions()) == 0 {
				t.Errorf("the idle member %s still owns nothing", idle.name)
			}
		})
	}
}

// TestPythonGroupResumesAfterMemberAndBrokerRestart: a member commits each
// record; after it stops, and again after the broker restarts, the next
// member of the group continues right after the last committed record.
func TestPythonGroupResumesAfterMemberAndBrokerRestart(t *testing.T) {
	python := requirePythonKafka(t)
	p := startBroker(t, groupFlags...)
	const topic = "resume"
	createTopic(t, p.Addr(), topic, 1, nil)
	batch := func(from, n int) []string {
		var vs []string
		for i := from; i < from+n; i++ {
			vs = append(vs, fmt.Sprintf("r%03d", i))
		}
		return vs
	}
	values := func(rs []memberRecord) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Value)
		}
		return out
	}
	consume := func(name string, want []string) {
		t.Helper()
		m := startPyMember(t, python, p.Addr(), topic, "resumers", name, "range")
		samsatest.Eventually(t, 60*time.Second, name+" consumes its records", func() bool { return len(m.received()) >= len(want) })
		m.stop()
		if got := values(m.received()); !slices.Equal(got, want) {
			t.Fatalf("%s consumed %v, want %v", name, got, want)
		}
	}
	produceTo(t, p.Addr(), topic, 0, batch(0, 10)...)
	consume("first", batch(0, 10))
	produceTo(t, p.Addr(), topic, 0, batch(10, 10)...)
	consume("second", batch(10, 10))
	produceTo(t, p.Addr(), topic, 0, batch(20, 10)...)
	p = p.Restart()
	consume("after-restart", batch(20, 10))
}

// TestPythonGroupStaticMemberRejoinsWithoutRebalance: a librdkafka static
// member (group.instance.id) killed and restarted within its session gets
// its partitions back while the other member keeps its own untouched.
func TestPythonGroupStaticMemberRejoinsWithoutRebalance(t *testing.T) {
	python := requirePythonKafka(t)
	p := startBroker(t, groupFlags...)
	const topic = "statics"
	createTopic(t, p.Addr(), topic, 4, nil)
	a := startPyMember(t, python, p.Addr(), topic, "statics", "a", "range", "instance-a")
	b := startPyMember(t, python, p.Addr(), topic, "statics", "b", "range", "instance-b")
	waitMembersOwn(t, 4, 2, a, b)
	aOwned, bOwned := a.ownedPartitions(), b.ownedPartitions()
	b.kill()
	b2 := startPyMember(t, python, p.Addr(), topic, "statics", "b2", "range", "instance-b")
	samsatest.Eventually(t, 30*time.Second, "the restarted static member owns its partitions", func() bool {
		return slices.Equal(b2.ownedPartitions(), bOwned)
	})
	produceTo(t, p.Addr(), topic, bOwned[0], "to-b")
	samsatest.Eventually(t, 30*time.Second, "the restarted member consumes", func() bool {
		for _, r := range b2.received() {
			if r.Value == "to-b" {
				return true
			}
		}
		return false
	})
	if got := a.ownedPartitions(); !slices.Equal(got, aOwned) {
		t.Errorf("member a owns %v after b's restart, before %v", got, aOwned)
	}
}

// TestKcatBalancedConsumerUsesGroup runs kcat -G (librdkafka's balanced
// consumer): it reads every record and commits, so a second run of the
// same group reads only what came after.
func TestKcatBalancedConsumerUsesGroup(t *testing.T) {
	kcat := samsatest.RequireTool(t, "kcat", "kcat")
	p := startBroker(t, groupFlags...)
	const topic = "kcat-group"
	createTopic(t, p.Addr(), topic, 2, nil)
	produceTo(t, p.Addr(), topic, 0, "a1", "a2")
	produceTo(t, p.Addr(), topic, 1, "b1")
	run := func(want int) []string {
		t.Helper()
		out := runTool(t, "", kcat, "-b", p.Addr(), "-G", "kcat-readers", "-X", "auto.offset.reset=earliest",
			"-X", "session.timeout.ms=6000", "-X", "enable.auto.commit=true", "-X", "auto.commit.interval.ms=100",
			"-e", "-q", "-f", "%s\n", topic)
		lines := slices.DeleteFunc(bytes.Split(bytes.TrimSpace([]byte(out)), []byte("\n")), func(b []byte) bool { return len(b) == 0 })
		var got []string
		for _, l := range lines {
			got = append(got, string(l))
		}
		sort.Strings(got)
		if len(got) != want {
			t.Fatalf("kcat -G read %v, want %d records", got, want)
		}
		return got
	}
	if got := run(3); !slices.Equal(got, []string{"a1", "a2", "b1"}) {
		t.Fatalf("first run read %v", got)
	}
	adm := kadm.NewClient(samsatest.NewClient(t, p.Addr()))
	offs, err := adm.FetchOffsets(samsatest.Context(t, 20*time.Second), "kcat-readers")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup(topic, 0); !ok || o.At != 2 {
		t.Fatalf("committed offset of partition 0: %+v (present %v), want 2", o, ok)
	}
	produceTo(t, p.Addr(), topic, 1, "b2")
	if got := run(1); !slices.Equal(got, []string{"b2"}) {
		t.Fatalf("second run read %v, want only the new record", got)
	}
}

// TestGroupCommitsSurviveBrokerKill SIGKILLs the broker while a franz-go
// group member commits after every poll, restarts it on the same data
// directory and address, and checks that no acknowledged commit went
// backwards and that the group goes on consuming to the end.
func TestGroupCommitsSurviveBrokerKill(t *testing.T) {
	p := startBroker(t, "--flush", "durable", "--group-min-session-timeout", "1s", "--group-initial-rebalance-delay", "100ms")
	const (
		topic   = "crash-commits"
		parts   = 3
		perPart = 2000
	)
	createTopic(t, p.Addr(), topic, parts, nil)
	for part := range int32(parts) {
		var vs []string
		for i := range perPart {
			vs = append(vs, fmt.Sprintf("%d-%05d", part, i))
		}
		produceTo(t, p.Addr(), topic, part, vs...)
	}

	cl := samsatest.NewClient(t, p.Addr(),
		kgo.ConsumerGroup("crashers"), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(),
		kgo.SessionTimeout(20*time.Second), kgo.HeartbeatInterval(200*time.Millisecond),
		kgo.FetchMaxWait(100*time.Millisecond), kgo.FetchMaxPartitionBytes(2<<10))
	var (
		mu       sync.Mutex
		acked    = map[int32]int64{} // highest committed offset acknowledged, per partition
		commits  int
		consumed = map[string]bool{}
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fs := cl.PollRecords(ctx, 50)
			recs := fs.Records()
			if len(recs) == 0 {
				continue
			}
			mu.Lock()
			for _, r := range recs {
				consumed[string(r.Value)] = true
			}
			mu.Unlock()
			// Retry the commit until it is acknowledged: the broker may be
			// down for a while.
			for ctx.Err() == nil {
				cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
				err := cl.CommitRecords(cctx, recs...)
				ccancel()
				if err == nil {
					break
				}
			}
			mu.Lock()
			for _, r := range recs {
				acked[r.Partition] = max(acked[r.Partition], r.Offset+1)
			}
			commits++
			mu.Unlock()
		}
	}()
	samsatest.Eventually(t, 60*time.Second, "20 acknowledged commits covering every partition", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return commits >= 20 && len(acked) == parts
	})
	p.Kill()
	mu.Lock()
	before := maps.Clone(acked)
	mu.Unlock()
	t.Logf("killed the broker after %d acknowledged commits: %v", commits, before)
	p = p.Restart()

	adm := kadm.NewClient(samsatest.NewClient(t, p.Addr()))
	offs, err := adm.FetchOffsets(samsatest.Context(t, 30*time.Second), "crashers")
	if err != nil {
		t.Fatal(err)
	}
	for part, at := range before {
		o, ok := offs.Lookup(topic, part)
		if !ok || o.At < at {
			t.Errorf("partition %d: committed offset %+v after restart (present %v), but %d was acknowledged before the kill", part, o, ok, at)
		}
	}
	samsatest.Eventually(t, 90*time.Second, "the group consumes every record after the restart", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(consumed) == parts*perPart && len(acked) == parts && acked[0] == perPart && acked[1] == perPart && acked[2] == perPart
	})
	cancel()
	<-done
	offs, err = adm.FetchOffsets(samsatest.Context(t, 30*time.Second), "crashers")
	if err != nil {
		t.Fatal(err)
	}
	for part := range int32(parts) {
		if o, ok := offs.Lookup(topic, part); !ok || o.At != perPart {
			t.Errorf("partition %d: final committed offset %+v, want %d", part, o, perPart)
		}
	}
}
