package cli

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// committed returns the committed offsets of group by partition of topic.
func committed(t *testing.T, adm *kadm.Client, group, topic string) map[int32]int64 {
	t.Helper()
	offs, err := adm.FetchOffsets(samsatest.Context(t, 10*time.Second), group)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	for p, o := range offs[topic] {
		out[p] = o.At
	}
	return out
}

// endOffsets returns the end offset of every partition of topic.
func endOffsets(t *testing.T, adm *kadm.Client, topic string) map[int32]int64 {
	t.Helper()
	ends, err := adm.ListEndOffsets(samsatest.Context(t, 10*time.Second), topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

// kafkaRow formats one row of ConsumerGroupCommand's describe table with
// the minimum column widths.
func kafkaRow(cells ...any) string {
	return fmt.Sprintf("%-15v %-15v %-10v %-15v %-15v %-15v %-15v %-15v %v", cells...)
}

// TestConsumerGroupsDescribeAndResetOffsets: a group that consumed and
// left is described with Kafka's columns; --reset-offsets only previews
// without --execute (and with --dry-run), and commits with it.
func TestConsumerGroupsDescribeAndResetOffsets(t *testing.T) {
	b := samsatest.Start(t)
	dir := scriptDir(t)
	mustCreateTopic(t, b, "post.office", 3)
	cl := b.Client()
	adm := kadm.NewClient(cl)
	produceValues(t, cl, "post.office", "a", "b", "c", "d", "e", "f")
	mustOK(t, script(t, dir, "kafka-console-consumer.sh", "", "--bootstrap-server", b.Addr, "--topic", "post.office",
		"--group", "mailroom", "--from-beginning", "--max-messages", "6"), "consume as mailroom")
	ends := endOffsets(t, adm, "post.office")
	kcg := func(args ...string) result {
		return script(t, dir, "kafka-consumer-groups.sh", "", append([]string{"--bootstrap-server", b.Addr}, args...)...)
	}

	r := kcg("--list")
	mustOK(t, r, "list")
	if !slices.Contains(lines(r.stdout), "mailroom") {
		t.Errorf("--list = %q, want mailroom", r.stdout)
	}

	r = kcg("--describe", "--group", "mailroom")
	mustOK(t, r, "describe")
	want := "\n" + kafkaRow("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID")
	for p := range int32(3) {
		if ends[p] > 0 {
			want += "\n" + kafkaRow("mailroom", "post.office", p, ends[p], ends[p], 0, "-", "-", "-")
		}
	}
	want += "\n"
	if r.stdout != want {
		t.Errorf("describe stdout:\n%q\nwant:\n%q", r.stdout, want)
	}
	if r.stderr != "\nConsumer group 'mailroom' has no active members.\n" {
		t.Errorf("describe stderr = %q", r.stderr)
	}

	before := committed(t, adm, "mailroom", "post.office")
	planWant := "\n" + fmt.Sprintf("%-15s %-15s %-10s %s", "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET")
	for p := range 3 {
		planWant += "\n" + fmt.Sprintf("%-15s %-15s %-10d %d", "mailroom", "post.office", p, 0)
	}
	planWant += "\n"
	for _, mode := range []string{"", "--dry-run"} {
		args := []string{"--reset-offsets", "--group", "mailroom", "--topic", "post.office", "--to-earliest"}
		if mode != "" {
			args = append(args, mode)
		}
		r = kcg(args...)
		mustOK(t, r, "reset "+mode)
		if r.stdout != planWant {
			t.Errorf("reset %s stdout:\n%q\nwant:\n%q", mode, r.stdout, planWant)
		}
		if hasWarn := strings.HasPrefix(r.stderr, "WARN: No action will be performed as the --execute option is missing."); hasWarn != (mode == "") {
			t.Errorf("reset %s stderr = %q", mode, r.stderr)
		}
		if got := committed(t, adm, "mailroom", "post.office"); !mapsEqual(got, before) {
			t.Errorf("after reset %s committed = %v, want unchanged %v", mode, got, before)
		}
	}

	r = kcg("--reset-offsets", "--group", "mailroom", "--topic", "post.office", "--to-earliest", "--execute")
	mustOK(t, r, "reset --execute")
	if r.stdout != planWant {
		t.Errorf("reset --execute stdout:\n%q\nwant:\n%q", r.stdout, planWant)
	}
	if got := committed(t, adm, "mailroom", "post.office"); !mapsEqual(got, map[int32]int64{0: 0, 1: 0, 2: 0}) {
		t.Errorf("after --execute committed = %v, want all 0", got)
	}

	r = kcg("--reset-offsets", "--group", "mailroom", "--topic", "post.office:1", "--shift-by", "1", "--execute")
	mustOK(t, r, "reset --shift-by 1")
	wantP1 := min(int64(1), ends[1])
	if got := committed(t, adm, "mailroom", "post.office")[1]; got != wantP1 {
		t.Errorf("after --shift-by 1 partition 1 committed = %d, want %d", got, wantP1)
	}

	r = kcg("--delete", "--group", "mailroom")
	mustOK(t, r, "delete")
	if r.stdout != "Deletion of requested consumer groups ('mailroom') was successful.\n" {
		t.Errorf("delete stdout = %q", r.stdout)
	}
	r = kcg("--describe", "--group", "mailroom")
	if r.code != 1 || r.stderr != "\nError: Consumer group 'mailroom' does not exist.\n" {
		t.Errorf("describe deleted group: exit %d stderr %q, want 1 and Kafka's 'does not exist'", r.code, r.stderr)
	}
}

func mapsEqual(a, b map[int32]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// TestConsumerGroupsRefusesToResetALiveGroup: while a console consumer is
// in the group, describe shows it as the owner of every partition and
// --reset-offsets refuses with Kafka's message and exit status 1.
func TestConsumerGroupsRefusesToResetALiveGroup(t *testing.T) {
	b := samsatest.Start(t)
	dir := scriptDir(t)
	mustCreateTopic(t, b, "post.office", 2)
	cl := b.Client()
	adm := kadm.NewClient(cl)
	produceValues(t, cl, "post.office", "x")
	p := start(t, filepath.Join(dir, "kafka-console-consumer.sh"), "--bootstrap-server", b.Addr,
		"--topic", "post.office", "--group", "live", "--from-beginning")
	samsatest.Eventually(t, 30*time.Second, "group live to be stable with one member", func() bool {
		dgs, err := adm.DescribeGroups(samsatest.Context(t, 5*time.Second), "live")
		return err == nil && dgs["live"].State == "Stable" && len(dgs["live"].Members) == 1
	})
	kcg := func(args ...string) result {
		return script(t, dir, "kafka-consumer-groups.sh", "", append([]string{"--bootstrap-server", b.Addr}, args...)...)
	}
	r := kcg("--describe", "--group", "live")
	mustOK(t, r, "describe live group")
	rows := lines(strings.TrimPrefix(r.stdout, "\n"))
	if len(rows) != 3 {
		t.Fatalf("describe: %d lines, want header + 2 partitions:\n%s", len(rows), r.stdout)
	}
	for _, row := range rows[1:] {
		if !strings.Contains(row, "console-consumer-") || !strings.HasSuffix(row, " console-consumer") {
			t.Errorf("row %q: want the member's id and client id console-consumer", row)
		}
	}

	r = kcg("--reset-offsets", "--group", "live", "--all-topics", "--to-earliest", "--execute")
	if r.code != 1 {
		t.Errorf("reset of a live group exited %d, want 1", r.code)
	}
	if want := "Error: Assignments can only be reset if the group 'live' is inactive, but the current state is Stable."; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}
	samsatest.Eventually(t, 30*time.Second, "the consumer to print x", func() bool {
		return p.stdout.String() == "x\n"
	})
	p.interrupt()
	if code := p.wait(); code != 0 {
		t.Errorf("consumer exit %d after SIGINT, want 0", code)
	}
	// It committed what it printed before leaving.
	var total int64
	for _, o := range committed(t, adm, "live", "post.office") {
		total += o
	}
	if total != 1 {
		t.Errorf("committed offsets add up to %d, want 1", total)
	}
}
