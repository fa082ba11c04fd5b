package meta

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.txt with the actual output")

// TestFSMScripts runs the scripts in testdata/*.txt through the pure FSM.
// A script is blocks of
//
//	# comments
//	command key=value ...
//	----
//	result line
//	state dump
//
// separated by blank lines. Each command is encoded and decoded exactly as
// raft carries it. After every command the test also checks that the old
// state was not modified, that the new one keeps its invariants, and that
// it survives a snapshot round trip unchanged.
func TestFSMScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scripts in testdata")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runScript(t, file)
		})
	}
}

// scriptBlock is one command of a script with the comments above it.
type scriptBlock struct {
	line     int
	comments []string
	cmd      string
	want     string
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
	s := emptyState()
	var out bytes.Buffer
	failed := false
	for i, b := range blocks {
		before := dumpState(s)
		next, res := runCommand(t, s, b.cmd)
		if got := dumpState(s); got != before {
			t.Errorf("%s:%d: %s modified the previous state:\n%s\nwas\n%s", file, b.line, b.cmd, got, before)
		}
		checkInvariants(t, next)
		checkSnapshotRoundTrip(t, next)
		s = next
		got := res + "\n" + dumpState(s)
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
		fmt.Fprintf(&out, "%s\n----\n%s\n", b.cmd, got)
	}
	if *update {
		if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	} else if failed {
		t.Log("run with -update to rewrite the scripts, then review the diff")
	}
}

// runCommand parses one script command, applies it, and returns the new
// state and the result line.
func runCommand(t *testing.T, s *State, line string) (*State, string) {
	t.Helper()
	name, rest, _ := strings.Cut(line, " ")
	var data []byte
	if name == "raw" {
		data = []byte(rest)
	} else {
		c, err := scriptCommand(name, parseArgs(rest))
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		data = c.encode()
	}
	c, err := decodeCommand(data)
	if err != nil {
		return s, "error: " + err.Error()
	}
	next, res := apply(s, c)
	if res.err != nil {
		if next != s {
			t.Errorf("%s: a rejected command changed the state", line)
		}
		return next, "error " + sentinelName(res.err) + ": " + res.err.Error()
	}
	if c.Op == opAllocateProducerIDs {
		return next, fmt.Sprintf("ok first=%d", res.value)
	}
	return next, "ok"
}

// scriptArgs are a command's key=value pairs and bare flags, in order.
type scriptArgs struct {
	vals  map[string]string
	flags map[string]bool
	set   map[string]string // from set.KEY=VALUE
}

func parseArgs(s string) scriptArgs {
	a := scriptArgs{vals: map[string]string{}, flags: map[string]bool{}}
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, "=")
		switch {
		case !ok:
			a.flags[k] = true
		case strings.HasPrefix(k, "set."):
			if a.set == nil {
				a.set = map[string]string{}
			}
			a.set[strings.TrimPrefix(k, "set.")] = v
		default:
			a.vals[k] = v
		}
	}
	return a
}

func (a scriptArgs) int(k string, def int64) (int64, error) {
	v, ok := a.vals[k]
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s=%s: %v", k, v, err)
	}
	return n, nil
}

func (a scriptArgs) ints(k string) ([]int32, error) {
	v, ok := a.vals[k]
	if !ok || v == "" {
		return nil, nil
	}
	var out []int32
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: %v", k, v, err)
		}
		out = append(out, int32(n))
	}
	return out, nil
}

func (a scriptArgs) list(k string) []string {
	if v := a.vals[k]; v != "" {
		return strings.Split(v, ",")
	}
	return nil
}

// scriptID turns a small number into a topic ID, so scripts stay readable.
func scriptID(n int64) [16]byte {
	var id [16]byte
	binary.BigEndian.PutUint64(id[8:], uint64(n))
	return id
}

// scriptPartitions builds count partitions numbered from start, each on
// replicas with the first replica leading (or leader=, if given).
func scriptPartitions(a scriptArgs, start, count int64) ([]Partition, error) {
	replicas, err := a.ints("replicas")
	if err != nil {
		return nil, err
	}
	leader := int64(NoLeader)
	if len(replicas) > 0 {
		leader = int64(replicas[0])
	}
	if leader, err = a.int("leader", leader); err != nil {
		return nil, err
	}
	ps := make([]Partition, count)
	for i := range ps {
		ps[i] = Partition{ID: int32(start) + int32(i), Leader: int32(leader), Replicas: replicas, ISR: replicas}
	}
	return ps, nil
}

func scriptCommand(name string, a scriptArgs) (*command, error) {
	switch name {
	case "set-cluster-id":
		return &command{Op: opSetClusterID, ClusterID: a.vals["id"]}, nil
	case "set-controller":
		n, err := a.int("node", 0)
		return &command{Op: opSetController, NodeID: int32(n)}, err
	case "register-broker":
		id, err := a.int("id", 0)
		if err != nil {
			return nil, err
		}
		port, err := a.int("port", 9092)
		if err != nil {
			return nil, err
		}
		b := &Broker{ID: int32(id), Host: a.vals["host"], Port: int32(port), Rack: a.vals["rack"]}
		return &command{Op: opRegisterBroker, Broker: b}, nil
	case "create-topic":
		id, err := a.int("id", 0)
		if err != nil {
			return nil, err
		}
		n, err := a.int("partitions", 1)
		if err != nil {
			return nil, err
		}
		ps, err := scriptPartitions(a, 0, n)
		if err != nil {
			return nil, err
		}
		t := &Topic{Name: a.vals["name"], Partitions: ps, Configs: a.set, Internal: a.flags["internal"]}
		if id != 0 {
			t.ID = scriptID(id)
		}
		return &command{Op: opCreateTopic, Topic: t}, nil
	case "delete-topic":
		return &command{Op: opDeleteTopic, Name: a.vals["name"]}, nil
	case "create-partitions":
		start, err := a.int("start", 0)
		if err != nil {
			return nil, err
		}
		n, err := a.int("count", 1)
		if err != nil {
			return nil, err
		}
		ps, err := scriptPartitions(a, start, n)
		if err != nil {
			return nil, err
		}
		return &command{Op: opCreatePartitions, Name: a.vals["name"], Partitions: ps}, nil
	case "alter-topic-configs":
		return &command{Op: opAlterTopicConfigs, Name: a.vals["name"], Set: a.set, Delete: a.list("del")}, nil
	case "replace-topic-configs":
		return &command{Op: opReplaceTopicConfigs, Name: a.vals["name"], Set: a.set}, nil
	case "alter-broker-configs":
		return &command{Op: opAlterBrokerConfigs, Set: a.set, Delete: a.list("del")}, nil
	case "allocate-pids":
		n, err := a.int("n", 0)
		return &command{Op: opAllocateProducerIDs, Count: n}, err
	}
	return nil, fmt.Errorf("unknown script command %q", name)
}

// sentinelName names the sentinel error err wraps, for script output.
func sentinelName(err error) string {
	for _, s := range []struct {
		name string
		err  error
	}{
		{"ErrTopicExists", ErrTopicExists},
		{"ErrUnknownTopic", ErrUnknownTopic},
		{"ErrInvalidTopic", ErrInvalidTopic},
		{"ErrInvalidPartitions", ErrInvalidPartitions},
		{"ErrInvalidBroker", ErrInvalidBroker},
		{"ErrInvalidProducerIDCount", ErrInvalidProducerIDCount},
	} {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	return "(no sentinel)"
}

// dumpState prints a state in a stable text form with no blank lines.
func dumpState(s *State) string {
	var b strings.Builder
	fmt.Fprintf(&b, "cluster_id=%q controller=%d next_producer_id=%d\n", s.ClusterID, s.ControllerID, s.NextProducerID)
	for _, br := range s.Brokers {
		fmt.Fprintf(&b, "broker %d %s:%d", br.ID, br.Host, br.Port)
		if br.Rack != "" {
			fmt.Fprintf(&b, " rack=%s", br.Rack)
		}
		b.WriteString("\n")
	}
	if len(s.BrokerConfigs) > 0 {
		fmt.Fprintf(&b, "broker_configs %s\n", dumpConfigs(s.BrokerConfigs))
	}
	for _, name := range s.TopicNames() {
		t := s.Topics[name]
		fmt.Fprintf(&b, "topic %s id=%s", t.Name, UUIDString(t.ID))
		if t.Internal {
			b.WriteString(" internal")
		}
		if len(t.Configs) > 0 {
			fmt.Fprintf(&b, " configs: %s", dumpConfigs(t.Configs))
		}
		b.WriteString("\n")
		for _, p := range t.Partitions {
			fmt.Fprintf(&b, "  p%d leader=%d epoch=%d replicas=%v isr=%v\n", p.ID, p.Leader, p.LeaderEpoch, p.Replicas, p.ISR)
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func dumpConfigs(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		keys[i] = k + "=" + m[k]
	}
	return strings.Join(keys, " ")
}

// checkInvariants checks what every published State promises.
func checkInvariants(t *testing.T, s *State) {
	t.Helper()
	if !slices.IsSortedFunc(s.Brokers, func(a, b Broker) int { return int(a.ID) - int(b.ID) }) {
		t.Errorf("brokers not sorted: %v", s.Brokers)
	}
	if len(s.byID) != len(s.Topics) {
		t.Errorf("byID has %d topics, Topics %d", len(s.byID), len(s.Topics))
	}
	for name, tp := range s.Topics {
		if tp.Name != name || s.TopicByID(tp.ID) != tp {
			t.Errorf("topic %q is indexed wrongly", name)
		}
		if len(tp.Partitions) == 0 {
			t.Errorf("topic %q has no partitions", name)
		}
		for i, p := range tp.Partitions {
			if int(p.ID) != i {
				t.Errorf("topic %q partition %d has ID %d", name, i, p.ID)
			}
		}
		if tp.Configs != nil && len(tp.Configs) == 0 {
			t.Errorf("topic %q has an empty, non-nil config map", name)
		}
	}
	if s.BrokerConfigs != nil && len(s.BrokerConfigs) == 0 {
		t.Error("empty, non-nil broker config map")
	}
}

// checkSnapshotRoundTrip checks that s survives writeSnapshot and
// readSnapshot unchanged.
func checkSnapshotRoundTrip(t *testing.T, s *State) {
	t.Helper()
	var buf bytes.Buffer
	if err := writeSnapshot(&buf, s); err != nil {
		t.Fatal(err)
	}
	got, err := readSnapshot(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("snapshot round trip changed the state:\n%s\nwas\n%s", dumpState(got), dumpState(s))
	}
}

func TestReadSnapshotRejectsBadInput(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"not json", "hello"},
		{"unknown version", `{"version":2,"state":{}}`},
		{"no state", `{"version":1}`},
		{"name mismatch", `{"version":1,"state":{"topics":{"a":{"name":"b"}}}}`},
		{"duplicate id", `{"version":1,"state":{"topics":{"a":{"name":"a","id":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1]},"b":{"name":"b","id":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1]}}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := readSnapshot(strings.NewReader(tc.in)); err == nil {
				t.Fatal("readSnapshot accepted it")
			}
		})
	}
}

func TestStateLookups(t *testing.T) {
	s := emptyState()
	for _, c := range []*command{
		{Op: opRegisterBroker, Broker: &Broker{ID: 3, Host: "c", Port: 1}},
		{Op: opRegisterBroker, Broker: &Broker{ID: 1, Host: "a", Port: 1}},
		{Op: opCreateTopic, Topic: &Topic{Name: "b", ID: scriptID(2), Partitions: []Partition{{Leader: 1, Replicas: []int32{1}}}}},
		{Op: opCreateTopic, Topic: &Topic{Name: "a", ID: scriptID(1), Partitions: []Partition{{Leader: 1, Replicas: []int32{1}}}}},
	} {
		var res result
		if s, res = apply(s, c); res.err != nil {
			t.Fatal(res.err)
		}
	}
	if b, ok := s.Broker(3); !ok || b.Host != "c" {
		t.Errorf("Broker(3) = %v, %v", b, ok)
	}
	if _, ok := s.Broker(2); ok {
		t.Error("Broker(2) found")
	}
	if got := s.TopicNames(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("TopicNames = %v", got)
	}
	if tp := s.TopicByID(scriptID(2)); tp == nil || tp.Name != "b" {
		t.Errorf("TopicByID(2) = %v", tp)
	}
	if s.Topic("c") != nil || s.TopicByID(scriptID(3)) != nil {
		t.Error("found a topic that does not exist")
	}
}

func TestUUID(t *testing.T) {
	seen := map[[16]byte]bool{}
	for range 1000 {
		id := NewUUID()
		s := UUIDString(id)
		if len(s) != 22 || s[0] == '-' {
			t.Fatalf("UUIDString = %q", s)
		}
		if id[6]>>4 != 4 || id[8]>>6 != 2 {
			t.Fatalf("%x is not a version 4 UUID", id)
		}
		back, err := ParseUUID(s)
		if err != nil || back != id {
			t.Fatalf("ParseUUID(%q) = %x, %v", s, back, err)
		}
		if seen[id] {
			t.Fatalf("duplicate %x", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "abc", "AAAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAA*A"} {
		if _, err := ParseUUID(bad); err == nil {
			t.Errorf("ParseUUID(%q) accepted", bad)
		}
	}
}

func BenchmarkFSMCreateTopic(b *testing.B) {
	for _, existing := range []int{10, 1000} {
		b.Run(strconv.Itoa(existing)+"topics", func(b *testing.B) {
			s := emptyState()
			for i := range existing {
				c := &command{Op: opCreateTopic, Topic: &Topic{Name: "t" + strconv.Itoa(i), ID: scriptID(int64(i + 1)), Partitions: []Partition{{Leader: 1, Replicas: []int32{1}}}}}
				var res result
				if s, res = apply(s, c); res.err != nil {
					b.Fatal(res.err)
				}
			}
			data := (&command{Op: opCreateTopic, Topic: &Topic{Name: "new", ID: scriptID(1 << 40), Partitions: []Partition{{Leader: 1, Replicas: []int32{1}, ISR: []int32{1}}}}}).encode()
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				c, err := decodeCommand(data)
				if err != nil {
					b.Fatal(err)
				}
				if _, res := apply(s, c); res.err != nil {
					b.Fatal(res.err)
				}
			}
		})
	}
}
