package cli

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// TestProduceThenConsumeWithKeysHeadersAndFormats produces with samsa's
// own flags (key separator, headers, a pinned partition, JSON lines) and
// reads the records back in every output format.
func TestProduceThenConsumeWithKeysHeadersAndFormats(t *testing.T) {
	b := samsatest.Start(t)
	mustCreateTopic(t, b, "orders", 2)
	run := func(stdin string, args ...string) result {
		return samsa(t, stdin, append(args, "--brokers", b.Addr)...)
	}

	r := run("k1=v1\nk2=v2\n", "produce", "orders", "--key-separator", "=", "-H", "src=cli", "--partition", "1")
	mustOK(t, r, "produce lines")
	if r.stderr != "Produced 2 of 2 records to topic orders.\n" {
		t.Errorf("produce stderr = %q", r.stderr)
	}
	r = run(`{"key":"k3","value":{"n":3},"headers":{"h":"x"}}`+"\n", "produce", "orders", "--format", "json", "--partition", "1")
	mustOK(t, r, "produce json")

	r = run("", "consume", "orders", "--from-beginning", "-n", "3", "--print-key", "--print-headers", "--print-offset")
	mustOK(t, r, "consume printing everything")
	want := []string{
		"Partition:1\tOffset:0\tsrc:cli\tk1\tv1",
		"Partition:1\tOffset:1\tsrc:cli\tk2\tv2",
		"Partition:1\tOffset:2\th:x\tk3\t{\"n\":3}",
	}
	if got := lines(r.stdout); !slices.Equal(got, want) {
		t.Errorf("consume:\n%q\nwant:\n%q", got, want)
	}
	if r.stderr != "Processed a total of 3 messages\n" {
		t.Errorf("consume stderr = %q", r.stderr)
	}

	r = run("", "consume", "orders", "--from-beginning", "-n", "3", "-o", "json")
	mustOK(t, r, "consume json")
	var recs []jsonOutRecord
	for _, l := range lines(r.stdout) {
		var jr jsonOutRecord
		if err := json.Unmarshal([]byte(l), &jr); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		recs = append(recs, jr)
	}
	if len(recs) != 3 || *recs[2].Key != "k3" || *recs[2].Value != `{"n":3}` || recs[2].Offset != 2 ||
		recs[0].Headers[0].Key != "src" || *recs[0].Headers[0].Value != "cli" {
		t.Errorf("json records = %+v", recs)
	}

	r = run("", "consume", "orders", "--partition", "1", "--offset", "1", "-n", "2", "--format", "{{.Offset}} {{.Key}}={{.Value}} {{index .Headers \"src\"}}")
	mustOK(t, r, "consume --partition --offset --format")
	if got := lines(r.stdout); !slices.Equal(got, []string{"1 k2=v2 cli", "2 k3={\"n\":3} "}) {
		t.Errorf("template output = %q", got)
	}

	// --timeout ends a consumer that has nothing more to read.
	r = run("", "consume", "orders", "--from-beginning", "--timeout", "500ms")
	mustOK(t, r, "consume --timeout")
	if len(lines(r.stdout)) != 3 {
		t.Errorf("consume --timeout printed %q, want the 3 records", r.stdout)
	}
}

// TestProduceReportsRecordsThatFail: a line that cannot be parsed is
// reported by number and the command exits 1 after producing the others.
func TestProduceReportsRecordsThatFail(t *testing.T) {
	b := samsatest.Start(t)
	mustCreateTopic(t, b, "orders", 1)
	r := samsa(t, "a=1\nno separator\nb=2\n", "produce", "orders", "-k", "=", "--brokers", b.Addr)
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	for _, want := range []string{
		"error: line 2 not produced: No key separator found on line number 2: 'no separator'",
		"Produced 2 of 3 records to topic orders.",
		"samsa: 1 of 3 records not acknowledged",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr = %q, want %q", r.stderr, want)
		}
	}
	recs := readAll(t, b, "orders", 2)
	if string(recs[0].Key) != "a" || string(recs[1].Key) != "b" {
		t.Errorf("records = %v", recs)
	}
	// A pinned partition the topic does not have fails every record.
	r = samsa(t, "x\n", "produce", "orders", "--partition", "7", "--brokers", b.Addr)
	if r.code != 1 || !strings.Contains(r.stderr, "error: line 1 not produced") {
		t.Errorf("partition 7: exit %d stderr %q", r.code, r.stderr)
	}
}

// TestConsumeGroupCommitsOnInterruptAndSeekMovesIt: `samsa consume
// --group` commits what it printed when interrupted; `samsa group
// describe` shows the lag; `samsa group seek` previews, refuses while the
// group is live and moves the offsets with --execute.
func TestConsumeGroupCommitsOnInterruptAndSeekMovesIt(t *testing.T) {
	b := samsatest.Start(t)
	mustCreateTopic(t, b, "orders", 2)
	cl := b.Client()
	adm := kadm.NewClient(cl)
	produceValues(t, cl, "orders", "a", "b", "c", "d")
	p := start(t, samsatest.BuildBinary(t), "consume", "orders", "--group", "billing", "--from-beginning", "--brokers", b.Addr)
	samsatest.Eventually(t, 30*time.Second, "four records printed", func() bool { return len(lines(p.stdout.String())) == 4 })

	r := samsa(t, "", "group", "seek", "billing", "--to", "earliest", "--brokers", b.Addr)
	if r.code != 1 || !strings.Contains(r.stderr, `group "billing" is Stable: offsets can only be reset while no consumer is in the group`) {
		t.Errorf("seek on a live group: exit %d stderr %q", r.code, r.stderr)
	}
	r = samsa(t, "", "group", "describe", "billing", "-o", "json", "--brokers", b.Addr)
	mustOK(t, r, "describe live group")
	var views []groupView
	if err := json.Unmarshal([]byte(r.stdout), &views); err != nil {
		t.Fatal(err)
	}
	if len(views) != 1 || views[0].State != "Stable" || len(views[0].Members) != 1 || len(views[0].Members[0].Assigned) != 2 {
		t.Errorf("describe = %+v", views)
	}

	p.interrupt()
	if code := p.wait(); code != 0 {
		t.Fatalf("consume exit %d after SIGINT, want 0", code)
	}
	// Committed: the end offset of every partition it printed from.
	ends := endOffsets(t, adm, "orders")
	for p, o := range ends {
		if o == 0 {
			delete(ends, p)
		}
	}
	if got := committed(t, adm, "billing", "orders"); !mapsEqual(got, ends) {
		t.Fatalf("committed %v, want the end offsets %v", got, ends)
	}

	r = samsa(t, "", "group", "describe", "billing", "--brokers", b.Addr)
	mustOK(t, r, "describe")
	if !strings.Contains(r.stdout, "State: Empty") || !strings.Contains(r.stdout, "Lag: 0") {
		t.Errorf("describe:\n%s", r.stdout)
	}

	r = samsa(t, "", "group", "seek", "billing", "--to", "earliest", "--brokers", b.Addr)
	mustOK(t, r, "seek dry run")
	if !strings.Contains(r.stderr, "Dry run: nothing changed. Add --execute") {
		t.Errorf("dry run stderr = %q", r.stderr)
	}
	if got := committed(t, adm, "billing", "orders"); !mapsEqual(got, ends) {
		t.Errorf("dry run changed offsets to %v", got)
	}
	r = samsa(t, "", "group", "seek", "billing", "--to", "earliest", "--topic", "orders", "--execute", "-o", "json", "--brokers", b.Addr)
	mustOK(t, r, "seek --execute")
	var plan struct {
		Executed bool       `json:"executed"`
		Offsets  []resetRow `json:"offsets"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil || !plan.Executed || len(plan.Offsets) != 2 {
		t.Errorf("seek json = %s (%v)", r.stdout, err)
	}
	if got := committed(t, adm, "billing", "orders"); !mapsEqual(got, map[int32]int64{0: 0, 1: 0}) {
		t.Errorf("after seek --execute committed = %v, want zeros", got)
	}

	// The group reads everything again from the committed offsets.
	r = samsa(t, "", "consume", "orders", "--group", "billing", "-n", "4", "--brokers", b.Addr)
	mustOK(t, r, "consume again")
	got := lines(r.stdout)
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Errorf("after seek the group read %q", got)
	}

	mustOK(t, samsa(t, "", "group", "delete", "billing", "--brokers", b.Addr), "group delete")
	r = samsa(t, "", "group", "list", "-o", "json", "--brokers", b.Addr)
	if strings.Contains(r.stdout, "billing") {
		t.Errorf("group list after delete: %s", r.stdout)
	}
}

// TestConsumeShowsProgressOnATerminal: with --max-messages and stderr on a
// terminal, samsa consume reports its progress while it waits for more.
func TestConsumeShowsProgressOnATerminal(t *testing.T) {
	b := samsatest.Start(t)
	mustCreateTopic(t, b, "orders", 1)
	produceValues(t, b.Client(), "orders", "a", "b")
	p := startPTY(t, samsatest.BuildBinary(t), "consume", "orders", "--from-beginning", "-n", "5", "--brokers", b.Addr)
	samsatest.Eventually(t, 30*time.Second, "a progress line", func() bool {
		return strings.Contains(p.stdout.String(), "consumed 2/5 records")
	})
	p.typeText("\x03")
	if code := p.wait(); code != 0 {
		t.Fatalf("exit %d after Ctrl-C, want 0; terminal:\n%s", code, p.stdout)
	}
	if !strings.Contains(p.stdout.String(), "Processed a total of 2 messages") {
		t.Errorf("terminal = %q", p.stdout)
	}
}
