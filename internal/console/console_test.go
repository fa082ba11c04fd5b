package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/broker"
	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// fastGroups shortens the group coordinator's first-rebalance wait.
func fastGroups(c *broker.Config) { c.Group.InitialRebalanceDelay = 50 * time.Millisecond }

// startConsole serves a console for addr on an httptest server; both are
// closed at cleanup.
func startConsole(t *testing.T, addr string, mod ...func(*Config)) *httptest.Server {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Brokers = []string{addr}
	cfg.Logger = samsatest.TestLogger(t)
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("new console: %v", err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(func() {
		srv.Close()
		c.Close()
	})
	return srv
}

// call makes one request with an optional JSON body, decodes a JSON answer
// into out (if not nil) and returns the status and raw body.
func call(t *testing.T, srv *httptest.Server, method, path string, body, out any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, string(raw)
}

// mustCall is call that fails the test unless the status is want.
func mustCall(t *testing.T, srv *httptest.Server, want int, method, path string, body, out any) string {
	t.Helper()
	code, raw := call(t, srv, method, path, body, out)
	if code != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, raw)
	}
	return raw
}

// produce sends records to topic with franz-go and waits for their acks.
func produce(t *testing.T, cl *kgo.Client, recs ...*kgo.Record) {
	t.Helper()
	ctx := samsatest.Context(t, 10*time.Second)
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// findTopic returns the row of name in GET /api/topics.
func findTopic(t *testing.T, srv *httptest.Server, name string) (Topic, bool) {
	t.Helper()
	var v topicsView
	mustCall(t, srv, 200, "GET", "/api/topics?internal=1", nil, &v)
	for _, tp := range v.Topics {
		if tp.Name == name {
			return tp, true
		}
	}
	return Topic{}, false
}

func TestBrokersAPIShowsBrokerControllerAndDiskUse(t *testing.T) {
	b := samsatest.Start(t)
	srv := startConsole(t, b.Addr)
	mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: "disk"}, nil)
	produce(t, b.Client(kgo.ProducerBatchCompression(kgo.NoCompression())), &kgo.Record{Topic: "disk", Value: bytes.Repeat([]byte("x"), 1000)})
	var v brokersView
	mustCall(t, srv, 200, "GET", "/api/brokers", nil, &v)
	if len(v.Brokers) != 1 {
		t.Fatalf("brokers = %+v, want one", v.Brokers)
	}
	br := v.Brokers[0]
	if br.Addr != b.Addr || !br.Controller || br.ID != v.Controller {
		t.Errorf("broker = %+v (controller %d), want %s as controller", br, v.Controller, b.Addr)
	}
	if br.Leaders < 3 {
		t.Errorf("partitions led = %d, want >= 3 (topic disk)", br.Leaders)
	}
	if len(br.LogDirs) != 1 || br.Size < 1000 || br.LogDirsErr != "" {
		t.Errorf("log dirs = %+v size %d err %q, want one dir holding >= 1000 bytes", br.LogDirs, br.Size, br.LogDirsErr)
	}
}

func TestTopicsCreateListCountSearchDelete(t *testing.T) {
	b := samsatest.Start(t)
	srv := startConsole(t, b.Addr)
	var res actionResult
	mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: "post.office"}, &res)
	if !strings.Contains(res.Message, "3 partitions") {
		t.Errorf("create message = %q, want the broker default of 3 partitions", res.Message)
	}
	var e apiError
	mustCall(t, srv, 409, "POST", "/api/topics", createTopicRequest{Name: "post.office"}, &e)
	if !strings.Contains(e.Error, "TOPIC_ALREADY_EXISTS") {
		t.Errorf("second create error = %q, want the broker's TOPIC_ALREADY_EXISTS", e.Error)
	}
	mustCall(t, srv, 400, "POST", "/api/topics", createTopicRequest{Name: " "}, &e)
	mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: "orders", Partitions: 2}, nil)

	cl := b.Client()
	for i := range 7 {
		produce(t, cl, &kgo.Record{Topic: "post.office", Value: fmt.Appendf(nil, `{"n":%d}`, i)})
	}
	tp, ok := findTopic(t, srv, "post.office")
	if !ok || tp.Partitions != 3 || tp.RF != 1 || tp.Messages != 7 || tp.Estimate || tp.Size <= 0 {
		t.Errorf("post.office row = %+v (found %v), want 3 partitions, RF 1, 7 messages, a size", tp, ok)
	}

	var v topicsView
	mustCall(t, srv, 200, "GET", "/api/topics?q=OFF", nil, &v)
	if len(v.Topics) != 1 || v.Topics[0].Name != "post.office" {
		t.Errorf("search OFF = %+v, want only post.office", v.Topics)
	}

	mustCall(t, srv, 200, "DELETE", "/api/topics/orders", nil, &res)
	samsatest.Eventually(t, 10*time.Second, "orders gone from the list", func() bool {
		_, ok := findTopic(t, srv, "orders")
		return !ok
	})
	mustCall(t, srv, 404, "DELETE", "/api/topics/orders", nil, &e)
}

func TestInternalTopicsHiddenUnlessAsked(t *testing.T) {
	b := samsatest.Start(t, fastGroups)
	srv := startConsole(t, b.Addr)
	adm := b.Admin()
	ctx := samsatest.Context(t, 10*time.Second)
	mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: "t"}, nil)
	// A commit makes the broker create __consumer_offsets.
	if _, err := adm.CommitOffsets(ctx, "g", offsetsAt("t", 0, 1)); err != nil {
		t.Fatal(err)
	}
	var v topicsView
	mustCall(t, srv, 200, "GET", "/api/topics", nil, &v)
	for _, tp := range v.Topics {
		if tp.Internal {
			t.Errorf("internal topic %s listed without internal=1", tp.Name)
		}
	}
	if v.Hidden == 0 {
		t.Errorf("hidden internal = 0, want __consumer_offsets counted")
	}
	if tp, ok := findTopic(t, srv, "__consumer_offsets"); !ok || !tp.Internal {
		t.Errorf("__consumer_offsets with internal=1: %+v found %v", tp, ok)
	}
}

func TestSetPartitionsIncreasesAndShowsKafkasErrorOnDecrease(t *testing.T) {
	b := samsatest.Start(t)
	srv := startConsole(t, b.Addr)
	mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: "post.office"}, nil)
	mustCall(t, srv, 200, "POST", "/api/topics/post.office/partitions", partitionsRequest{Count: 5}, nil)
	if tp, _ := findTopic(t, srv, "post.office"); tp.Partitions != 5 {
		t.Fatalf("partitions after increase = %d, want 5", tp.Partitions)
	}
	var e apiError
	mustCall(t, srv, 422, "POST", "/api/topics/post.office/partitions", partitionsRequest{Count: 3}, &e)
	if !strings.Contains(e.Error, "INVALID_PARTITIONS") {
		t.Errorf("decrease error = %q, want Kafka's INVALID_PARTITIONS", e.Error)
	}
	mustCall(t, srv, 404, "POST", "/api/topics/nope/partitions", partitionsRequest{Count: 3}, &e)
	mustCall(t, srv, 400, "POST", "/api/topics/post.office/partitions", partitionsRequest{Count: 0}, &e)
}

func TestCompactedTopicCountIsAnEstimate(t *testing.T) {
	b := samsatest.Start(t)
	srv := startConsole(t, b.Addr)
	mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: "state", Partitions: 1, Configs: map[string]string{"cleanup.policy": "compact"}}, nil)
	produce(t, b.Client(), &kgo.Record{Topic: "state", Key: []byte("k"), Value: []byte("v")})
	tp, _ := findTopic(t, srv, "state")
	if !tp.Estimate || tp.Messages != 1 {
		t.Errorf("compacted row = %+v, want 1 message marked as an estimate", tp)
	}
	var v topicView
	mustCall(t, srv, 200, "GET", "/api/topics/state", nil, &v)
	if !v.Topic.Estimate {
		t.Errorf("topic view not marked as estimate")
	}
}

func TestTopicAPIPartitionsOffsetsAndConfigs(t *testing.T) {
	b := samsatest.Start(t)
	srv := startConsole(t, b.Addr)
	mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: "t", Partitions: 2, Configs: map[string]string{"retention.ms": "3600000"}}, nil)
	cl := b.Client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	produce(t, cl, &kgo.Record{Topic: "t", Partition: 1, Value: []byte("a")}, &kgo.Record{Topic: "t", Partition: 1, Value: []byte("b")})
	var v topicView
	mustCall(t, srv, 200, "GET", "/api/topics/t", nil, &v)
	if len(v.Partitions) != 2 {
		t.Fatalf("partitions = %+v, want 2", v.Partitions)
	}
	p0, p1 := v.Partitions[0], v.Partitions[1]
	if p0.Count != 0 || p1.Start != 0 || p1.End != 2 || p1.Count != 2 || len(p1.Replicas) != 1 || len(p1.ISR) != 1 || p1.Leader != p1.Replicas[0] {
		t.Errorf("partitions = %+v %+v, want p1 with offsets 0..2", p0, p1)
	}
	if v.Topic.Messages != 2 {
		t.Errorf("messages = %d, want 2", v.Topic.Messages)
	}
	found := false
	for _, c := range v.Configs {
		if c.Key == "retention.ms" {
			found = true
			if c.Value != "3600000" || c.Default {
				t.Errorf("retention.ms = %+v, want the override 3600000", c)
			}
		}
	}
	if !found || v.ConfigsErr != "" {
		t.Errorf("configs %+v (err %q) lack retention.ms", v.Configs, v.ConfigsErr)
	}
	var e apiError
	mustCall(t, srv, 404, "GET", "/api/topics/nope", nil, &e)
}

func TestReadOnlyRefusesActionsButShowsCommands(t *testing.T) {
	b := samsatest.Start(t)
	srv := startConsole(t, b.Addr, func(c *Config) { c.ReadOnly = true })
	var e apiError
	mustCall(t, srv, 403, "POST", "/api/topics", createTopicRequest{Name: "x"}, &e)
	if !strings.Contains(e.Error, "read-only") {
		t.Errorf("error = %q", e.Error)
	}
	mustCall(t, srv, 403, "DELETE", "/api/topics/x", nil, nil)
	mustCall(t, srv, 403, "POST", "/api/topics/x/messages", produceRequest{Value: "v"}, nil)
	var res actionResult
	mustCall(t, srv, 200, "POST", "/api/topics?cli=1", createTopicRequest{Name: "x", Partitions: 2}, &res)
	if !strings.HasPrefix(res.CLI, "samsa topic create x --partitions 2") {
		t.Errorf("cli = %q", res.CLI)
	}
	if _, ok := findTopic(t, srv, "x"); ok {
		t.Errorf("topic x exists: a read-only console or a CLI preview created it")
	}
	body := mustCall(t, srv, 200, "GET", "/topics", nil, nil)
	if strings.Contains(body, "Create a topic") || !strings.Contains(body, "read-only") {
		t.Errorf("read-only topics page offers the create form or lacks the badge")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"default", func(*Config) {}, true},
		{"no brokers", func(c *Config) { c.Brokers = nil }, false},
		{"broker without port", func(c *Config) { c.Brokers = []string{"localhost"} }, false},
		{"zero timeout", func(c *Config) { c.RequestTimeout = 0 }, false},
		{"scan below page", func(c *Config) { c.ScanRecords = c.MaxMessages - 1 }, false},
		{"nil logger", func(c *Config) { c.Logger = nil }, false},
	} {
		c := DefaultConfig()
		tc.mod(&c)
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestUnreachableClusterAnswers503AndPagesSaySo(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	srv := startConsole(t, addr, func(c *Config) { c.RequestTimeout = 500 * time.Millisecond })
	var e apiError
	for _, path := range []string{"/api/health", "/api/brokers", "/api/topics", "/api/groups"} {
		mustCall(t, srv, 503, "GET", path, nil, &e)
		if !e.Unreachable || !strings.Contains(e.Error, "cluster unreachable") {
			t.Errorf("%s: %+v, want unreachable", path, e)
		}
	}
	for _, path := range []string{"/brokers", "/topics", "/topics/x", "/consumers"} {
		body := mustCall(t, srv, 503, "GET", path, nil, nil)
		if !strings.Contains(body, "Cluster unreachable") || !strings.Contains(body, `data-unreachable="1"`) {
			t.Errorf("%s does not say the cluster is unreachable", path)
		}
	}
}

// waitFor polls GET path until ok says its decoded answer is right.
func waitFor[T any](t *testing.T, srv *httptest.Server, path, what string, ok func(T) bool) T {
	t.Helper()
	var v T
	samsatest.Eventually(t, 15*time.Second, what, func() bool {
		var cur T
		code, _ := call(t, srv, "GET", path, nil, &cur)
		v = cur
		return code == 200 && ok(cur)
	})
	return v
}

// ctxT is a context for one test step.
func ctxT(t *testing.T) context.Context { return samsatest.Context(t, 15*time.Second) }
