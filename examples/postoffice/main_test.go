package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/broker"
	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// startBroker starts an in-process broker whose groups rebalance quickly
// enough for tests.
func startBroker(t *testing.T) *samsatest.Broker {
	return samsatest.Start(t, func(c *broker.Config) {
		c.Group.MinSessionTimeout = 500 * time.Millisecond
		c.Group.InitialRebalanceDelay = 300 * time.Millisecond
	})
}

// line is one parsed `Consumer i: value (key: k)` line.
type line struct {
	consumer string
	value    string
	key      string
}

var lineRE = regexp.MustCompile(`^Consumer (\d+): (\{.*\}) \(key: (.*)\)$`)

// parseLines parses the consumer lines of out and fails on any other line
// (other than the Ctrl-C notice).
func parseLines(t *testing.T, out string) []line {
	t.Helper()
	var lines []line
	for _, s := range strings.Split(out, "\n") {
		if s == "" || strings.HasPrefix(s, "SIGINT received") {
			continue
		}
		m := lineRE.FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("output line %q is not `Consumer i: <value> (key: <key>)`", s)
		}
		lines = append(lines, line{m[1], m[2], m[3]})
	}
	return lines
}

// topicRecords reads every record of topic.
func topicRecords(t *testing.T, addr, topic string) []*kgo.Record {
	t.Helper()
	ctx := samsatest.Context(t, 20*time.Second)
	ends, err := kadm.NewClient(samsatest.NewClient(t, addr)).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	left := 0
	ends.Each(func(o kadm.ListedOffset) { left += int(o.Offset) })
	cl := samsatest.NewClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var out []*kgo.Record
	for len(out) < left {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: %d of %d records", topic, len(out), left)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

// runProgram runs the program in process until want consumer lines are
// printed, then cancels it as Ctrl-C would and returns its parsed lines.
func runProgram(t *testing.T, cfg config, want func([]line) bool) []line {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out samsatest.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, &out, io.Discard) }()
	samsatest.Eventually(t, 30*time.Second, "the consumers' lines", func() bool {
		select {
		case err := <-done:
			t.Fatalf("run ended early: %v\n%s", err, out.String())
		default:
		}
		return want(parseLines(t, out.String()))
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return within 30s of the interrupt")
	}
	return parseLines(t, out.String())
}

// values returns the record values of recs.
func values(recs []*kgo.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, string(r.Value))
	}
	slices.Sort(out)
	return out
}

// byConsumer groups the printed values by consumer.
func byConsumer(lines []line) map[string][]string {
	out := make(map[string][]string)
	for _, l := range lines {
		out[l.consumer] = append(out[l.consumer], l.value)
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

func TestIndependentModeEveryConsumerGetsEveryLetter(t *testing.T) {
	b := startBroker(t)
	const letters, consumers = 20, 3
	cfg := config{mode: "independent", consumers: consumers, brokers: b.Addr, topic: "post.office", group: "po-independent", rate: 50, partitions: 5, count: letters}
	lines := runProgram(t, cfg, func(ls []line) bool {
		return len(ls) >= letters*consumers
	})
	all := values(topicRecords(t, b.Addr, cfg.topic))
	if len(all) != letters {
		t.Fatalf("topic holds %d letters, want %d", len(all), letters)
	}
	got := byConsumer(lines)
	if len(got) != consumers {
		t.Errorf("%d consumers printed, want all %d", len(got), consumers)
	}
	for c, vs := range got {
		if !slices.Equal(vs, all) {
			t.Errorf("consumer %s printed %d letters, want each of the %d once:\n got %q\nwant %q", c, len(vs), len(all), vs, all)
		}
	}
	for _, l := range lines {
		if l.key != "None" {
			t.Errorf("independent mode printed key %q, want None", l.key)
		}
	}
	// Its groups are removed when it stops, so runs do not pile them up.
	listed, err := kadm.NewClient(samsatest.NewClient(t, b.Addr)).ListGroups(samsatest.Context(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range listed.Groups() {
		if strings.HasPrefix(g, cfg.group) {
			t.Errorf("group %s left behind by task 1", g)
		}
	}
}

// checkOncePerGroup checks what one group printed: no letter twice, only
// letters of the topic, and every letter below the group's committed offsets
// (the ones the group says it is done with).
func checkOncePerGroup(t *testing.T, addr, topic, group string, lines []line) {
	t.Helper()
	ctx := samsatest.Context(t, 20*time.Second)
	committed, err := kadm.NewClient(samsatest.NewClient(t, addr)).FetchOffsets(ctx, group)
	if err == nil {
		err = committed.Error()
	}
	if err != nil {
		t.Fatalf("committed offsets of %s: %v", group, err)
	}
	printed := make(map[string]int)
	for _, l := range lines {
		printed[l.value]++
		if printed[l.value] == 2 {
			t.Errorf("letter printed twice by the group: %s", l.value)
		}
	}
	inTopic := make(map[string]bool)
	done := 0
	for _, r := range topicRecords(t, addr, topic) {
		inTopic[string(r.Value)] = true
		c, ok := committed.Lookup(topic, r.Partition)
		if !ok || r.Offset >= c.At {
			continue
		}
		done++
		if printed[string(r.Value)] == 0 {
			t.Errorf("letter %s/%d@%d is below the committed offset %d but was never printed", topic, r.Partition, r.Offset, c.At)
		}
	}
	for v := range printed {
		if !inTopic[v] {
			t.Errorf("printed a letter that is not in the topic: %s", v)
		}
	}
	if done < len(lines)/2 {
		t.Errorf("the group committed past %d letters of the %d it printed; Close should commit them", done, len(lines))
	}
}

// enough reports whether at least n letters were printed by at least two
// consumers, so the group was really shared.
func enough(n int) func([]line) bool {
	return func(ls []line) bool { return len(ls) >= n && len(byConsumer(ls)) >= 2 }
}

func TestGroupModeEachLetterOnceAtMostPartitionCountActive(t *testing.T) {
	b := startBroker(t)
	const consumers, partitions = 7, 5
	cfg := config{mode: "group", consumers: consumers, brokers: b.Addr, topic: "post.office", group: "po-group", rate: 50, partitions: partitions}
	lines := runProgram(t, cfg, enough(40))
	checkOncePerGroup(t, b.Addr, cfg.topic, cfg.group, lines)
	if active := len(byConsumer(lines)); active > partitions {
		t.Errorf("%d of %d consumers printed letters, want at most the partition count %d", active, consumers, partitions)
	}
}

func TestKeyedModeOneKeyOnePartition(t *testing.T) {
	b := startBroker(t)
	cfg := config{mode: "keyed", consumers: 3, brokers: b.Addr, topic: "post.office", group: "po-keyed", rate: 50, partitions: 5}
	lines := runProgram(t, cfg, enough(40))
	checkOncePerGroup(t, b.Addr, cfg.topic, cfg.group, lines)
	partitionOf := make(map[string]int32)
	for _, r := range topicRecords(t, b.Addr, cfg.topic) {
		if !bytes.Contains(r.Value, []byte(`"to": "`+string(r.Key)+`"`)) {
			t.Errorf("letter %s has key %q, want its recipient", r.Value, r.Key)
		}
		if p, ok := partitionOf[string(r.Key)]; ok && p != r.Partition {
			t.Errorf("key %q on partitions %d and %d, want one", r.Key, p, r.Partition)
		}
		partitionOf[string(r.Key)] = r.Partition
	}
	for _, l := range lines {
		if !strings.Contains(l.value, `"to": "`+l.key+`"`) {
			t.Errorf("letter %s printed with key %q, want its recipient", l.value, l.key)
		}
	}
}

func TestValidateRejectsBadFlags(t *testing.T) {
	good := config{mode: "group", consumers: 1, rate: 1, partitions: 5}
	tests := []struct {
		name string
		edit func(*config)
	}{
		{"unknown mode", func(c *config) { c.mode = "broadcast" }},
		{"no consumers", func(c *config) { c.consumers = 0 }},
		{"zero rate", func(c *config) { c.rate = 0 }},
		{"zero partitions", func(c *config) { c.partitions = 0 }},
		{"negative count", func(c *config) { c.count = -1 }},
	}
	if err := good.validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			if err := c.validate(); err == nil {
				t.Errorf("validate(%+v) = nil, want an error", c)
			}
		})
	}
}

// requirePythonKafka returns /usr/bin/python3 if it can import
// confluent_kafka; locally it skips otherwise, in CI (CI set) it fails.
func requirePythonKafka(t *testing.T) string {
	t.Helper()
	const python = "/usr/bin/python3"
	out, err := exec.Command(python, "-c", "import confluent_kafka").CombinedOutput()
	if err == nil {
		return python
	}
	msg := fmt.Sprintf("%s cannot import confluent_kafka (%v: %s): install it with apt-get install python3-confluent-kafka", python, err, bytes.TrimSpace(out))
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// pyProgram is postoffice.py running under the test.
type pyProgram struct {
	cmd         *exec.Cmd
	out, stderr samsatest.Buffer
	exited      chan error // cmd.Wait's result
}

// startPython runs postoffice.py (python, from requirePythonKafka) with
// args; it is killed at cleanup if still running, and its output logged
// if the test failed.
func startPython(t *testing.T, python string, args ...string) *pyProgram {
	t.Helper()
	script, err := filepath.Abs("postoffice.py")
	if err != nil {
		t.Fatal(err)
	}
	p := &pyProgram{exited: make(chan error, 1)}
	p.cmd = exec.Command(python, append([]string{"-B", script}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("postoffice.py stdout:\n%s\nstderr:\n%s", p.out.String(), p.stderr.String())
		}
	})
	return p
}

// TestPythonPostOffice runs postoffice.py, the lab's program for
// confluent-kafka, in each mode and checks the same guarantees.
func TestPythonPostOffice(t *testing.T) {
	python := requirePythonKafka(t)
	b := startBroker(t)
	const letters, consumers = 15, 3
	for _, mode := range []string{"independent", "group", "keyed"} {
		t.Run(mode, func(t *testing.T) {
			topic := "post.office." + mode
			want := letters
			if mode == "independent" {
				want = letters * consumers
			}
			py := startPython(t, python, "--mode", mode, "--consumers", fmt.Sprint(consumers),
				"--brokers", b.Addr, "--topic", topic, "--group", "py-"+mode, "--rate", "20", "--count", fmt.Sprint(letters))
			cmd, exited, out, stderr := py.cmd, py.exited, &py.out, &py.stderr
			samsatest.Eventually(t, 45*time.Second, "postoffice.py's lines", func() bool {
				select {
				case err := <-exited:
					t.Fatalf("postoffice.py exited early: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), stderr.String())
				default:
				}
				return len(parseLines(t, out.String())) >= want
			})
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("postoffice.py after SIGINT: %v\nstderr:\n%s", err, stderr.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("postoffice.py still running 30s after SIGINT\nstderr:\n%s", stderr.String())
			}
			if !strings.Contains(out.String(), "SIGINT received") {
				t.Errorf("postoffice.py did not say it received SIGINT:\n%s", out.String())
			}
			lines := parseLines(t, out.String())
			all := values(topicRecords(t, b.Addr, topic))
			if len(all) != letters {
				t.Fatalf("topic holds %d letters, want %d", len(all), letters)
			}
			switch mode {
			case "independent":
				for c, vs := range byConsumer(lines) {
					if !slices.Equal(vs, all) {
						t.Errorf("consumer %s printed %q, want every letter once: %q", c, vs, all)
					}
				}
				if n := len(byConsumer(lines)); n != consumers {
					t.Errorf("%d consumers printed, want %d", n, consumers)
				}
			default:
				var printed []string
				for _, l := range lines {
					printed = append(printed, l.value)
				}
				slices.Sort(printed)
				if !slices.Equal(printed, all) {
					t.Errorf("the group printed %q, want each letter once: %q", printed, all)
				}
			}
			if mode == "keyed" {
				for _, l := range lines {
					if !strings.Contains(l.value, `"to": "`+l.key+`"`) {
						t.Errorf("letter %s printed with key %q, want its recipient", l.value, l.key)
					}
				}
			}
		})
	}
}

// brokerDown is the program in group mode against a real samsa process
// whose broker has just been stopped under it: it printed letters, then
// its consumers reported the broker gone.
type brokerDown struct {
	p           *samsatest.Process
	cancel      context.CancelFunc // Ctrl-C
	out, errOut samsatest.Buffer
	done        chan error // run's result
}

func startThenStopBroker(t *testing.T, group string) *brokerDown {
	t.Helper()
	bin := samsatest.BuildBinary(t)
	d := &brokerDown{done: make(chan error, 1)}
	d.p = samsatest.StartProcess(t, bin, t.TempDir(), "--group-min-session-timeout", "500ms", "--group-initial-rebalance-delay", "300ms")
	cfg := config{mode: "group", consumers: 2, brokers: d.p.Addr(), topic: "post.office", group: group, rate: 20, partitions: 3}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	d.cancel = cancel
	go func() { d.done <- run(ctx, cfg, &d.out, &d.errOut) }()
	samsatest.Eventually(t, 30*time.Second, "letters before the broker stops", func() bool {
		return len(parseLines(t, d.out.String())) >= 5
	})
	// Down long enough for the consumers to see errors.
	d.p.Stop()
	samsatest.Eventually(t, 60*time.Second, "the consumers to report the broker gone", func() bool {
		return strings.Contains(d.errOut.String(), "(retrying)")
	})
	return d
}

// TestGroupModeConsumersCarryOnAfterABrokerRestart stops the broker (a
// real samsa process) under the running program and starts it again on
// the same address: the consumers keep printing letters produced after
// the restart instead of giving up.
func TestGroupModeConsumersCarryOnAfterABrokerRestart(t *testing.T) {
	d := startThenStopBroker(t, "po-restart")
	d.p.Restart() // same address: the program reconnects by itself
	before := len(parseLines(t, d.out.String()))
	samsatest.Eventually(t, 60*time.Second, "letters after the restart", func() bool {
		select {
		case err := <-d.done:
			t.Fatalf("the program ended on the broker restart: %v\n%s", err, d.out.String())
		default:
		}
		return len(parseLines(t, d.out.String())) >= before+10
	})
	d.cancel()
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return within 30s of the interrupt")
	}
}

// TestCtrlCWhileTheBrokerIsDownStops: Ctrl-C ends the program even when
// the broker is gone (a record waiting for its ack must not hold it).
func TestCtrlCWhileTheBrokerIsDownStops(t *testing.T) {
	d := startThenStopBroker(t, "po-down")
	d.cancel()
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("run did not return within 20 s of Ctrl-C with the broker down; stderr:\n%s", d.errOut.String())
	}
}

// TestGoAndPythonShareAGroup runs this program and postoffice.py in the
// same group (both offer range): the Python consumer joins and prints
// letters, where with two protocols in common to none it would be
// refused with INCONSISTENT_GROUP_PROTOCOL.
func TestGoAndPythonShareAGroup(t *testing.T) {
	python := requirePythonKafka(t)
	b := startBroker(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var goOut samsatest.Buffer
	done := make(chan error, 1)
	cfg := config{mode: "group", consumers: 1, brokers: b.Addr, topic: "post.office", group: "shared", rate: 20, partitions: 4}
	go func() { done <- run(ctx, cfg, &goOut, io.Discard) }()
	samsatest.Eventually(t, 30*time.Second, "the Go consumer's letters", func() bool {
		return len(parseLines(t, goOut.String())) > 0
	})
	py := startPython(t, python, "--mode", "group", "--consumers", "1", "--brokers", b.Addr,
		"--topic", "post.office", "--group", "shared", "--rate", "20")
	samsatest.Eventually(t, 45*time.Second, "the Python consumer's letters in the shared group", func() bool {
		if strings.Contains(py.stderr.String(), "INCONSISTENT_GROUP_PROTOCOL") {
			t.Fatalf("postoffice.py refused by the group:\n%s", py.stderr.String())
		}
		return len(parseLines(t, py.out.String())) > 0
	})
	py.cmd.Process.Signal(syscall.SIGINT)
	cancel()
	<-done
}
