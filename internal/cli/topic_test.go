package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// TestTopicCommandsCreateListDescribeDelete runs samsa's own topic
// commands in table and JSON output.
func TestTopicCommandsCreateListDescribeDelete(t *testing.T) {
	b := samsatest.Start(t)
	st := func(args ...string) result {
		return samsa(t, "", append(append([]string{"topic"}, args...), "--brokers", b.Addr)...)
	}

	r := st("create", "orders", "-p", "2", "-c", "retention.ms=3600000")
	mustOK(t, r, "create")
	if r.stdout != "Created topic orders.\n" || r.stderr != "" {
		t.Errorf("create: stdout %q stderr %q", r.stdout, r.stderr)
	}
	r = st("create", "post.office")
	mustOK(t, r, "create post.office")
	if !strings.HasPrefix(r.stderr, "WARNING: Due to limitations in metric names") {
		t.Errorf("create post.office stderr = %q, want Kafka's warning", r.stderr)
	}
	r = st("create", "orders")
	if r.code != 1 || !strings.Contains(r.stderr, `topic "orders" already exists; see: samsa topic describe orders`) {
		t.Errorf("create again: exit %d stderr %q", r.code, r.stderr)
	}
	mustOK(t, st("create", "orders", "--if-not-exists"), "create --if-not-exists")

	produceValues(t, b.Client(), "orders", "a", "b", "c")

	r = st("list")
	mustOK(t, r, "list")
	want := []string{"TOPIC        PARTITIONS  REPLICATION-FACTOR  MESSAGES", "orders       2           1                   3", "post.office  3           1                   0"}
	if got := lines(r.stdout); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("list:\n%s\nwant:\n%s", r.stdout, strings.Join(want, "\n"))
	}

	r = st("describe", "orders", "-o", "json")
	mustOK(t, r, "describe json")
	var dts []describedTopic
	if err := json.Unmarshal([]byte(r.stdout), &dts); err != nil {
		t.Fatalf("describe json: %v\n%s", err, r.stdout)
	}
	if len(dts) != 1 || len(dts[0].Partitions) != 2 || dts[0].ReplicationFactor != 1 || dts[0].Configs["retention.ms"] != "3600000" || len(dts[0].ID) != 22 {
		t.Fatalf("describe json = %+v", dts)
	}
	var msgs int64
	for _, p := range dts[0].Partitions {
		if p.Leader != 1 || len(p.ISR) != 1 || p.EndOffset-p.StartOffset != p.Messages {
			t.Errorf("partition %+v", p)
		}
		msgs += p.Messages
	}
	if msgs != 3 {
		t.Errorf("messages = %d, want 3", msgs)
	}

	r = st("describe", "orders")
	mustOK(t, r, "describe")
	if !strings.Contains(r.stdout, "Topic: orders  ID: "+dts[0].ID+"  Partitions: 2  Replication factor: 1  Messages: 3\n") ||
		!strings.Contains(r.stdout, "retention.ms=3600000") ||
		!strings.Contains(r.stdout, "PARTITION  LEADER  REPLICAS  ISR  START-OFFSET  END-OFFSET  MESSAGES\n") {
		t.Errorf("describe:\n%s", r.stdout)
	}

	mustOK(t, st("alter", "orders", "--partitions", "4", "-c", "retention.ms=60000"), "alter")
	r = st("describe", "orders", "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &dts); err != nil || len(dts[0].Partitions) != 4 || dts[0].Configs["retention.ms"] != "60000" {
		t.Errorf("after alter: %s (%v)", r.stdout, err)
	}

	r = st("delete", "orders", "post.office")
	mustOK(t, r, "delete")
	if r.stdout != "Deleted topic orders.\nDeleted topic post.office.\n" {
		t.Errorf("delete stdout = %q", r.stdout)
	}
	r = st("list", "-o", "json")
	if strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("list after delete = %q, want []", r.stdout)
	}
}

// TestClusterInfoShowsBrokersAndClusterID checks `samsa cluster info`.
func TestClusterInfoShowsBrokersAndClusterID(t *testing.T) {
	b := samsatest.Start(t)
	r := samsa(t, "", "cluster", "info", "--brokers", b.Addr, "-o", "json")
	mustOK(t, r, "cluster info")
	var info struct {
		ClusterID  string          `json:"cluster_id"`
		Controller int32           `json:"controller"`
		Brokers    []clusterBroker `json:"brokers"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &info); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	host, portStr, _ := strings.Cut(b.Addr, ":")
	port, _ := strconv.Atoi(portStr)
	if info.ClusterID == "" || info.Controller != 1 || len(info.Brokers) != 1 || info.Brokers[0].Host != host ||
		info.Brokers[0].NodeID != 1 || int(info.Brokers[0].Port) != port {
		t.Errorf("cluster info = %+v, want one broker at %s", info, b.Addr)
	}
	r = samsa(t, "", "cluster", "info", "--brokers", b.Addr)
	mustOK(t, r, "cluster info table")
	if !strings.HasPrefix(r.stdout, "Cluster ID: "+info.ClusterID+"\n") || !strings.Contains(r.stdout, "BROKER  HOST") {
		t.Errorf("cluster info:\n%s", r.stdout)
	}
}

// TestInstallScriptsLinksKafkaNames: install-scripts makes working links,
// leaves its own links alone on a second run and refuses to overwrite
// other files without --force.
func TestInstallScriptsLinksKafkaNames(t *testing.T) {
	b := samsatest.Start(t)
	dir := filepath.Join(t.TempDir(), "bin")
	r := samsa(t, "", "install-scripts", dir)
	mustOK(t, r, "install-scripts")
	for _, name := range kafkaScriptNames() {
		if _, err := os.Readlink(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if want := len(kafkaScriptNames()); len(lines(r.stderr)) != want {
		t.Errorf("install-scripts reported %q, want %d links", r.stderr, want)
	}
	r = runIn(t, nil, "", filepath.Join(dir, "kafka-topics.sh"), "--bootstrap-server", b.Addr, "--create", "--topic", "linked")
	mustOK(t, r, "linked kafka-topics.sh")
	if r.stdout != "Created topic linked.\n" {
		t.Errorf("stdout = %q", r.stdout)
	}
	r = samsa(t, "", "install-scripts", dir)
	mustOK(t, r, "install-scripts again")
	if r.stderr != "" {
		t.Errorf("second run changed links: %q", r.stderr)
	}
	other := filepath.Join(dir, "kafka-topics")
	if err := os.Remove(other); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if r = samsa(t, "", "install-scripts", dir); r.code != 1 || !strings.Contains(r.stderr, "exists; remove it or use --force") {
		t.Errorf("over a file: exit %d stderr %q", r.code, r.stderr)
	}
	mustOK(t, samsa(t, "", "install-scripts", "--force", dir), "install-scripts --force")
	if _, err := os.Readlink(other); err != nil {
		t.Errorf("--force did not replace the file: %v", err)
	}
}

// TestInstallScriptsRefusesAGoRunBinary: `go run` deletes its binary on
// exit, so links to it would point nowhere.
func TestInstallScriptsRefusesAGoRunBinary(t *testing.T) {
	for exe, want := range map[string]bool{
		"/tmp/go-build1234/b001/exe/samsa": true,
		"/home/u/go/bin/samsa":             false,
		"/work/samsa":                      false,
		"/tmp/go-build1234/b001/samsa":     false,
	} {
		if got := goRunBinary(exe); got != want {
			t.Errorf("goRunBinary(%s) = %v, want %v", exe, got, want)
		}
	}
}
