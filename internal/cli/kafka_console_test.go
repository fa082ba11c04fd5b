package cli

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// createTopic makes topic with n partitions through the admin API.
func mustCreateTopic(t *testing.T, b *samsatest.Broker, topic string, n int32) {
	t.Helper()
	ctx := samsatest.Context(t, 30*time.Second)
	if _, err := b.Admin().CreateTopic(ctx, n, 1, nil, topic); err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// readAll reads every record of topic from the start until n arrived.
func readAll(t *testing.T, b *samsatest.Broker, topic string, n int) []*kgo.Record {
	t.Helper()
	cl := b.Client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx := samsatest.Context(t, 30*time.Second)
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: got %d records, want %d", topic, len(recs), n)
		}
		recs = append(recs, fs.Records()...)
	}
	return recs
}

// TestConsoleProducerSendsOnePipedLineAsOneRecord is LAB.md step 4's
// first command: a JSON line piped into the console producer becomes one
// record; no prompt is printed when stdin is not a terminal.
func TestConsoleProducerSendsOnePipedLineAsOneRecord(t *testing.T) {
	b := samsatest.Start(t)
	dir := scriptDir(t)
	mustCreateTopic(t, b, "post.office", 3)
	line := `{"event": "new_envelope", "to": "Alan Turing", "message": "You are my role model"}`
	r := script(t, dir, "kafka-console-producer.sh", line+"\n", "--bootstrap-server", b.Addr, "--topic", "post.office")
	mustOK(t, r, "console producer")
	if r.stdout != "" || r.stderr != "" {
		t.Errorf("producer printed stdout %q stderr %q; want nothing (no '>' prompt off a terminal)", r.stdout, r.stderr)
	}
	recs := readAll(t, b, "post.office", 1)
	if len(recs) != 1 || string(recs[0].Value) != line || recs[0].Key != nil {
		t.Fatalf("records = %v, want one with value %q and no key", recs, line)
	}
}

// TestConsoleConsumerPrintsRecordsProducedAfterItStarted: the console
// consumer starts at the end, so a record produced before it started is
// not printed and records produced while it runs are; it joins a
// console-consumer-<random> group and exits 0 on SIGINT.
func TestConsoleConsumerPrintsRecordsProducedAfterItStarted(t *testing.T) {
	b := samsatest.Start(t)
	dir := scriptDir(t)
	mustCreateTopic(t, b, "post.office", 3)
	cl := b.Client()
	produceValues(t, cl, "post.office", "before")

	p := start(t, filepath.Join(dir, "kafka-console-consumer.sh"), "--bootstrap-server", b.Addr, "--topic", "post.office")
	adm := kadm.NewClient(cl)
	samsatest.Eventually(t, 30*time.Second, "a console-consumer-<n> group", func() bool {
		lgs, err := adm.ListGroups(samsatest.Context(t, 5*time.Second))
		if err != nil {
			return false
		}
		for g := range lgs {
			if strings.HasPrefix(g, "console-consumer-") {
				return true
			}
		}
		return false
	})
	// The consumer positions itself at the end once it has its
	// partitions; keep producing until it prints what it receives.
	sent := 0
	samsatest.Eventually(t, 30*time.Second, "the consumer to print a record produced after it started", func() bool {
		if strings.Contains(p.stdout.String(), "after-") {
			return true
		}
		if sent%20 == 0 {
			produceValues(t, cl, "post.office", fmt.Sprintf("after-%d", sent))
		}
		sent++
		return false
	})
	p.interrupt()
	if code := p.wait(); code != 0 {
		t.Fatalf("console consumer exited %d after SIGINT, want 0", code)
	}
	out := p.stdout.String()
	if strings.Contains(out, "before") {
		t.Errorf("consumer printed the record produced before it started:\n%s", out)
	}
	for _, l := range lines(out) {
		if !strings.HasPrefix(l, "after-") {
			t.Errorf("consumer printed %q, want only values", l)
		}
	}
	if !strings.Contains(p.stderr.String(), fmt.Sprintf("Processed a total of %d messages", len(lines(out)))) {
		t.Errorf("stderr = %q, want Kafka's 'Processed a total of N messages'", p.stderr.String())
	}
}

// TestConsoleRoutesKeysWithParseKey: with parse.key and key.separator
// records with one key land in one partition, the one Kafka's murmur2
// partitioner picks; --from-beginning and --max-messages read them back and
// exit on their own.
func TestConsoleRoutesKeysWithParseKey(t *testing.T) {
	b := samsatest.Start(t)
	dir := scriptDir(t)
	mustCreateTopic(t, b, "post.office", 5)
	in := "alice:one\nbob:two\nalice:three\ncarol:four\nalice:five\nbob:six\n"
	r := script(t, dir, "kafka-console-producer.sh", in, "--bootstrap-server", b.Addr, "--topic", "post.office",
		"--property", "parse.key=true", "--property", "key.separator=:")
	mustOK(t, r, "producer with parse.key")

	r = script(t, dir, "kafka-console-consumer.sh", "", "--bootstrap-server", b.Addr, "--topic", "post.office",
		"--from-beginning", "--max-messages", "6", "--property", "print.key=true", "--property", "print.partition=true")
	mustOK(t, r, "consumer --from-beginning --max-messages 6")
	got := lines(r.stdout)
	if len(got) != 6 {
		t.Fatalf("consumer printed %d lines, want 6:\n%s", len(got), r.stdout)
	}
	part := kgo.StickyKeyPartitioner(nil).ForTopic("post.office")
	var values []string
	for _, l := range got {
		f := strings.Split(l, "\t")
		if len(f) != 3 {
			t.Fatalf("line %q: want Partition:N<TAB>key<TAB>value", l)
		}
		want := fmt.Sprintf("Partition:%d", part.Partition(&kgo.Record{Key: []byte(f[1])}, 5))
		if f[0] != want {
			t.Errorf("key %s in %s, want %s (murmur2)", f[1], f[0], want)
		}
		values = append(values, f[1]+":"+f[2])
	}
	slices.Sort(values)
	want := []string{"alice:five", "alice:one", "alice:three", "bob:six", "bob:two", "carol:four"}
	if !slices.Equal(values, want) {
		t.Errorf("records = %q, want %q", values, want)
	}
	if !strings.Contains(r.stderr, "Processed a total of 6 messages") {
		t.Errorf("stderr = %q", r.stderr)
	}
}

// TestConsoleConsumerCtrlCCommitsAndExits0 presses Ctrl-C on a console
// consumer in a terminal: it exits 0 and has committed what it printed.
func TestConsoleConsumerCtrlCCommitsAndExits0(t *testing.T) {
	b := samsatest.Start(t)
	dir := scriptDir(t)
	mustCreateTopic(t, b, "post.office", 3)
	cl := b.Client()
	produceValues(t, cl, "post.office", "one", "two", "three")

	p := startPTY(t, filepath.Join(dir, "kafka-console-consumer.sh"), "--bootstrap-server", b.Addr,
		"--topic", "post.office", "--group", "mailroom", "--from-beginning")
	samsatest.Eventually(t, 30*time.Second, "the three records on the terminal", func() bool {
		out := p.stdout.String()
		return strings.Contains(out, "one") && strings.Contains(out, "two") && strings.Contains(out, "three")
	})
	p.typeText("\x03") // Ctrl-C
	if code := p.wait(); code != 0 {
		t.Fatalf("exit %d after Ctrl-C, want 0; terminal:\n%s", code, p.stdout)
	}
	offs, err := kadm.NewClient(cl).FetchOffsets(samsatest.Context(t, 10*time.Second), "mailroom")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	offs.Each(func(o kadm.OffsetResponse) { total += o.At })
	if total != 3 {
		t.Errorf("committed offsets add up to %d, want 3 (every printed record): %v", total, offs)
	}
	if !strings.Contains(p.stdout.String(), "Processed a total of 3 messages") {
		t.Errorf("terminal = %q, want 'Processed a total of 3 messages'", p.stdout)
	}
}

// TestConsoleProducerPromptsOnATerminal: typed into a terminal, the
// console producer shows Kafka's '>' before each line and sends each line
// as a record; Ctrl-D ends it.
func TestConsoleProducerPromptsOnATerminal(t *testing.T) {
	b := samsatest.Start(t)
	dir := scriptDir(t)
	mustCreateTopic(t, b, "post.office", 3)
	p := startPTY(t, filepath.Join(dir, "kafka-console-producer.sh"), "--bootstrap-server", b.Addr, "--topic", "post.office")
	samsatest.Eventually(t, 30*time.Second, "the first '>' prompt", func() bool {
		return strings.Count(p.stdout.String(), ">") >= 1
	})
	p.typeText("hello\n")
	samsatest.Eventually(t, 30*time.Second, "the second '>' prompt", func() bool {
		return strings.Count(p.stdout.String(), ">") >= 2
	})
	p.typeText("\x04") // Ctrl-D: end of input
	if code := p.wait(); code != 0 {
		t.Fatalf("exit %d after Ctrl-D, want 0; terminal:\n%s", code, p.stdout)
	}
	recs := readAll(t, b, "post.office", 1)
	if string(recs[0].Value) != "hello" {
		t.Errorf("record = %q, want hello", recs[0].Value)
	}
}
