package cli

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// TestKafkaTopicsRunsLabStep3 types LAB.md step 3 as a student does, with
// Kafka's script name, and checks the lines Kafka prints byte for byte.
func TestKafkaTopicsRunsLabStep3(t *testing.T) {
	b := samsatest.Start(t)
	dir := scriptDir(t)
	kt := func(args ...string) result {
		return script(t, dir, "kafka-topics.sh", "", append([]string{"--bootstrap-server", b.Addr}, args...)...)
	}

	r := kt("--create", "--topic", "post.office")
	mustOK(t, r, "create")
	if r.stdout != "Created topic post.office.\n" {
		t.Errorf("create stdout = %q, want %q", r.stdout, "Created topic post.office.\n")
	}
	wantWarn := "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.\n"
	if r.stderr != wantWarn {
		t.Errorf("create stderr = %q, want Kafka's warning %q", r.stderr, wantWarn)
	}

	r = kt("--describe", "--topic", "post.office")
	mustOK(t, r, "describe")
	ls := lines(r.stdout)
	if len(ls) != 4 {
		t.Fatalf("describe printed %d lines, want header + 3 partitions:\n%s", len(ls), r.stdout)
	}
	header := regexp.MustCompile(`^Topic: post\.office\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: .*$`)
	if !header.MatchString(ls[0]) {
		t.Errorf("describe header = %q, want Kafka's layout with 3 partitions and replication factor 1", ls[0])
	}
	for p := range 3 {
		want := fmt.Sprintf("\tTopic: post.office\tPartition: %d\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: N/A\tLastKnownElr: N/A", p)
		if ls[p+1] != want {
			t.Errorf("describe partition line %d = %q, want %q", p, ls[p+1], want)
		}
	}

	r = kt("--list")
	mustOK(t, r, "list")
	if !slices.Contains(lines(r.stdout), "post.office") {
		t.Errorf("list = %q, want post.office in it", r.stdout)
	}

	r = kt("--delete", "--topic", "post.office")
	mustOK(t, r, "delete")
	if r.stdout != "" {
		t.Errorf("delete stdout = %q, want nothing (as Kafka)", r.stdout)
	}
	if r = kt("--list"); slices.Contains(lines(r.stdout), "post.office") {
		t.Errorf("list after delete = %q, still has post.office", r.stdout)
	}

	mustOK(t, kt("--create", "--topic", "post.office"), "recreate")
	r = script(t, dir, "kafka-topics.sh", "", "--alter", "--topic", "post.office", "--partitions", "5", "--bootstrap-server", b.Addr)
	mustOK(t, r, "alter to 5")
	if r.stdout != "" || r.stderr != "" {
		t.Errorf("alter printed stdout %q stderr %q, want nothing", r.stdout, r.stderr)
	}
	r = kt("--describe", "--topic", "post.office")
	if !strings.Contains(r.stdout, "\tPartitionCount: 5\t") || len(lines(r.stdout)) != 6 {
		t.Errorf("describe after alter:\n%s\nwant 5 partitions", r.stdout)
	}

	r = kt("--alter", "--topic", "post.office", "--partitions", "3")
	if r.code != 1 {
		t.Errorf("decrease exited %d, want 1", r.code)
	}
	wantErr := "Error while executing topic command : The topic post.office currently has 5 partition(s); 3 would not be an increase.\n"
	if r.stderr != wantErr {
		t.Errorf("decrease stderr = %q, want %q", r.stderr, wantErr)
	}
}

// TestKafkaScriptNamesWorkWithoutLinksAndWithoutSh checks the other ways
// to call a script: `samsa kafka-topics`, `samsa kafka-topics.sh`, and a
// link without .sh.
func TestKafkaScriptNamesWorkWithoutLinksAndWithoutSh(t *testing.T) {
	b := samsatest.Start(t)
	dir := scriptDir(t)
	mustOK(t, samsa(t, "", "kafka-topics", "--bootstrap-server", b.Addr, "--create", "--topic", "a", "--partitions", "2"), "samsa kafka-topics")
	mustOK(t, samsa(t, "", "kafka-topics.sh", "--bootstrap-server", b.Addr, "--create", "--topic", "b"), "samsa kafka-topics.sh")
	r := script(t, dir, "kafka-topics", "", "--bootstrap-server", b.Addr, "--list")
	mustOK(t, r, "kafka-topics link")
	if got := lines(r.stdout); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("list = %q, want [a b]", got)
	}
	r = script(t, dir, "kafka-topics", "", "--bootstrap-server", b.Addr, "--describe", "--topic", "a")
	if !strings.HasPrefix(r.stdout, "Topic: a\tTopicId: ") || !strings.Contains(r.stdout, "\tPartitionCount: 2\t") {
		t.Errorf("describe a = %q", r.stdout)
	}
}

// TestKafkaTopicsUsageErrorsExit2 checks that wrong command lines exit 2
// with Kafka's message.
func TestKafkaTopicsUsageErrorsExit2(t *testing.T) {
	dir := scriptDir(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no action", []string{"--topic", "x"}, "Command must include exactly one action: --list, --describe, --create, --alter or --delete"},
		{"two actions", []string{"--create", "--list", "--topic", "x"}, "exactly one action"},
		{"create without topic", []string{"--create"}, `Missing required argument "[topic]"`},
		{"alter without partitions", []string{"--alter", "--topic", "x"}, `Missing required argument "[partitions]"`},
		{"replication factor on alter", []string{"--alter", "--topic", "x", "--partitions", "4", "--replication-factor", "2"}, `"[replication-factor]"`},
		{"unknown flag", []string{"--list", "--frobnicate"}, "unknown flag: --frobnicate"},
		{"unsupported flag", []string{"--create", "--topic", "x", "--replica-assignment", "1:2"}, "--replica-assignment is not supported by samsa"},
		{"positional argument", []string{"--list", "extra"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := script(t, dir, "kafka-topics.sh", "", append([]string{"--bootstrap-server", "127.0.0.1:1"}, tt.args...)...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, tt.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
}

func TestTopicMatcherIsKafkasWholeNameRegex(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"post.office", "post.office", true},
		{"post.office", "postXoffice", true}, // '.' is a regex wildcard, as in Kafka
		{"post.office", "post.office2", false},
		{"post.*", "post.office", true},
		{"orders|payments", "payments", true},
		{"a[", "a[", true}, // not a regex: exact match only
		{"a[", "a", false},
	}
	for _, tt := range tests {
		if got := topicMatcher(tt.pattern)(tt.name); got != tt.want {
			t.Errorf("topicMatcher(%q)(%q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}
