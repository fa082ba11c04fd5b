package broker_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/samsa-streaming/samsa/internal/broker"
	"github.com/samsa-streaming/samsa/internal/group"
	"github.com/samsa-streaming/samsa/internal/samsatest"
	"github.com/samsa-streaming/samsa/internal/storage"
)

// Group tests run with short timeouts: sessions of 1.5s (the broker's
// minimum is lowered to allow it), heartbeats every 150ms, a 100ms initial
// rebalance delay and three __consumer_offsets partitions.
const (
	testSession   = 1500 * time.Millisecond
	testHeartbeat = 150 * time.Millisecond
)

func groupOpts(c *broker.Config) {
	c.Group.OffsetsTopicPartitions = 3
	c.Group.MinSessionTimeout = 500 * time.Millisecond
	c.Group.InitialRebalanceDelay = 100 * time.Millisecond
}

func startGroupBroker(t testing.TB, opts ...samsatest.Option) *samsatest.Broker {
	return samsatest.Start(t, append([]samsatest.Option{groupOpts}, opts...)...)
}

func createTopic(t testing.TB, b *samsatest.Broker, topic string, partitions int32) {
	t.Helper()
	resp, err := b.Admin().CreateTopic(samsatest.Context(t, 20*time.Second), partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// severableDialer dials normally until sever, which closes every
// connection it made and refuses new ones: to the broker the client died.
type severableDialer struct {
	mu    sync.Mutex
	conns []net.Conn
	cut   bool
}

func (d *severableDialer) dial(ctx context.Context, network, host string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cut {
		return nil, errors.New("severed")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, host)
	if err == nil {
		d.conns = append(d.conns, c)
	}
	return c, err
}

func (d *severableDialer) sever() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cut = true
	for _, c := range d.conns {
		c.Close()
	}
}

// consumer is one kgo group member polling in the background; it records
// what it receives and which partitions it owns.
type consumer struct {
	name   string
	cl     *kgo.Client
	dialer *severableDialer

	mu          sync.Mutex // guards the fields below
	owned       map[int32]bool
	records     []*kgo.Record
	revoked     [][]int32 // each revocation's partitions
	assigned    int       // assignment callbacks
	assignedGen int32     // generation of the last assignment callback; -1 before the first
}

func (c *consumer) ownedPartitions() []int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int32
	for p := range c.owned {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// generations returns the generation the client has joined and the one
// its last assignment callback ran in. They are equal once the client has
// finished taking its assignment for the generation it joined.
func (c *consumer) generations() (joined, assigned int32) {
	_, joined = c.cl.GroupMetadata()
	c.mu.Lock()
	defer c.mu.Unlock()
	return joined, c.assignedGen
}

func (c *consumer) received() []*kgo.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.records)
}

// startConsumer starts a group member on topic; it stops at cleanup.
func startConsumer(t testing.TB, b *samsatest.Broker, groupID, topic, name string, opts ...kgo.Opt) *consumer {
	t.Helper()
	c := &consumer{name: name, dialer: &severableDialer{}, owned: map[int32]bool{}, assignedGen: -1}
	update := func(cl *kgo.Client, m map[string][]int32, add bool) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if add {
			c.assigned++
			// kgo calls OnPartitionsAssigned once per generation
			// (even with nothing new), after that generation's
			// revocations and before it can join the next one.
			_, c.assignedGen = cl.GroupMetadata()
		} else if len(m[topic]) > 0 {
			c.revoked = append(c.revoked, slices.Clone(m[topic]))
		}
		for _, p := range m[topic] {
			if add {
				c.owned[p] = true
			} else {
				delete(c.owned, p)
			}
		}
	}
	base := []kgo.Opt{
		kgo.ClientID(name),
		kgo.Dialer(c.dialer.dial),
		kgo.ConsumerGroup(groupID),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(testSession),
		kgo.HeartbeatInterval(testHeartbeat),
		kgo.RebalanceTimeout(10 * time.Second),
		kgo.FetchMaxWait(200 * time.Millisecond),
		kgo.RetryTimeout(3 * time.Second),
		kgo.OnPartitionsAssigned(func(_ context.Context, cl *kgo.Client, m map[string][]int32) { update(cl, m, true) }),
		kgo.OnPartitionsRevoked(func(_ context.Context, cl *kgo.Client, m map[string][]int32) { update(cl, m, false) }),
		kgo.OnPartitionsLost(func(_ context.Context, cl *kgo.Client, m map[string][]int32) { update(cl, m, false) }),
	}
	c.cl = samsatest.NewClient(t, b.Addr, append(base, opts...)...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			fs := c.cl.PollFetches(ctx)
			if ctx.Err() != nil || fs.IsClientClosed() {
				return
			}
			fs.EachRecord(func(r *kgo.Record) {
				c.mu.Lock()
				c.records = append(c.records, r)
				c.mu.Unlock()
			})
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return c
}

// waitAssigned waits until the live consumers own every partition of the
// topic exactly once, have all joined the same generation and finished
// their assignment callbacks in it, and the group is Stable with that many
// members. Only then are the callback counts and revocations settled: a
// member's callback for the generation that completed the assignment may
// otherwise still run after the partitions look covered.
func waitAssigned(t testing.TB, b *samsatest.Broker, groupID string, partitions int, cs ...*consumer) {
	t.Helper()
	adm := b.Admin()
	samsatest.Eventually(t, 30*time.Second, fmt.Sprintf("group %s stable with %d members owning %d partitions", groupID, len(cs), partitions), func() bool {
		gen := int32(-1)
		for i, c := range cs {
			joined, assigned := c.generations()
			if joined != assigned || (i > 0 && joined != gen) {
				return false // still rebalancing, or a callback is still to run
			}
			gen = joined
		}
		seen := map[int32]int{}
		for _, c := range cs {
			owned := c.ownedPartitions()
			if len(owned) == 0 && len(cs) <= partitions {
				return false // its assignment has not reached the client yet
			}
			for _, p := range owned {
				seen[p]++
			}
		}
		if len(seen) != partitions {
			return false
		}
		for _, n := range seen {
			if n != 1 {
				return false
			}
		}
		ds, err := adm.DescribeGroups(context.Background(), groupID)
		if err != nil {
			return false
		}
		d := ds[groupID]
		return d.State == "Stable" && len(d.Members) == len(cs)
	})
}

// produceKeyed produces n records "v<i>" to topic, keys "k<i%keys>".
func produceValues(t testing.TB, b *samsatest.Broker, topic string, n, keys int, prefix string) []string {
	t.Helper()
	cl := b.Client()
	ctx := samsatest.Context(t, 20*time.Second)
	var values []string
	var recs []*kgo.Record
	for i := range n {
		v := fmt.Sprintf("%s%d", prefix, i)
		values = append(values, v)
		recs = append(recs, &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "k%d", i%keys), Value: []byte(v)})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	return values
}

// valuesOf returns the values a consumer received with the given prefix.
func valuesOf(c *consumer, prefix string) []string {
	var out []string
	for _, r := range c.received() {
		if v := string(r.Value); len(v) >= len(prefix) && v[:len(prefix)] == prefix {
			out = append(out, v)
		}
	}
	return out
}

func TestGroupsIndependentGroupsEachGetEveryRecord(t *testing.T) {
	b := startGroupBroker(t)
	createTopic(t, b, "letters", 3)
	var cs []*consumer
	for i := range 3 {
		c := startConsumer(t, b, fmt.Sprintf("own-%d", i), "letters", fmt.Sprintf("c%d", i))
		cs = append(cs, c)
		waitAssigned(t, b, fmt.Sprintf("own-%d", i), 3, c)
	}
	want := produceValues(t, b, "letters", 30, 30, "v")
	slices.Sort(want)
	for _, c := range cs {
		samsatest.Eventually(t, 20*time.Second, c.name+" receives every record", func() bool { return len(valuesOf(c, "v")) >= len(want) })
		got := valuesOf(c, "v")
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s received %v, want every record once: %v", c.name, got, want)
		}
	}
}

func TestGroupsSplitPartitionsAndDeliverEachRecordOnce(t *testing.T) {
	b := startGroupBroker(t)
	createTopic(t, b, "post.office", 5)
	var cs []*consumer
	for i := range 3 {
		cs = append(cs, startConsumer(t, b, "office", "post.office", fmt.Sprintf("c%d", i)))
	}
	waitAssigned(t, b, "office", 5, cs...)
	for _, c := range cs {
		if len(c.ownedPartitions()) == 0 {
			t.Errorf("%s owns no partition; 3 consumers on 5 partitions all work", c.name)
		}
	}
	want := produceValues(t, b, "post.office", 100, 100, "v")
	total := func() int {
		n := 0
		for _, c := range cs {
			n += len(valuesOf(c, "v"))
		}
		return n
	}
	samsatest.Eventually(t, 20*time.Second, "every record consumed", func() bool { return total() >= len(want) })
	seen := map[string]string{}
	for _, c := range cs {
		owned := c.ownedPartitions()
		for _, r := range c.received() {
			v := string(r.Value)
			if other, dup := seen[v]; dup {
				t.Errorf("%s delivered to %s and %s", v, other, c.name)
			}
			seen[v] = c.name
			if !slices.Contains(owned, r.Partition) {
				t.Errorf("%s got %s from partition %d, which it does not own (%v)", c.name, v, r.Partition, owned)
			}
		}
	}
	if len(seen) != len(want) {
		t.Errorf("%d distinct records delivered, want %d", len(seen), len(want))
	}
}

func TestGroupsMoreConsumersThanPartitionsLeaveSomeIdle(t *testing.T) {
	b := startGroupBroker(t)
	createTopic(t, b, "five", 5)
	var cs []*consumer
	for i := range 7 {
		cs = append(cs, startConsumer(t, b, "seven", "five", fmt.Sprintf("c%d", i)))
	}
	waitAssigned(t, b, "seven", 5, cs...)
	active := 0
	for _, c := range cs {
		switch n := len(c.ownedPartitions()); n {
		case 0:
		case 1:
			active++
		default:
			t.Errorf("%s owns %d partitions", c.name, n)
		}
	}
	if active != 5 {
		t.Errorf("%d consumers own partitions, want exactly 5", active)
	}
}

// failover kills (severs, without LeaveGroup) one member of a stable group
// of n consumers on n partitions and returns how long it took until a
// record produced to its partition right after was consumed by another.
func failover(t *testing.T, n int, opts ...kgo.Opt) time.Duration {
	b := startGroupBroker(t)
	topic := fmt.Sprintf("failover-%d", n)
	createTopic(t, b, topic, int32(n))
	var cs []*consumer
	for i := range n + 1 { // one idle consumer waits to take over
		cs = append(cs, startConsumer(t, b, topic, topic, fmt.Sprintf("c%d", i), append([]kgo.Opt{kgo.RequestRetries(1)}, opts...)...))
	}
	waitAssigned(t, b, topic, n, cs...)
	var victim *consumer
	var idle *consumer
	for _, c := range cs {
		switch len(c.ownedPartitions()) {
		case 0:
			idle = c
		case 1:
			victim = c
		}
	}
	if victim == nil || idle == nil {
		t.Fatal("no consumer with one partition, or none idle")
	}
	part := victim.ownedPartitions()[0]
	start := time.Now()
	victim.dialer.sever()
	pc := manualClient(b)
	produceOne(t, pc, topic, part, "", "after-kill")
	var took time.Duration
	samsatest.Eventually(t, 30*time.Second, "the killed consumer's partition is consumed again", func() bool {
		for _, c := range cs {
			if c != victim && len(valuesOf(c, "after-kill")) > 0 {
				took = time.Since(start)
				return true
			}
		}
		return false
	})
	live := slices.DeleteFunc(slices.Clone(cs), func(c *consumer) bool { return c == victim })
	waitAssigned(t, b, topic, n, live...)
	if len(idle.ownedPartitions()) != 1 {
		t.Errorf("the idle consumer owns %v after the failover, want one partition", idle.ownedPartitions())
	}
	return took
}

func TestGroupsIdleConsumerTakesOverFromKilledOne(t *testing.T) {
	took := failover(t, 5)
	t.Logf("5 partitions, 6 consumers: partition consumed again %v after its consumer was killed (session timeout %v)", took.Round(time.Millisecond), testSession)
}

// TestGroupsFailoverTime measures, for 3 and 30 members, the time from a
// member being killed until its partition is consumed again. Kafka's bound
// is the session timeout plus a rebalance.
func TestGroupsFailoverTime(t *testing.T) {
	if testing.Short() {
		t.Skip("starts up to 31 consumers")
	}
	balancers := []struct {
		name string
		opt  kgo.Opt
	}{
		{"cooperative-sticky", kgo.Balancers(kgo.CooperativeStickyBalancer())},
		{"range", kgo.Balancers(kgo.RangeBalancer())},
	}
	for _, bal := range balancers {
		for _, n := range []int{3, 30} {
			t.Run(fmt.Sprintf("%s/%d", bal.name, n), func(t *testing.T) {
				took := failover(t, n, bal.opt)
				t.Logf("%s, %d members: partition consumed again %v after its consumer was killed (session timeout %v, heartbeat %v)", bal.name, n, took.Round(time.Millisecond), testSession, testHeartbeat)
			})
		}
	}
}

func TestGroupsKeyedRecordsReachOneConsumer(t *testing.T) {
	b := startGroupBroker(t)
	createTopic(t, b, "keyed", 5)
	var cs []*consumer
	for i := range 3 {
		cs = append(cs, startConsumer(t, b, "keyed", "keyed", fmt.Sprintf("c%d", i)))
	}
	waitAssigned(t, b, "keyed", 5, cs...)
	want := produceValues(t, b, "keyed", 60, 4, "v")
	samsatest.Eventually(t, 20*time.Second, "every keyed record consumed", func() bool {
		n := 0
		for _, c := range cs {
			n += len(valuesOf(c, "v"))
		}
		return n >= len(want)
	})
	byKey := map[string]string{}
	for _, c := range cs {
		for _, r := range c.received() {
			k := string(r.Key)
			if other, ok := byKey[k]; ok && other != c.name {
				t.Errorf("key %s reached %s and %s", k, other, c.name)
			}
			byKey[k] = c.name
		}
	}
	if len(byKey) != 4 {
		t.Errorf("%d keys seen, want 4", len(byKey))
	}
}

// commitConsumer consumes n records of topic as a member of groupID,
// commits them synchronously and closes (leaving the group).
func commitConsumer(t *testing.T, addr, groupID, topic string, n int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup(groupID), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(),
		kgo.SessionTimeout(testSession), kgo.HeartbeatInterval(testHeartbeat), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := samsatest.Context(t, 30*time.Second)
	var got []string
	for len(got) < n {
		fs := cl.PollRecords(ctx, n-len(got))
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records", len(got), n)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
	return got
}

func TestGroupsResumeFromCommittedOffsetsAfterConsumerAndBrokerRestart(t *testing.T) {
	b := startGroupBroker(t)
	createTopic(t, b, "resume", 1)
	all := produceValues(t, b, "resume", 30, 1, "v")
	if got := commitConsumer(t, b.Addr, "resumers", "resume", 10); !slices.Equal(got, all[:10]) {
		t.Fatalf("first consumer got %v, want %v", got, all[:10])
	}
	if got := commitConsumer(t, b.Addr, "resumers", "resume", 10); !slices.Equal(got, all[10:20]) {
		t.Fatalf("after a consumer restart got %v, want %v", got, all[10:20])
	}
	b = b.Restart()
	offs, err := b.Admin().FetchOffsets(samsatest.Context(t, 20*time.Second), "resumers")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup("resume", 0); !ok || o.At != 20 {
		t.Fatalf("committed offset after broker restart: %+v (present %v), want 20", o, ok)
	}
	if got := commitConsumer(t, b.Addr, "resumers", "resume", 10); !slices.Equal(got, all[20:]) {
		t.Fatalf("after a broker restart got %v, want %v", got, all[20:])
	}
}

// TestGroupsStaticMemberRestartKeepsAssignmentWithoutRebalance restarts a
// static follower: a joins alone first, so it leads (a leader that rejoins
// stays leader). The follower restarts, not the leader, because kgo as a
// restarted static leader told to skip the assignment (KIP-814) computes
// a plan anyway and forces a rebalance if it differs from the assignment
// it got back. It computes from each member's metadata of its last
// JoinGroup, whose owned partitions are out of date after a cooperative
// rebalance, so it can differ, against Kafka as against us. The
// coordinator's side of a restarted leader is in internal/group's
// testdata/static.txt.
func TestGroupsStaticMemberRestartKeepsAssignmentWithoutRebalance(t *testing.T) {
	b := startGroupBroker(t)
	createTopic(t, b, "static", 4)
	long := kgo.SessionTimeout(10 * time.Second)
	a := startConsumer(t, b, "statics", "static", "a", kgo.InstanceID("a"), long)
	waitAssigned(t, b, "statics", 4, a)
	bb := startConsumer(t, b, "statics", "static", "b", kgo.InstanceID("b"), long)
	waitAssigned(t, b, "statics", 4, a, bb)
	before := bb.ownedPartitions()
	gen, _ := a.generations()
	a.mu.Lock()
	aAssigned, aRevoked := a.assigned, len(a.revoked)
	a.mu.Unlock()
	// A static member closes without leaving; its replacement takes over.
	bb.cl.Close()
	b2 := startConsumer(t, b, "statics", "static", "b2", kgo.InstanceID("b"), long)
	waitAssigned(t, b, "statics", 4, a, b2)
	if got := b2.ownedPartitions(); !slices.Equal(got, before) {
		t.Errorf("restarted static member owns %v, before %v", got, before)
	}
	if got, _ := b2.generations(); got != gen {
		t.Errorf("restarted static member joined generation %d, want the group's %d kept", got, gen)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.assigned != aAssigned || len(a.revoked) != aRevoked {
		t.Errorf("the other member saw a rebalance: assigned callbacks %d -> %d, revocations %d -> %d", aAssigned, a.assigned, aRevoked, len(a.revoked))
	}
}

func TestGroupsCooperativeStickyRebalancesIncrementally(t *testing.T) {
	b := startGroupBroker(t)
	createTopic(t, b, "coop", 6)
	coop := kgo.Balancers(kgo.CooperativeStickyBalancer())
	c0 := startConsumer(t, b, "coop", "coop", "c0", coop)
	c1 := startConsumer(t, b, "coop", "coop", "c1", coop)
	waitAssigned(t, b, "coop", 6, c0, c1)
	first := map[string][]int32{"c0": c0.ownedPartitions(), "c1": c1.ownedPartitions()}
	for _, c := range []*consumer{c0, c1} {
		c.mu.Lock()
		c.revoked = nil // c0 gave half of its partitions to c1 already
		c.mu.Unlock()
	}
	c2 := startConsumer(t, b, "coop", "coop", "c2", coop)
	// The cooperative protocol takes two rebalances: c0 and c1 first give
	// up a partition each, then c2 gets them.
	samsatest.Eventually(t, 30*time.Second, "the new member gets its partitions", func() bool { return len(c2.ownedPartitions()) == 2 })
	waitAssigned(t, b, "coop", 6, c0, c1, c2)
	for _, c := range []*consumer{c0, c1} {
		now := c.ownedPartitions()
		c.mu.Lock()
		revoked := slices.Clone(c.revoked)
		c.mu.Unlock()
		for _, r := range revoked {
			if len(r) >= len(first[c.name]) {
				t.Errorf("%s had %v revoked at once, all it owned (%v): not incremental", c.name, r, first[c.name])
			}
		}
		kept := 0
		for _, p := range now {
			if slices.Contains(first[c.name], p) {
				kept++
			}
		}
		if kept != len(now) || len(now) != 2 {
			t.Errorf("%s owns %v after the rebalance, before %v: want 2 it already owned", c.name, now, first[c.name])
		}
	}
	if got := len(c2.ownedPartitions()); got != 2 {
		t.Errorf("the new member owns %d partitions, want 2", got)
	}
	want := produceValues(t, b, "coop", 60, 60, "v")
	samsatest.Eventually(t, 20*time.Second, "records consumed after the cooperative rebalance", func() bool {
		return len(valuesOf(c0, "v"))+len(valuesOf(c1, "v"))+len(valuesOf(c2, "v")) >= len(want)
	})
}

func TestGroupsAdminDescribeListDeleteAndOffsetDelete(t *testing.T) {
	b := startGroupBroker(t)
	createTopic(t, b, "adm", 2)
	createTopic(t, b, "other", 1)
	ctx := samsatest.Context(t, 30*time.Second)
	adm := b.Admin()
	c := startConsumer(t, b, "admins", "adm", "c0")
	waitAssigned(t, b, "admins", 2, c)

	ds, err := adm.DescribeGroups(ctx, "admins", "missing")
	if err != nil {
		t.Fatal(err)
	}
	d := ds["admins"]
	if d.State != "Stable" || d.Protocol != "cooperative-sticky" || d.ProtocolType != "consumer" || len(d.Members) != 1 {
		t.Fatalf("describe: %+v", d)
	}
	m := d.Members[0]
	ca, ok := m.Assigned.AsConsumer()
	if m.ClientID != "c0" || m.ClientHost != "/127.0.0.1" || !ok || len(ca.Topics) != 1 || len(ca.Topics[0].Partitions) != 2 {
		t.Errorf("member %+v, assignment %+v", m, ca)
	}
	if ds["missing"].State != "Dead" {
		t.Errorf("missing group described as %+v, want Dead", ds["missing"])
	}

	if _, err := adm.CommitOffsets(ctx, "simple", kadm.OffsetsFromRecords(kgo.Record{Topic: "other", Partition: 0, Offset: 4})); err != nil {
		t.Fatal(err)
	}
	ls, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := ls.Sorted(); len(got) != 2 || got[0].Group != "admins" || got[0].State != "Stable" || got[1].Group != "simple" || got[1].State != "Empty" {
		t.Errorf("list groups: %+v", got)
	}
	if ls, err = adm.ListGroups(ctx, "Empty"); err != nil || len(ls) != 1 || ls["simple"].Group != "simple" {
		t.Errorf("list groups in state Empty: %+v, %v", ls, err)
	}
	if ls, err = adm.ListGroupsByType(ctx, []string{"consumer"}); err != nil || len(ls) != 0 {
		t.Errorf("list groups of type consumer (KIP-848): %+v, %v; ours are all classic", ls, err)
	}
	if ls, err = adm.ListGroupsByType(ctx, []string{"Classic"}); err != nil || len(ls) != 2 {
		t.Errorf("list groups of type classic: %+v, %v", ls, err)
	}

	// The member commits; OffsetDelete refuses topics the group consumes.
	if err := c.cl.CommitRecords(ctx, &kgo.Record{Topic: "adm", Partition: 1, Offset: 5, LeaderEpoch: -1}); err != nil { // commits 6
		t.Fatal(err)
	}
	del, err := adm.DeleteOffsets(ctx, "admins", kadm.OffsetsFromRecords(kgo.Record{Topic: "adm", Partition: 1}).TopicsSet())
	if err != nil {
		t.Fatal(err)
	}
	if err := del.Error(); !errors.Is(err, kerr.GroupSubscribedToTopic) {
		t.Errorf("delete offsets of a consumed topic: %v, want GROUP_SUBSCRIBED_TO_TOPIC", err)
	}
	dg, err := adm.DeleteGroup(ctx, "admins")
	if err == nil {
		err = dg.Err
	}
	if !errors.Is(err, kerr.NonEmptyGroup) {
		t.Errorf("delete a group with members: %v, want NON_EMPTY_GROUP", err)
	}

	// Once the member has left, offsets and the group can go.
	c.cl.Close()
	samsatest.Eventually(t, 10*time.Second, "group empty", func() bool {
		ds, err := adm.DescribeGroups(ctx, "admins")
		return err == nil && ds["admins"].State == "Empty"
	})
	offs, err := adm.FetchOffsets(ctx, "admins")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup("adm", 1); !ok || o.At != 6 {
		t.Fatalf("committed offset %+v (present %v), want 6", o, ok)
	}
	if del, err = adm.DeleteOffsets(ctx, "admins", kadm.OffsetsFromRecords(kgo.Record{Topic: "adm", Partition: 1}).TopicsSet()); err != nil || del.Error() != nil {
		t.Fatalf("delete offsets of an empty group: %v, %v", err, del.Error())
	}
	if offs, err = adm.FetchOffsets(ctx, "admins"); err != nil || len(offs) != 0 {
		t.Fatalf("offsets after OffsetDelete: %+v, %v", offs, err)
	}
	for _, g := range []string{"admins", "simple"} {
		dg, err := adm.DeleteGroup(ctx, g)
		if err == nil {
			err = dg.Err
		}
		if err != nil {
			t.Errorf("delete group %s: %v", g, err)
		}
	}
	if ls, err = adm.ListGroups(ctx); err != nil || len(ls) != 0 {
		t.Errorf("groups after deletion: %+v, %v", ls, err)
	}
	dg, err = adm.DeleteGroup(ctx, "simple")
	if err == nil {
		err = dg.Err
	}
	if !errors.Is(err, kerr.GroupIDNotFound) {
		t.Errorf("delete a deleted group: %v, want GROUP_ID_NOT_FOUND", err)
	}
}

func TestGroupsOffsetsOfDeletedTopicsAreRemoved(t *testing.T) {
	b := startGroupBroker(t)
	createTopic(t, b, "doomed", 1)
	createTopic(t, b, "kept", 1)
	ctx := samsatest.Context(t, 30*time.Second)
	adm := b.Admin()
	if _, err := adm.CommitOffsets(ctx, "g", kadm.OffsetsFromRecords(kgo.Record{Topic: "doomed", Offset: 2}, kgo.Record{Topic: "kept", Offset: 3})); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.DeleteTopics(ctx, "doomed"); err != nil {
		t.Fatal(err)
	}
	samsatest.Eventually(t, 10*time.Second, "offsets of the deleted topic removed", func() bool {
		offs, err := adm.FetchOffsets(ctx, "g")
		_, doomed := offs.Lookup("doomed", 0)
		return err == nil && !doomed
	})
	b = b.Restart()
	offs, err := b.Admin().FetchOffsets(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	_, doomed := offs.Lookup("doomed", 0)
	if o, ok := offs.Lookup("kept", 0); doomed || !ok || o.At != 4 {
		t.Errorf("after restart: %+v", offs)
	}
}

// request sends a raw request at exactly the version it names (kgo routes
// group requests to the coordinator, and would otherwise pick the highest
// version both sides support).
func request[R kmsg.Response](t *testing.T, b *samsatest.Broker, req kmsg.Request) R {
	t.Helper()
	v := kversion.Stable()
	v.SetMaxKeyVersion(req.Key(), req.GetVersion())
	cl := b.Client(kgo.MaxVersions(v))
	resp, err := cl.Request(samsatest.Context(t, 20*time.Second), req)
	if err != nil {
		t.Fatalf("%s: %v", kmsg.NameForKey(req.Key()), err)
	}
	return resp.(R)
}

func TestGroupsErrorPaths(t *testing.T) {
	b := startGroupBroker(t)
	createTopic(t, b, "errs", 1)

	join := func(version int16, memberID string, session int32) *kmsg.JoinGroupResponse {
		req := kmsg.NewPtrJoinGroupRequest()
		req.Version = version
		req.Group, req.MemberID, req.ProtocolType = "errs", memberID, "consumer"
		req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = session, 5000
		req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{0, 0, 0, 0, 0, 1, 0, 4, 'e', 'r', 'r', 's', 0, 0, 0, 0}}}
		return request[*kmsg.JoinGroupResponse](t, b, req)
	}
	if r := join(5, "", 100); r.ErrorCode != kerr.InvalidSessionTimeout.Code {
		t.Errorf("join with a 100ms session: %v, want INVALID_SESSION_TIMEOUT", kerr.ErrorForCode(r.ErrorCode))
	}
	if r := join(5, "nobody", 5000); r.ErrorCode != kerr.UnknownMemberID.Code {
		t.Errorf("join as an unknown member: %v, want UNKNOWN_MEMBER_ID", kerr.ErrorForCode(r.ErrorCode))
	}
	first := join(5, "", 5000)
	if first.ErrorCode != kerr.MemberIDRequired.Code || first.MemberID == "" {
		t.Fatalf("first join v5: %v member %q, want MEMBER_ID_REQUIRED with an ID", kerr.ErrorForCode(first.ErrorCode), first.MemberID)
	}
	joined := join(5, first.MemberID, 5000)
	if joined.ErrorCode != 0 || joined.Generation != 1 || joined.LeaderID != first.MemberID || len(joined.Members) != 1 || *joined.Protocol != "range" {
		t.Fatalf("second join: %+v", joined)
	}

	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Version = 5
	sync.Group, sync.MemberID, sync.Generation = "errs", first.MemberID, 7
	if r := request[*kmsg.SyncGroupResponse](t, b, sync); r.ErrorCode != kerr.IllegalGeneration.Code {
		t.Errorf("sync with a wrong generation: %v, want ILLEGAL_GENERATION", kerr.ErrorForCode(r.ErrorCode))
	}
	sync.Generation = 1
	sync.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{{MemberID: first.MemberID, MemberAssignment: []byte("mine")}}
	if r := request[*kmsg.SyncGroupResponse](t, b, sync); r.ErrorCode != 0 || string(r.MemberAssignment) != "mine" {
		t.Errorf("leader sync: %v %q", kerr.ErrorForCode(r.ErrorCode), r.MemberAssignment)
	}

	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Version = 4
	hb.Group, hb.MemberID, hb.Generation = "errs", "nobody", 1
	if r := request[*kmsg.HeartbeatResponse](t, b, hb); r.ErrorCode != kerr.UnknownMemberID.Code {
		t.Errorf("heartbeat of an unknown member: %v", kerr.ErrorForCode(r.ErrorCode))
	}
	hb.MemberID, hb.Generation = first.MemberID, 0
	if r := request[*kmsg.HeartbeatResponse](t, b, hb); r.ErrorCode != kerr.IllegalGeneration.Code {
		t.Errorf("heartbeat with an old generation: %v", kerr.ErrorForCode(r.ErrorCode))
	}

	commit := func(version int16, groupID, member string, gen int32) int16 {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Version = version
		req.Group, req.MemberID, req.Generation = groupID, member, gen
		p := kmsg.NewOffsetCommitRequestTopicPartition()
		p.Offset = 1
		req.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "errs", Partitions: []kmsg.OffsetCommitRequestTopicPartition{p}}}
		return request[*kmsg.OffsetCommitResponse](t, b, req).Topics[0].Partitions[0].ErrorCode
	}
	tests := []struct {
		name    string
		version int16
		group   string
		member  string
		gen     int32
		want    *kerr.Error
	}{
		{"simple commit to a group with members", 8, "errs", "", -1, kerr.UnknownMemberID},
		{"wrong generation", 8, "errs", first.MemberID, 5, kerr.IllegalGeneration},
		{"unknown member", 8, "errs", "nobody", 1, kerr.UnknownMemberID},
		{"unknown group, v8", 8, "nogroup", "m", 1, kerr.IllegalGeneration},
		{"unknown group, v9", 9, "nogroup", "m", 1, kerr.GroupIDNotFound},
		{"member of the generation", 9, "errs", first.MemberID, 1, nil},
		{"v0 simple commit", 0, "simple0", "", -1, nil},
	}
	for _, tt := range tests {
		if got := commit(tt.version, tt.group, tt.member, tt.gen); kerr.ErrorForCode(got) != tt.want && !(tt.want == nil && got == 0) {
			t.Errorf("%s: %v, want %v", tt.name, kerr.ErrorForCode(got), tt.want)
		}
	}

	// An unknown partition is refused per partition.
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version = 9
	req.Group = "simple0"
	p := kmsg.NewOffsetCommitRequestTopicPartition()
	p.Partition = 9
	req.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "errs", Partitions: []kmsg.OffsetCommitRequestTopicPartition{p}}}
	if r := request[*kmsg.OffsetCommitResponse](t, b, req); r.Topics[0].Partitions[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("commit to a missing partition: %v", kerr.ErrorForCode(r.Topics[0].Partitions[0].ErrorCode))
	}

	// OffsetFetch v1 (what librdkafka sends) and v8 (many groups).
	f1 := kmsg.NewPtrOffsetFetchRequest()
	f1.Version = 1
	f1.Group = "errs"
	f1.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: "errs", Partitions: []int32{0}}}
	if r := request[*kmsg.OffsetFetchResponse](t, b, f1); len(r.Topics) != 1 || r.Topics[0].Partitions[0].Offset != 1 {
		t.Errorf("offset fetch v1: %+v", r)
	}
	f8 := kmsg.NewPtrOffsetFetchRequest()
	f8.Version = 8
	f8.Groups = []kmsg.OffsetFetchRequestGroup{{Group: "errs", Topics: nil}, {Group: "simple0", Topics: []kmsg.OffsetFetchRequestGroupTopic{{Topic: "errs", Partitions: []int32{0}}}}}
	r8 := request[*kmsg.OffsetFetchResponse](t, b, f8)
	if len(r8.Groups) != 2 || len(r8.Groups[0].Topics) != 1 || r8.Groups[0].Topics[0].Partitions[0].Offset != 1 || r8.Groups[1].Topics[0].Partitions[0].Offset != 1 {
		t.Errorf("offset fetch v8: %+v", r8)
	}

	// LeaveGroup v3: one member leaves, an unknown one is refused.
	leave := kmsg.NewPtrLeaveGroupRequest()
	leave.Version = 3
	leave.Group = "errs"
	leave.Members = []kmsg.LeaveGroupRequestMember{{MemberID: first.MemberID}, {MemberID: "nobody"}}
	lr := request[*kmsg.LeaveGroupResponse](t, b, leave)
	if lr.ErrorCode != 0 || len(lr.Members) != 2 || lr.Members[0].ErrorCode != 0 || lr.Members[1].ErrorCode != kerr.UnknownMemberID.Code {
		t.Errorf("leave: %+v", lr)
	}
}

// TestGroupsFindCoordinatorNamesACoordinatorThatServesTheGroup asks for a
// coordinator while the first FindCoordinator is still creating
// __consumer_offsets: with 50 partitions the topic is in the metadata well
// before their logs are open and handed to the coordinator. The broker
// named must then serve the group; a NOT_COORDINATOR from it made the
// bad-guys lab's processors (1s sessions) give up joining.
func TestGroupsFindCoordinatorNamesACoordinatorThatServesTheGroup(t *testing.T) {
	b := samsatest.Start(t) // Kafka's 50 partitions
	ctx := samsatest.Context(t, 30*time.Second)
	// Each request goes on a connection of its own: one connection
	// answers in request order.
	seed := func() *kgo.Broker { return b.Client().SeedBrokers()[0] }
	find := func(key string) (int16, error) {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.CoordinatorKey, req.CoordinatorKeys = key, []string{key}
		resp, err := req.RequestWith(ctx, seed())
		if err != nil {
			return 0, err
		}
		if len(resp.Coordinators) == 1 {
			return resp.Coordinators[0].ErrorCode, nil
		}
		return resp.ErrorCode, nil
	}
	created := make(chan error, 1)
	go func() {
		_, err := find("first")
		created <- err
	}()
	poll := seed()
	for listed := false; !listed; {
		resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, poll)
		if err != nil {
			t.Fatalf("metadata: %v", err)
		}
		for _, mt := range resp.Topics {
			listed = listed || mt.Topic != nil && *mt.Topic == group.OffsetsTopic
		}
	}
	select {
	case err := <-created:
		t.Fatalf("%s was set up before it showed in the metadata (%v): nothing to race with", group.OffsetsTopic, err)
	default:
	}
	code, err := find("second")
	if err != nil || code != 0 {
		t.Fatalf("find the coordinator while %s is set up: %v, %v", group.OffsetsTopic, kerr.ErrorForCode(code), err)
	}
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Groups = []string{"second"}
	resp, err := req.RequestWith(ctx, seed())
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	// Loading is a coordinator's answer to retry; not being one is not.
	if code := resp.Groups[0].ErrorCode; code != 0 && code != kerr.CoordinatorLoadInProgress.Code {
		t.Errorf("the coordinator FindCoordinator named answers the group with %v", kerr.ErrorForCode(code))
	}
	if err := <-created; err != nil {
		t.Errorf("first FindCoordinator: %v", err)
	}
}

func TestGroupsFindCoordinatorCreatesOffsetsTopic(t *testing.T) {
	b := samsatest.Start(t) // default 50 partitions
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.Version = 4
	req.CoordinatorKeys = []string{"g1", "g2"}
	resp := request[*kmsg.FindCoordinatorResponse](t, b, req)
	if len(resp.Coordinators) != 2 {
		t.Fatalf("%d coordinators for 2 keys", len(resp.Coordinators))
	}
	for _, c := range resp.Coordinators {
		if c.ErrorCode != 0 || c.NodeID != 1 || fmt.Sprintf("%s:%d", c.Host, c.Port) != b.Addr {
			t.Errorf("coordinator %+v, want node 1 at %s", c, b.Addr)
		}
	}
	v0 := kmsg.NewPtrFindCoordinatorRequest()
	v0.Version = 0
	v0.CoordinatorKey = "g1"
	if r := request[*kmsg.FindCoordinatorResponse](t, b, v0); r.ErrorCode != 0 || r.NodeID != 1 {
		t.Errorf("v0: %+v", r)
	}
	txn := kmsg.NewPtrFindCoordinatorRequest()
	txn.Version = 3
	txn.CoordinatorKey, txn.CoordinatorType = "t1", 1
	if r := request[*kmsg.FindCoordinatorResponse](t, b, txn); r.ErrorCode != kerr.CoordinatorNotAvailable.Code || r.NodeID != -1 {
		t.Errorf("transaction coordinator: %+v", r)
	}

	ctx := samsatest.Context(t, 20*time.Second)
	adm := b.Admin()
	md, err := adm.Metadata(ctx, group.OffsetsTopic)
	if err != nil {
		t.Fatal(err)
	}
	td := md.Topics[group.OffsetsTopic]
	if td.Err != nil || !td.IsInternal || len(td.Partitions) != 50 {
		t.Fatalf("%s: internal %v, %d partitions, %v", group.OffsetsTopic, td.IsInternal, len(td.Partitions), td.Err)
	}
	cfgs, err := adm.DescribeTopicConfigs(ctx, group.OffsetsTopic)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := cfgs.On(group.OffsetsTopic, nil); err != nil || configValue(c, "cleanup.policy") != "compact" {
		t.Errorf("cleanup.policy of %s: %q, %v", group.OffsetsTopic, configValue(c, "cleanup.policy"), err)
	}

	// A commit lands on the group's partition, Kafka's abs(hashCode) % 50.
	if _, err := adm.CommitOffsets(ctx, "Hello World", kadm.OffsetsFromRecords(kgo.Record{Topic: group.OffsetsTopic, Partition: 0, Offset: 1})); err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx, group.OffsetsTopic)
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		if want := int64(0); o.Partition == 26 {
			want = 1
			if o.Offset != want {
				t.Errorf("partition 26 of %s ends at %d, want the commit there", group.OffsetsTopic, o.Offset)
			}
		} else if o.Offset != want {
			t.Errorf("partition %d of %s ends at %d, want 0", o.Partition, group.OffsetsTopic, o.Offset)
		}
	})

	// Users cannot produce to it.
	pr := kmsg.NewPtrProduceRequest()
	pr.Version = 9
	pr.Acks, pr.TimeoutMillis = -1, 5000
	pr.Topics = []kmsg.ProduceRequestTopic{{Topic: group.OffsetsTopic, Partitions: []kmsg.ProduceRequestTopicPartition{{Partition: 0, Records: oneRecordBatch()}}}}
	presp := request[*kmsg.ProduceResponse](t, b, pr)
	pp := presp.Topics[0].Partitions[0]
	if pp.ErrorCode != kerr.InvalidTopicException.Code || pp.ErrorMessage == nil || *pp.ErrorMessage != "Cannot append to internal topic __consumer_offsets" {
		t.Errorf("produce to %s: %v %v", group.OffsetsTopic, kerr.ErrorForCode(pp.ErrorCode), pp.ErrorMessage)
	}
}

func configValue(c kadm.ResourceConfig, name string) string {
	for _, cc := range c.Configs {
		if cc.Key == name {
			return cc.MaybeValue()
		}
	}
	return ""
}

// oneRecordBatch is a valid uncompressed batch holding one record.
func oneRecordBatch() []byte {
	rec := kmsg.Record{Key: []byte("k"), Value: []byte("v")}
	body := rec.AppendTo(nil)
	rec.Length = int32(len(body) - 1)
	body = rec.AppendTo(nil)
	b := kmsg.RecordBatch{PartitionLeaderEpoch: -1, Magic: 2, ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: 1, Records: body}
	raw := b.AppendTo(nil)
	b.Length = int32(len(raw) - 12)
	raw = b.AppendTo(nil)
	b.CRC = int32(crc32c(raw[21:]))
	return b.AppendTo(nil)
}

func TestGroupsCommitsAreDurableAcrossRestartWithManyGroups(t *testing.T) {
	b := startGroupBroker(t)
	createTopic(t, b, "many", 3)
	ctx := samsatest.Context(t, 30*time.Second)
	adm := b.Admin()
	want := map[string]int64{}
	for i := range 20 {
		g := fmt.Sprintf("g%02d", i)
		want[g] = int64(i * 10)
		for round := range 3 { // later commits replace earlier ones
			off := want[g] - int64(2-round)
			if _, err := adm.CommitOffsets(ctx, g, kadm.OffsetsFromRecords(kgo.Record{Topic: "many", Partition: int32(i % 3), Offset: off})); err != nil {
				t.Fatal(err)
			}
		}
	}
	b = b.Restart()
	adm = b.Admin()
	var groups []string
	for g := range want {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for i, g := range groups {
		offs, err := adm.FetchOffsets(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		if o, ok := offs.Lookup("many", int32(i%3)); !ok || o.At != want[g]+1 {
			t.Errorf("%s after restart: %+v (present %v), want %d", g, o, ok, want[g]+1)
		}
	}
}

// BenchmarkGroupCommit measures commits/s from 10 members of one group,
// each committing synchronously in turn, with each flush policy (durable:
// fsync with group commit).
func BenchmarkGroupCommit(b *testing.B) {
	for _, flush := range []storage.FlushPolicy{storage.FlushDurable, storage.FlushOS} {
		b.Run(flush.String(), func(b *testing.B) {
			benchmarkGroupCommit(b, func(c *broker.Config) { c.Flush = flush })
		})
	}
}

func benchmarkGroupCommit(b *testing.B, opt samsatest.Option) {
	br := startGroupBroker(b, opt)
	createTopic(b, br, "bench-commit", 10)
	var cs []*consumer
	for i := range 10 {
		cs = append(cs, startConsumer(b, br, "bench", "bench-commit", fmt.Sprintf("c%d", i), kgo.DisableAutoCommit(), kgo.SessionTimeout(10*time.Second)))
	}
	waitAssigned(b, br, "bench", 10, cs...)
	ctx := samsatest.Context(b, 5*time.Minute)
	var round int64
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		round++
		var wg sync.WaitGroup
		for _, c := range cs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := c.ownedPartitions()[0]
				err := c.cl.CommitRecords(ctx, &kgo.Record{Topic: "bench-commit", Partition: p, Offset: round, LeaderEpoch: -1})
				if err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(10*b.N)/time.Since(start).Seconds(), "commits/s")
}
