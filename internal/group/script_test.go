package group

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/storage"
)

var update = flag.Bool("update", false, "rewrite testdata/*.txt with the actual output")

// TestCoordinatorScripts runs the scripts in testdata/*.txt against a
// coordinator with a manual clock and a real log. A script is blocks of
//
//	# comments
//	command NAME? key=value ...
//	----
//	output
//
// separated by blank lines. Requests that wait (join, sync, commit,
// delete-offsets, delete-groups) take a NAME; each block prints the named
// requests answered during it, then the state of the group it names.
// Commits and deletions wait for nothing but their writes, so each block
// waits for their answers once its writes are durable; joins and syncs
// may stay waiting across blocks.
// After every block the group invariants are checked. Commands:
//
//	setup initial-delay= min-session= max-session= max-size= retention= check-interval=
//	join NAME group= [member=] [instance=] [client=c] [session=10s] [rebalance=30s]
//	     [type=consumer] [protocols=name:meta,...] [v=9]
//	sync NAME group= member= gen= [instance=] [type=] [protocol=] [assign=member:bytes,...]
//	heartbeat group= member= gen= [instance=]
//	leave group= [members=id,...] [instance=]
//	commit NAME group= [member=] [gen=-1] [instance=] offsets=topic/partition=offset,... [meta=] [retention=] [v=9]
//	fetch group= [parts=topic/partition,...]
//	delete-offsets NAME group= parts=topic/partition,...
//	delete-groups NAME groups=a,b
//	describe group=
//	list
//	advance DURATION
//	topic-deleted TOPIC
//	restart
//	state group=
func TestCoordinatorScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scripts in testdata")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			t.Parallel()
			runScript(t, file)
		})
	}
}

type scriptBlock struct {
	comments []string
	cmd      string
	want     string
	line     int
}

func parseScript(t *testing.T, file string) []scriptBlock {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var blocks []scriptBlock
	var comments []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.TrimSpace(l) == "":
			continue
		case strings.HasPrefix(l, "#"):
			comments = append(comments, l)
			continue
		}
		b := scriptBlock{line: i + 1, comments: comments, cmd: l}
		comments = nil
		if i+1 >= len(lines) || lines[i+1] != "----" {
			t.Fatalf("%s:%d: command not followed by ----", file, i+1)
		}
		i += 2
		var want []string
		for ; i < len(lines) && lines[i] != ""; i++ {
			want = append(want, lines[i])
		}
		b.want = strings.Join(want, "\n")
		blocks = append(blocks, b)
	}
	return blocks
}

func runScript(t *testing.T, file string) {
	blocks := parseScript(t, file)
	env := &scriptEnv{t: t, dir: t.TempDir(), clock: newManualClock(), reqs: map[string]scriptReq{}, gone: map[string]bool{}}
	t.Cleanup(env.close)
	var out strings.Builder
	failed := false
	for i, b := range blocks {
		got := strings.TrimRight(env.run(b.cmd), "\n")
		if got != b.want && !*update {
			t.Errorf("%s:%d: %s\ngot:\n%s\nwant:\n%s", file, b.line, b.cmd, got, b.want)
			failed = true
		}
		if i > 0 {
			out.WriteString("\n")
		}
		for _, c := range b.comments {
			out.WriteString(c + "\n")
		}
		out.WriteString(b.cmd + "\n----\n")
		if got != "" {
			out.WriteString(got + "\n")
		}
	}
	if *update {
		if err := os.WriteFile(file, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	} else if failed {
		t.Logf("rerun with -update to rewrite %s", file)
	}
}

// scriptEnv is one script's coordinator, log and pending requests.
type scriptEnv struct {
	t     *testing.T
	dir   string
	clock *manualClock
	cfg   Config
	mgr   *storage.Manager
	log   *storage.Log
	c     *Coordinator
	seq   int
	reqs  map[string]scriptReq // named requests still waiting
	gone  map[string]bool      // topics deleted
}

// scriptReq is a named request whose answer has not been printed yet.
type scriptReq struct {
	// poll returns the answer if it has arrived; with a non-nil wait it
	// waits for it until wait fires.
	poll func(wait <-chan time.Time) (string, bool)
	// durable: the request waits only for its writes to be durable, so
	// its answer is owed once settle returns. It may still be on its
	// way then: DeleteGroups answers from a goroutine of its own after
	// the write loop has released the write.
	durable bool
}

// recv takes a value from ch if one is there, else waits for one until
// wait fires (not at all for a nil wait).
func recv[T any](ch <-chan T, wait <-chan time.Time) (T, bool) {
	select {
	case v := <-ch:
		return v, true
	default:
	}
	var zero T
	if wait == nil {
		return zero, false
	}
	select {
	case v := <-ch:
		return v, true
	case <-wait:
		return zero, false
	}
}

func (e *scriptEnv) open() {
	t := e.t
	if e.c != nil {
		return
	}
	if e.cfg.Logger == nil {
		e.cfg = DefaultConfig()
		e.cfg.InitialRebalanceDelay = 3 * time.Second
		e.cfg.MinSessionTimeout = time.Second
		e.cfg.MaxSessionTimeout = time.Hour
	}
	e.cfg.Clock = e.clock
	e.cfg.NewMemberSuffix = func() string { e.seq++; return strconv.Itoa(e.seq) }
	e.cfg.TopicExists = func(topic string) bool { return !e.gone[topic] }
	mgr, err := storage.OpenManager(storage.ManagerConfig{Dir: e.dir, Flush: storage.FlushDurable})
	if err != nil {
		t.Fatal(err)
	}
	l, err := mgr.OpenLog(OffsetsTopic, 0, storage.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.mgr, e.log, e.c = mgr, l, c
	c.Load(Partition{Log: l, Count: 1})
	deadline := time.Now().Add(10 * time.Second)
	for !c.Loaded()[0] {
		if time.Now().After(deadline) {
			t.Fatal("partition not loaded after 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

func (e *scriptEnv) close() {
	if e.c == nil {
		return
	}
	if err := e.c.Close(); err != nil {
		e.t.Errorf("close coordinator: %v", err)
	}
	if err := e.mgr.Close(); err != nil {
		e.t.Errorf("close storage: %v", err)
	}
	e.c = nil
}

// settle waits until no write awaits durability: every answer that
// depends only on the disk is then owed (answered waits for those).
func (e *scriptEnv) settle() {
	deadline := time.Now().Add(10 * time.Second)
	for len(e.c.slots) > 0 {
		if time.Now().After(deadline) {
			e.t.Fatal("writes still pending after 10s")
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func (e *scriptEnv) run(line string) string {
	fields := strings.Fields(line)
	cmd, args := fields[0], map[string]string{}
	name := ""
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			if name != "" {
				e.t.Fatalf("%q: two names", line)
			}
			name = f
			continue
		}
		args[k] = v
	}
	if cmd == "setup" {
		e.setup(args)
		return ""
	}
	e.open()
	var out []string
	switch cmd {
	case "join":
		e.add(name, scriptReq{poll: e.join(args)})
	case "sync":
		e.add(name, scriptReq{poll: e.sync(args)})
	case "heartbeat":
		err := e.c.Heartbeat(HeartbeatRequest{Group: args["group"], MemberID: args["member"], InstanceID: optString(args, "instance"), Generation: int32(atoi(args["gen"]))})
		out = append(out, "heartbeat: "+errName(err))
	case "leave":
		var ms []LeavingMember
		for _, id := range splitList(args["members"]) {
			ms = append(ms, LeavingMember{MemberID: id})
		}
		if inst := optString(args, "instance"); inst != nil {
			ms = append(ms, LeavingMember{InstanceID: inst})
		}
		errs, err := e.c.Leave(args["group"], ms)
		s := "leave: " + errName(err)
		for i, m := range ms {
			s += fmt.Sprintf(" %s=%s", cond(m.MemberID != "", m.MemberID, "instance:"+deref(m.InstanceID)), errName(errs[i]))
		}
		out = append(out, s)
	case "commit":
		e.add(name, scriptReq{poll: e.commit(args), durable: true})
	case "fetch":
		var parts []TopicPartition
		if p, ok := args["parts"]; ok {
			parts = parseParts(p)
		}
		offs, err := e.c.FetchOffsets(args["group"], parts)
		s := "fetch: " + errName(err)
		for _, o := range offs {
			s += fmt.Sprintf(" %s/%d=%d", o.Topic, o.Partition, o.Offset)
			if o.Metadata != "" {
				s += "(" + o.Metadata + ")"
			}
		}
		out = append(out, s)
	case "delete-offsets":
		parts := parseParts(args["parts"])
		ch := e.c.DeleteOffsets(args["group"], parts)
		e.add(name, scriptReq{durable: true, poll: func(wait <-chan time.Time) (string, bool) {
			r, ok := recv(ch, wait)
			if !ok {
				return "", false
			}
			if r.Err != nil {
				return errName(r.Err), true
			}
			s := "ok"
			for i, tp := range parts {
				s += fmt.Sprintf(" %s/%d=%s", tp.Topic, tp.Partition, errName(r.PartitionErrs[i]))
			}
			return s, true
		}})
	case "delete-groups":
		groups := splitList(args["groups"])
		ch := e.c.DeleteGroups(groups)
		e.add(name, scriptReq{durable: true, poll: func(wait <-chan time.Time) (string, bool) {
			errs, ok := recv(ch, wait)
			if !ok {
				return "", false
			}
			s := "ok"
			for i, g := range groups {
				s += fmt.Sprintf(" %s=%s", g, errName(errs[i]))
			}
			return s, true
		}})
	case "describe":
		d, err := e.c.Describe(args["group"])
		s := fmt.Sprintf("describe: %s state=%s type=%s protocol=%s", errName(err), d.State, d.ProtocolType, d.Protocol)
		for _, m := range d.Members {
			s += fmt.Sprintf("\n  %s instance=%s client=%s host=%s metadata=%s assignment=%s", m.MemberID, deref(m.InstanceID), m.ClientID, m.ClientHost, fmtMetadata(m.Metadata), m.Assignment)
		}
		out = append(out, s)
	case "list":
		ls, err := e.c.ListGroups()
		s := "list: " + errName(err)
		for _, l := range ls {
			s += fmt.Sprintf(" %s(%s,%s)", l.Group, l.ProtocolType, l.State)
		}
		out = append(out, s)
	case "advance":
		e.clock.Advance(dur(name))
	case "topic-deleted":
		e.gone[name] = true
		e.c.DeleteTopicOffsets(name)
	case "restart":
		e.settle()
		e.close()
		e.open()
		out = append(out, "restarted")
	case "state":
	default:
		e.t.Fatalf("unknown command %q", cmd)
	}
	e.settle()
	out = append(out, e.answered()...)
	if g := args["group"]; g != "" {
		out = append(out, e.state(g))
	}
	e.checkInvariants()
	return strings.Join(out, "\n")
}

func (e *scriptEnv) setup(args map[string]string) {
	if e.c != nil {
		e.t.Fatal("setup after the coordinator started")
	}
	e.cfg = DefaultConfig()
	e.cfg.MinSessionTimeout = time.Second
	e.cfg.MaxSessionTimeout = time.Hour
	e.cfg.InitialRebalanceDelay = 3 * time.Second
	for k, v := range args {
		switch k {
		case "initial-delay":
			e.cfg.InitialRebalanceDelay = dur(v)
		case "min-session":
			e.cfg.MinSessionTimeout = dur(v)
		case "max-session":
			e.cfg.MaxSessionTimeout = dur(v)
		case "max-size":
			e.cfg.MaxGroupSize = atoi(v)
		case "retention":
			e.cfg.OffsetsRetention = dur(v)
		case "check-interval":
			e.cfg.OffsetsRetentionCheckInterval = dur(v)
		case "max-metadata":
			e.cfg.MaxMetadataBytes = atoi(v)
		default:
			e.t.Fatalf("setup: unknown key %q", k)
		}
	}
}

func (e *scriptEnv) add(name string, r scriptReq) {
	if name == "" {
		e.t.Fatal("request needs a NAME")
	}
	e.reqs[name] = r
}

// answered polls the named requests after settle: answered ones are
// printed and forgotten. Durable-only requests are owed an answer by
// now, so it waits for theirs.
func (e *scriptEnv) answered() []string {
	var names []string
	for n := range e.reqs {
		names = append(names, n)
	}
	sort.Strings(names)
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	var out []string
	for _, n := range names {
		r := e.reqs[n]
		var wait <-chan time.Time
		if r.durable {
			wait = deadline.C
		}
		s, ok := r.poll(wait)
		if !ok && r.durable {
			e.t.Fatalf("%s: no answer 10s after its writes were durable", n)
		}
		if ok {
			out = append(out, n+": "+s)
			delete(e.reqs, n)
		}
	}
	return out
}

func (e *scriptEnv) join(args map[string]string) func(wait <-chan time.Time) (string, bool) {
	v := atoi(or(args["v"], "9"))
	req := JoinRequest{
		Group:                  args["group"],
		MemberID:               args["member"],
		InstanceID:             optString(args, "instance"),
		ClientID:               or(args["client"], "c"),
		ClientHost:             "/127.0.0.1",
		ProtocolType:           or(args["type"], "consumer"),
		SessionTimeout:         dur(or(args["session"], "10s")),
		RebalanceTimeout:       dur(or(args["rebalance"], "30s")),
		RequireKnownMemberID:   v >= 4,
		SupportsSkipAssignment: v >= 9,
	}
	for _, p := range splitList(or(args["protocols"], "range:x")) {
		n, md, _ := strings.Cut(p, ":")
		req.Protocols = append(req.Protocols, Protocol{Name: n, Metadata: scriptMetadata(md)})
	}
	ch := e.c.Join(req)
	return func(wait <-chan time.Time) (string, bool) {
		r, ok := recv(ch, wait)
		if !ok {
			return "", false
		}
		if r.Err != nil {
			return fmt.Sprintf("%s member=%s", errName(r.Err), r.MemberID), true
		}
		s := fmt.Sprintf("ok member=%s gen=%d leader=%s protocol=%s", r.MemberID, r.Generation, r.LeaderID, deref(r.Protocol))
		if r.SkipAssignment {
			s += " skip-assignment"
		}
		if r.Members != nil {
			var ms []string
			for _, m := range r.Members {
				ms = append(ms, fmt.Sprintf("%s:%s", m.MemberID, fmtMetadata(m.Metadata)))
			}
			s += " members=[" + strings.Join(ms, " ") + "]"
		}
		return s, true
	}
}

func (e *scriptEnv) sync(args map[string]string) func(wait <-chan time.Time) (string, bool) {
	req := SyncRequest{Group: args["group"], MemberID: args["member"], InstanceID: optString(args, "instance"), Generation: int32(atoi(args["gen"])), ProtocolType: optString(args, "type"), Protocol: optString(args, "protocol")}
	if a, ok := args["assign"]; ok {
		req.Assignments = map[string][]byte{}
		for _, p := range splitList(a) {
			id, b, _ := strings.Cut(p, ":")
			req.Assignments[id] = []byte(b)
		}
	}
	ch := e.c.Sync(req)
	return func(wait <-chan time.Time) (string, bool) {
		r, ok := recv(ch, wait)
		if !ok {
			return "", false
		}
		if r.Err != nil {
			return errName(r.Err), true
		}
		return fmt.Sprintf("ok assignment=%s protocol=%s", r.Assignment, deref(r.Protocol)), true
	}
}

func (e *scriptEnv) commit(args map[string]string) func(wait <-chan time.Time) (string, bool) {
	req := CommitRequest{
		Group:              args["group"],
		MemberID:           args["member"],
		InstanceID:         optString(args, "instance"),
		Generation:         int32(atoi(or(args["gen"], "-1"))),
		GroupNotFoundError: atoi(or(args["v"], "9")) >= 9,
	}
	if r, ok := args["retention"]; ok {
		req.Retention = dur(r)
	}
	for _, p := range splitList(args["offsets"]) {
		tp, off, _ := strings.Cut(p, "=")
		req.Offsets = append(req.Offsets, OffsetCommit{TopicPartition: parseParts(tp)[0], Offset: int64(atoi(off)), LeaderEpoch: -1, Metadata: args["meta"]})
	}
	ch := e.c.CommitOffsets(req)
	return func(wait <-chan time.Time) (string, bool) {
		errs, ok := recv(ch, wait)
		if !ok {
			return "", false
		}
		s := "commit"
		for i, o := range req.Offsets {
			s += fmt.Sprintf(" %s/%d=%s", o.Topic, o.Partition, errName(errs[i]))
		}
		return s, true
	}
}

// state prints a group's state as the coordinator holds it.
func (e *scriptEnv) state(id string) string {
	s, err := e.c.shardFor(id)
	if err != nil {
		return "state: " + errName(err)
	}
	s.mu.Lock()
	g := s.groups[id]
	s.mu.Unlock()
	if g == nil {
		return "state: no group " + id
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var ms []string
	for _, m := range g.memberList() {
		x := m.id
		if m.instanceID != nil {
			x += "(" + *m.instanceID + ")"
		}
		if m.join != nil {
			x += "{join}"
		}
		if m.sync != nil {
			x += "{sync}"
		}
		if len(m.assignment) > 0 {
			x += "=" + string(m.assignment)
		}
		ms = append(ms, x)
	}
	var pend []string
	for id := range g.pending {
		pend = append(pend, id)
	}
	sort.Strings(pend)
	var ps []string
	for id := range g.pendingSync {
		ps = append(ps, id)
	}
	sort.Strings(ps)
	var offs []string
	for tp, o := range g.offsets {
		offs = append(offs, fmt.Sprintf("%s/%d=%d", tp.Topic, tp.Partition, o.offset))
	}
	sort.Strings(offs)
	out := fmt.Sprintf("%s: %s gen=%d", id, g.state, g.generation)
	if g.protocol != "" {
		out += " protocol=" + g.protocol
	}
	if g.leader != "" {
		out += " leader=" + g.leader
	}
	out += " members=[" + strings.Join(ms, " ") + "]"
	if len(pend) > 0 {
		out += " pending=[" + strings.Join(pend, " ") + "]"
	}
	if len(ps) > 0 {
		out += " pending-sync=[" + strings.Join(ps, " ") + "]"
	}
	if len(offs) > 0 {
		out += " offsets=[" + strings.Join(offs, " ") + "]"
	}
	return out
}

// checkInvariants checks every group's documented invariants.
func (e *scriptEnv) checkInvariants() {
	for _, s := range e.c.loadedShards() {
		groups, err := s.groupList()
		if err != nil {
			continue
		}
		for _, g := range groups {
			g.mu.Lock()
			if err := g.checkLocked(); err != nil {
				e.t.Errorf("group %s: invariant broken: %v", g.id, err)
			}
			g.mu.Unlock()
		}
	}
}

// checkLocked verifies the invariants written on the group type.
func (g *group) checkLocked() error {
	awaiting := 0
	supported := map[string]int{}
	for id, m := range g.members {
		if m.id != id {
			return fmt.Errorf("member %s filed under %s", m.id, id)
		}
		if m.join != nil {
			awaiting++
		}
		for _, p := range m.protocols {
			supported[p.Name]++
		}
		if m.instanceID != nil && g.static[*m.instanceID] != id {
			return fmt.Errorf("static member %s not mapped from %s", id, *m.instanceID)
		}
	}
	switch {
	case awaiting != g.awaitingJoin:
		return fmt.Errorf("awaitingJoin %d, members waiting %d", g.awaitingJoin, awaiting)
	case len(g.order) != len(g.members):
		return fmt.Errorf("order has %d ids, members %d", len(g.order), len(g.members))
	case (g.leader == "") != (len(g.members) == 0):
		return fmt.Errorf("leader %q with %d members", g.leader, len(g.members))
	case g.leader != "" && g.members[g.leader] == nil:
		return fmt.Errorf("leader %s is not a member", g.leader)
	case len(g.static) > len(g.members):
		return fmt.Errorf("%d static ids for %d members", len(g.static), len(g.members))
	case !mapsEqual(supported, g.supported):
		return fmt.Errorf("supported %v, members support %v", g.supported, supported)
	case g.state == StateEmpty && len(g.members) > 0:
		return fmt.Errorf("Empty with %d members", len(g.members))
	case (g.state == StateStable || g.state == StateCompletingRebalance) && len(g.members) == 0:
		return fmt.Errorf("%s with no members", g.state)
	}
	for _, id := range g.order {
		if g.members[id] == nil {
			return fmt.Errorf("order names %s, not a member", id)
		}
	}
	return nil
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// errName is the Kafka name of our error, "ok" for nil.
func errName(err error) string {
	if err == nil {
		return "ok"
	}
	names := []struct {
		err  error
		name string
	}{
		{ErrNotCoordinator, "NOT_COORDINATOR"},
		{ErrCoordinatorLoadInProgress, "COORDINATOR_LOAD_IN_PROGRESS"},
		{ErrCoordinatorNotAvailable, "COORDINATOR_NOT_AVAILABLE"},
		{ErrInvalidGroupID, "INVALID_GROUP_ID"},
		{ErrUnknownMemberID, "UNKNOWN_MEMBER_ID"},
		{ErrIllegalGeneration, "ILLEGAL_GENERATION"},
		{ErrRebalanceInProgress, "REBALANCE_IN_PROGRESS"},
		{ErrInvalidSessionTimeout, "INVALID_SESSION_TIMEOUT"},
		{ErrInconsistentGroupProtocol, "INCONSISTENT_GROUP_PROTOCOL"},
		{ErrMemberIDRequired, "MEMBER_ID_REQUIRED"},
		{ErrFencedInstanceID, "FENCED_INSTANCE_ID"},
		{ErrGroupMaxSizeReached, "GROUP_MAX_SIZE_REACHED"},
		{ErrGroupIDNotFound, "GROUP_ID_NOT_FOUND"},
		{ErrNonEmptyGroup, "NON_EMPTY_GROUP"},
		{ErrGroupSubscribedToTopic, "GROUP_SUBSCRIBED_TO_TOPIC"},
		{ErrOffsetMetadataTooLarge, "OFFSET_METADATA_TOO_LARGE"},
		{ErrInvalidCommitOffsetSize, "INVALID_COMMIT_OFFSET_SIZE"},
		{ErrClosed, "CLOSED"},
	}
	for _, n := range names {
		if errors.Is(err, n.err) {
			return n.name
		}
	}
	return "error(" + err.Error() + ")"
}

// scriptMetadata is member metadata: "topics=a+b" is a consumer
// subscription to topics a and b, anything else its own bytes.
func scriptMetadata(s string) []byte {
	topics, ok := strings.CutPrefix(s, "topics=")
	if !ok {
		return []byte(s)
	}
	md := kmsg.NewConsumerMemberMetadata()
	md.Topics = strings.Split(topics, "+")
	return md.AppendTo(nil)
}

// fmtMetadata prints metadata as scriptMetadata reads it.
func fmtMetadata(b []byte) string {
	var md kmsg.ConsumerMemberMetadata
	if len(b) > 2 && md.ReadFrom(b) == nil {
		return "topics=" + strings.Join(md.Topics, "+")
	}
	return string(b)
}

func parseParts(s string) []TopicPartition {
	var out []TopicPartition
	for _, p := range splitList(s) {
		i := strings.LastIndex(p, "/")
		out = append(out, TopicPartition{Topic: p[:i], Partition: int32(atoi(p[i+1:]))})
	}
	return out
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return slices.DeleteFunc(strings.Split(s, ","), func(x string) bool { return x == "" })
}

func optString(args map[string]string, k string) *string {
	if v, ok := args[k]; ok {
		return &v
	}
	return nil
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(fmt.Sprintf("not a number: %q", s))
	}
	return n
}

func dur(s string) time.Duration {
	if strings.HasSuffix(s, "d") {
		return time.Duration(atoi(strings.TrimSuffix(s, "d"))) * 24 * time.Hour
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(fmt.Sprintf("not a duration: %q", s))
	}
	return d
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func cond(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
