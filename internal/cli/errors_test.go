package cli

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/samsa-streaming/samsa/internal/broker"
	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestUnreachableBrokerSaysWhatToDo: every command, samsa's or Kafka's,
// fails with exit 1 and the same hint when no broker listens.
func TestUnreachableBrokerSaysWhatToDo(t *testing.T) {
	dir := scriptDir(t)
	addr := deadAddr(t)
	want := "cannot reach " + addr + ": is `samsa serve` running? It listens on 127.0.0.1:9092 unless started with --listen; set --bootstrap-server/--brokers to its address"
	kafka := func(name string, args ...string) func() result {
		return func() result {
			return script(t, dir, name, "x\n", append([]string{"--bootstrap-server", addr}, args...)...)
		}
	}
	own := func(args ...string) func() result {
		return func() result { return samsa(t, "x\n", append(args, "--brokers", addr)...) }
	}
	tests := []struct {
		name string
		run  func() result
	}{
		{"kafka-topics", kafka("kafka-topics.sh", "--list")},
		{"kafka-console-producer", kafka("kafka-console-producer.sh", "--topic", "t")},
		{"kafka-console-consumer", kafka("kafka-console-consumer.sh", "--topic", "t")},
		{"kafka-consumer-groups", kafka("kafka-consumer-groups.sh", "--list")},
		{"topic list", own("topic", "list")},
		{"produce", own("produce", "t")},
		{"consume", own("consume", "t")},
		{"group list", own("group", "list")},
		{"cluster info", own("cluster", "info")},
		{"SAMSA_BROKERS", func() result {
			return runIn(t, []string{"SAMSA_BROKERS=" + addr}, "", samsatest.BuildBinary(t), "topic", "list")
		}},
		{"-X brokers=", func() result { return samsa(t, "", "topic", "list", "-X", "brokers="+addr) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.run()
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr = %q, want %q", r.stderr, want)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
}

// TestUnknownTopicSaysWhatToDo: commands that need an existing topic exit 1
// and say so.
func TestUnknownTopicSaysWhatToDo(t *testing.T) {
	b := samsatest.Start(t)
	dir := scriptDir(t)
	tests := []struct {
		name string
		run  func() result
		want string
	}{
		{"kafka-topics describe", func() result {
			return script(t, dir, "kafka-topics.sh", "", "--bootstrap-server", b.Addr, "--describe", "--topic", "nope")
		}, "Topic 'nope' does not exist as expected\n"},
		{"kafka-topics alter", func() result {
			return script(t, dir, "kafka-topics.sh", "", "--bootstrap-server", b.Addr, "--alter", "--topic", "nope", "--partitions", "4")
		}, "Topic 'nope' does not exist as expected\n"},
		{"kafka-topics delete", func() result {
			return script(t, dir, "kafka-topics.sh", "", "--bootstrap-server", b.Addr, "--delete", "--topic", "nope")
		}, "Topic 'nope' does not exist as expected\n"},
		{"kafka-console-consumer", func() result {
			return script(t, dir, "kafka-console-consumer.sh", "", "--bootstrap-server", b.Addr, "--topic", "nope")
		}, `topic "nope" not found; see: samsa topic list`},
		{"samsa topic describe", func() result { return samsa(t, "", "topic", "describe", "nope", "--brokers", b.Addr) },
			`samsa: topic "nope" not found; see: samsa topic list` + "\n"},
		{"samsa topic delete", func() result { return samsa(t, "", "topic", "delete", "nope", "--brokers", b.Addr) },
			`samsa: topic "nope" not found; see: samsa topic list` + "\n"},
		{"samsa consume", func() result { return samsa(t, "", "consume", "nope", "--brokers", b.Addr) },
			`samsa: topic "nope" not found; see: samsa topic list` + "\n"},
		{"samsa group seek", func() result {
			return samsa(t, "", "group", "seek", "g", "--to", "earliest", "--topic", "nope", "--brokers", b.Addr)
		}, `samsa: topic "nope" not found; see: samsa topic list` + "\n"},
		{"samsa group describe", func() result { return samsa(t, "", "group", "describe", "nope", "--brokers", b.Addr) },
			`samsa: group "nope" not found; see: samsa group list` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.run()
			if r.code != 1 {
				t.Errorf("exit %d, want 1; stderr %q", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr = %q, want %q", r.stderr, tt.want)
			}
		})
	}
}

// TestTopicAlterRefusesFewerPartitions: samsa's own alter says partitions
// only grow, with the broker's reason, and exits 1.
func TestTopicAlterRefusesFewerPartitions(t *testing.T) {
	b := samsatest.Start(t)
	mustOK(t, samsa(t, "", "topic", "create", "post.office", "--brokers", b.Addr), "create")
	mustOK(t, samsa(t, "", "topic", "alter", "post.office", "--partitions", "5", "--brokers", b.Addr), "alter to 5")
	r := samsa(t, "", "topic", "alter", "post.office", "--partitions", "3", "--brokers", b.Addr)
	want := `samsa: alter topic "post.office": The topic post.office currently has 5 partition(s); 3 would not be an increase. (partitions can only be increased)` + "\n"
	if r.code != 1 || r.stderr != want {
		t.Errorf("exit %d stderr %q, want 1 and %q", r.code, r.stderr, want)
	}
}

// TestSamsaUsageErrorsExit2 checks wrong command lines of samsa's own
// commands: exit 2, the problem and where to get help on stderr.
func TestSamsaUsageErrorsExit2(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"nosuch"}, `unknown command "nosuch" for "samsa"`},
		{[]string{"topic", "create"}, "accepts 1 arg(s), received 0"},
		{[]string{"topic", "create", "x", "--partitions", "zero"}, `invalid argument "zero"`},
		{[]string{"topic", "list", "--output", "yaml"}, `--output "yaml": use table or json`},
		{[]string{"consume", "t", "--offset", "12"}, "give the partition too (--partition)"},
		{[]string{"group", "seek", "g"}, "give exactly one of --to, --shift-by or --by-duration"},
		{[]string{"produce", "t", "--acks", "2"}, `--acks "2": use all, 1 or 0`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := samsa(t, "", append(tt.args, "--brokers", "127.0.0.1:1")...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "--help' for usage.") {
				t.Errorf("stderr = %q, want %q and a pointer to --help", r.stderr, tt.want)
			}
		})
	}
}

// TestProduceToMissingTopicWithoutAutoCreateSaysWhatToDo: when the broker
// does not create topics on first use, both producers fail with a hint.
func TestProduceToMissingTopicWithoutAutoCreateSaysWhatToDo(t *testing.T) {
	b := samsatest.Start(t, func(c *broker.Config) { c.AutoCreateTopics = false })
	dir := scriptDir(t)
	want := `topic "nope" does not exist and the broker does not create topics on first use; create it with: samsa topic create nope`
	for name, r := range map[string]result{
		"samsa produce":          samsa(t, "x\n", "produce", "nope", "--brokers", b.Addr),
		"kafka-console-producer": script(t, dir, "kafka-console-producer.sh", "x\n", "--bootstrap-server", b.Addr, "--topic", "nope"),
	} {
		if r.code != 1 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "error: line 1 not produced") {
			t.Errorf("%s: exit %d stderr %q, want 1 and %q", name, r.code, r.stderr, want)
		}
	}
}

// TestUnreachableLabPortSaysWhy: the lab's text connects to
// localhost:19092, its Docker port; the error says so.
func TestUnreachableLabPortSaysWhy(t *testing.T) {
	err := unreachable([]string{"localhost:19092"}, errors.New("connection refused"))
	if !strings.Contains(err.Error(), "19092 is the port of the lab's Kafka in Docker") || !errors.Is(err, errUnreachable) {
		t.Errorf("error = %q", err)
	}
}
