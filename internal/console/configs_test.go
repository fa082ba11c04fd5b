package console

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// configOf returns the config key of topic as GET /api/topics/{topic}
// shows it.
func configOf(t *testing.T, srv *httptest.Server, topic, key string) (ConfigEntry, bool) {
	t.Helper()
	var v topicView
	mustCall(t, srv, 200, "GET", "/api/topics/"+topic, nil, &v)
	if v.ConfigsErr != "" {
		t.Fatalf("configs of %s: %s", topic, v.ConfigsErr)
	}
	for _, c := range v.Configs {
		if c.Key == key {
			return c, true
		}
	}
	return ConfigEntry{}, false
}

func TestConfigsSetShowsOverrideAndResetRestoresDefault(t *testing.T) {
	b := samsatest.Start(t)
	srv := startConsole(t, b.Addr)
	mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: "post.office"}, nil)
	def, ok := configOf(t, srv, "post.office", "retention.ms")
	if !ok || !def.Default || def.Source == "DYNAMIC_TOPIC_CONFIG" {
		t.Fatalf("retention.ms of a new topic = %+v (found %v), want a default", def, ok)
	}

	var res actionResult
	mustCall(t, srv, 200, "POST", "/api/topics/post.office/configs",
		configsRequest{Set: map[string]string{"retention.ms": "3600000", "max.message.bytes": "2000000"}}, &res)
	if want := "Updated configs of topic post.office: max.message.bytes=2000000, retention.ms=3600000"; res.Message != want {
		t.Errorf("message = %q, want %q", res.Message, want)
	}
	c, _ := configOf(t, srv, "post.office", "retention.ms")
	if c.Value != "3600000" || c.Default || c.Source != "DYNAMIC_TOPIC_CONFIG" {
		t.Errorf("retention.ms after set = %+v, want the override 3600000", c)
	}

	// Set one and reset another in the same request.
	mustCall(t, srv, 200, "POST", "/api/topics/post.office/configs",
		configsRequest{Set: map[string]string{"retention.ms": "7200000"}, Delete: []string{"max.message.bytes"}}, &res)
	if want := "Updated configs of topic post.office: retention.ms=7200000; reset max.message.bytes"; res.Message != want {
		t.Errorf("message = %q, want %q", res.Message, want)
	}
	if c, _ := configOf(t, srv, "post.office", "max.message.bytes"); !c.Default {
		t.Errorf("max.message.bytes after reset = %+v, want the default", c)
	}

	mustCall(t, srv, 200, "POST", "/api/topics/post.office/configs", configsRequest{Delete: []string{"retention.ms"}}, &res)
	if want := "Updated configs of topic post.office: reset retention.ms"; res.Message != want {
		t.Errorf("message = %q, want %q", res.Message, want)
	}
	if c, _ := configOf(t, srv, "post.office", "retention.ms"); c != def {
		t.Errorf("retention.ms after reset = %+v, want the default %+v", c, def)
	}

	// The Configs tab offers Save, Reset to default and the new-config row.
	mustCall(t, srv, 200, "POST", "/api/topics/post.office/configs", configsRequest{Set: map[string]string{"retention.ms": "3600000"}}, nil)
	page := mustCall(t, srv, 200, "GET", "/topics/post.office?tab=configs", nil, nil)
	for _, want := range []string{`data-config-key="retention.ms"`, `data-config-new-key`, `data-config-action="reset"`, `data-config-action="save"`, `value="3600000"`} {
		if !strings.Contains(page, want) {
			t.Errorf("configs tab lacks %s", want)
		}
	}
}

func TestConfigsErrorsComeFromTheBroker(t *testing.T) {
	b := samsatest.Start(t)
	srv := startConsole(t, b.Addr)
	mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: "t"}, nil)
	for _, tc := range []struct {
		name string
		path string
		body any
		code int
		want string // in the error
	}{
		{"unknown key", "/api/topics/t/configs", configsRequest{Set: map[string]string{"foo": "1"}}, 422, "foo"},
		{"bad value", "/api/topics/t/configs", configsRequest{Set: map[string]string{"retention.ms": "soon"}}, 422, "soon"},
		{"unknown topic", "/api/topics/nope/configs", configsRequest{Set: map[string]string{"retention.ms": "1"}}, 404, "nope"},
		{"empty body", "/api/topics/t/configs", nil, 400, "nothing to change"},
		{"both empty", "/api/topics/t/configs", configsRequest{Set: map[string]string{}, Delete: []string{}}, 400, "nothing to change"},
		{"empty key", "/api/topics/t/configs", configsRequest{Set: map[string]string{"": "1"}}, 400, "needs a key"},
		{"unknown field", "/api/topics/t/configs", map[string]any{"add": map[string]string{"a": "1"}}, 400, "unknown field"},
	} {
		var e apiError
		code, raw := call(t, srv, "POST", tc.path, tc.body, &e)
		if code != tc.code || !strings.Contains(e.Error, tc.want) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, code, raw, tc.code, tc.want)
		}
	}
	var e apiError
	call(t, srv, "POST", "/api/topics/t/configs", configsRequest{Set: map[string]string{"foo": "1"}}, &e)
	if !strings.Contains(e.Error, "INVALID_CONFIG") {
		t.Errorf("unknown key error = %q, want the broker's INVALID_CONFIG and its message", e.Error)
	}
	if c, _ := configOf(t, srv, "t", "retention.ms"); !c.Default {
		t.Errorf("retention.ms after failed alters = %+v, want the default", c)
	}
}

func TestConfigsReadOnlyRefusesButPreviewsBothCommands(t *testing.T) {
	b := samsatest.Start(t)
	if _, err := b.Admin().CreateTopic(samsatest.Context(t, 10*time.Second), 1, 1, nil, "post.office"); err != nil {
		t.Fatal(err)
	}
	srv := startConsole(t, b.Addr, func(c *Config) { c.ReadOnly = true })
	body := configsRequest{Set: map[string]string{"retention.ms": "3600000", "cleanup.policy": "compact,delete"}, Delete: []string{"max.message.bytes"}}
	var e apiError
	mustCall(t, srv, 403, "POST", "/api/topics/post.office/configs", body, &e)
	if !strings.Contains(e.Error, "read-only") {
		t.Errorf("error = %q", e.Error)
	}
	var res actionResult
	mustCall(t, srv, 200, "POST", "/api/topics/post.office/configs?cli=1", body, &res)
	if want := "samsa topic alter post.office --config cleanup.policy=compact,delete --config retention.ms=3600000 --delete-config max.message.bytes --brokers " + b.Addr; res.CLI != want {
		t.Errorf("cli = %s\nwant  %s", res.CLI, want)
	}
	if want := "kafka-configs.sh --bootstrap-server " + b.Addr + " --entity-type topics --entity-name post.office --alter --add-config 'cleanup.policy=[compact,delete],retention.ms=3600000' --delete-config max.message.bytes"; res.KafkaCLI != want {
		t.Errorf("kafka_cli = %s\nwant  %s", res.KafkaCLI, want)
	}
	if res.Message != "" {
		t.Errorf("a preview answered a message: %q", res.Message)
	}
	for _, k := range []string{"retention.ms", "cleanup.policy"} {
		if c, _ := configOf(t, srv, "post.office", k); !c.Default {
			t.Errorf("%s = %+v after a refused alter and a preview, want the default", k, c)
		}
	}
	page := mustCall(t, srv, 200, "GET", "/topics/post.office?tab=configs", nil, nil)
	if strings.Contains(page, "data-config-action") || !strings.Contains(page, `data-config-key="retention.ms"`) {
		t.Errorf("read-only configs tab offers edits or lacks the rows")
	}
}

// TestCLICommandsRunWithSamsaTools runs the commands the console previews
// (?cli=1), both forms, in a shell against a broker, with samsa's binary
// answering to the kafka-*.sh names, and checks that each did what the
// console action does.
func TestCLICommandsRunWithSamsaTools(t *testing.T) {
	sh := samsatest.RequireTool(t, "sh", "dash")
	bin := samsatest.BuildBinary(t)
	dir := t.TempDir()
	for _, name := range []string{"samsa", "kafka-topics.sh", "kafka-console-producer.sh", "kafka-consumer-groups.sh", "kafka-configs.sh"} {
		if err := os.Symlink(bin, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	b := samsatest.Start(t)
	srv := startConsole(t, b.Addr)
	adm := b.Admin()
	ctx := samsatest.Context(t, 60*time.Second)

	preview := func(method, path string, body any) actionResult {
		t.Helper()
		var res actionResult
		mustCall(t, srv, 200, method, path+"?cli=1", body, &res)
		if res.CLI == "" || res.KafkaCLI == "" {
			t.Fatalf("%s %s?cli=1 = %+v, want both commands", method, path, res)
		}
		return res
	}
	run := func(cmdline string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, sh, "-c", cmdline)
		cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", cmdline, err, out)
		}
	}

	// Create with kafka-topics; a decoy that the name's "." would match
	// as a regular expression must survive the delete at the end.
	run(preview("POST", "/api/topics", createTopicRequest{Name: "post.office", Partitions: 2, Configs: map[string]string{"retention.ms": "3600000"}}).KafkaCLI)
	run(preview("POST", "/api/topics", createTopicRequest{Name: "post-office", Partitions: 1}).CLI)
	if tp, ok := findTopic(t, srv, "post.office"); !ok || tp.Partitions != 2 {
		t.Fatalf("post.office = %+v (exists %v), want 2 partitions", tp, ok)
	}
	if c, _ := configOf(t, srv, "post.office", "retention.ms"); c.Value != "3600000" || c.Default {
		t.Errorf("retention.ms = %+v, want the override from --config", c)
	}
	run(preview("POST", "/api/topics/post.office/partitions", partitionsRequest{Count: 3}).KafkaCLI)
	if tp, _ := findTopic(t, srv, "post.office"); tp.Partitions != 3 {
		t.Errorf("partitions after kafka-topics --alter = %d, want 3", tp.Partitions)
	}

	// Produce with both forms; the records must arrive exactly.
	sent := []produceRequest{
		{Key: "k1", Value: `{"to": "it's me", "at": "12:30"}`},
		{Key: "k2", Value: "hello world", Headers: []Header{{"h1", "12:30"}, {"h2", ""}}},
		{Value: `C:\temp -n`, Headers: []Header{{"trace", "x y"}}},
	}
	for _, req := range sent {
		res := preview("POST", "/api/topics/post.office/messages", req)
		run(res.KafkaCLI)
		run(res.CLI)
	}
	var v messagesView
	mustCall(t, srv, 200, "GET", "/api/topics/post.office/messages?limit=100", nil, &v)
	for _, req := range sent {
		n := 0
		for _, m := range v.Messages {
			if m.KeyNull == (req.Key == "") && m.Key == req.Key && m.Value == req.Value && slices.Equal(m.Headers, req.Headers) {
				n++
			}
		}
		if n != 2 {
			t.Errorf("record %+v arrived %d times, want 2 (one per command); got %+v", req, n, v.Messages)
		}
	}

	// Configs with kafka-configs (a list value in brackets) and samsa.
	run(preview("POST", "/api/topics/post.office/configs", configsRequest{Set: map[string]string{"cleanup.policy": "compact,delete"}, Delete: []string{"retention.ms"}}).KafkaCLI)
	if c, _ := configOf(t, srv, "post.office", "cleanup.policy"); c.Value != "compact,delete" || c.Default {
		t.Errorf("cleanup.policy = %+v, want the override compact,delete", c)
	}
	if c, _ := configOf(t, srv, "post.office", "retention.ms"); !c.Default {
		t.Errorf("retention.ms = %+v, want the default after --delete-config", c)
	}
	run(preview("POST", "/api/topics/post.office/configs", configsRequest{Set: map[string]string{"retention.ms": "60000"}, Delete: []string{"cleanup.policy"}}).CLI)
	if c, _ := configOf(t, srv, "post.office", "retention.ms"); c.Value != "60000" || c.Default {
		t.Errorf("retention.ms = %+v, want the override 60000", c)
	}

	// Reset offsets of an empty group, then delete it. (The group actions
	// are previewed by consumers.go; here their kafka builders are run.)
	cl := &cluster{brokers: []string{b.Addr}}
	var offs kadm.Offsets
	for p := range int32(3) {
		offs.Add(kadm.Offset{Topic: "post.office", Partition: p, At: 0, LeaderEpoch: -1})
	}
	if err := adm.CommitAllOffsets(ctx, "mailroom", offs); err != nil {
		t.Fatalf("commit: %v", err)
	}
	committed := func() int64 {
		t.Helper()
		rs, err := adm.FetchOffsets(ctx, "mailroom")
		if err != nil || rs.Error() != nil {
			t.Fatalf("fetch offsets: %v %v", err, rs.Error())
		}
		var sum int64
		rs.Each(func(o kadm.OffsetResponse) { sum += o.At })
		return sum
	}
	run(cl.kafkaReset("mailroom", resetRequest{To: "latest"}, time.Time{}))
	if got := committed(); got != int64(2*len(sent)) {
		t.Errorf("committed after --to-latest = %d, want %d", got, 2*len(sent))
	}
	run(cl.kafkaReset("mailroom", resetRequest{To: "timestamp", Topic: "post.office"}, time.Date(2000, 1, 1, 1, 0, 0, 0, time.FixedZone("CET", 3600))))
	if got := committed(); got != 0 {
		t.Errorf("committed after --to-datetime in 2000 = %d, want 0", got)
	}
	run(cl.kafkaDeleteGroup("mailroom"))
	if gs, err := adm.ListGroups(ctx); err != nil || slices.Contains(gs.Groups(), "mailroom") {
		t.Errorf("groups after kafka-consumer-groups --delete = %v (err %v)", gs.Groups(), err)
	}

	run(preview("DELETE", "/api/topics/post.office", nil).KafkaCLI)
	samsatest.Eventually(t, 10*time.Second, "post.office deleted", func() bool {
		_, ok := findTopic(t, srv, "post.office")
		return !ok
	})
	if _, ok := findTopic(t, srv, "post-office"); !ok {
		t.Errorf("deleting post.office with kafka-topics also deleted post-office")
	}
}
