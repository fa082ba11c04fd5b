package console

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/samsatest"
)

// sseEvent is one Server-Sent Event.
type sseEvent struct{ name, data string }

// readEvents parses an event stream into ch until it ends; comments are
// skipped.
func readEvents(sc *bufio.Scanner, ch chan<- sseEvent) {
	defer close(ch)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.name != "" || ev.data != "" {
				ch <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data += strings.TrimPrefix(line, "data: ")
		}
	}
}

// openTail starts GET path and returns its events; the stream closes when
// ctx ends.
func openTail(t *testing.T, ctx context.Context, url string) (*http.Response, <-chan sseEvent) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	ch := make(chan sseEvent, 16)
	go readEvents(bufio.NewScanner(resp.Body), ch)
	return resp, ch
}

// next is the next event, failing the test after a while.
func next(t *testing.T, ch <-chan sseEvent) (sseEvent, bool) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		return ev, ok
	case <-time.After(15 * time.Second):
		t.Fatal("no event in 15 s")
		return sseEvent{}, false
	}
}

func TestTailStreamsNewRecordsOnly(t *testing.T) {
	b := samsatest.Start(t)
	srv := startConsole(t, b.Addr)
	mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: "live", Partitions: 2}, nil)
	cl := b.Client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	produce(t, cl, &kgo.Record{Topic: "live", Partition: 0, Value: []byte("old")})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, ch := openTail(t, ctx, srv.URL+"/api/topics/live/tail")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("tail: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	ev, _ := next(t, ch)
	var ready tailReady
	if ev.name != "ready" || json.Unmarshal([]byte(ev.data), &ready) != nil || len(ready.Starts) != 2 || ready.Starts[0] != 1 || ready.Starts[1] != 0 {
		t.Fatalf("first event = %+v, want ready with starts {0:1, 1:0}", ev)
	}
	produce(t, cl,
		&kgo.Record{Topic: "live", Partition: 1, Key: []byte("k"), Value: []byte(`{"n":1}`)},
		&kgo.Record{Topic: "live", Partition: 0, Value: []byte("two")})
	got := map[string]Message{}
	for len(got) < 2 {
		ev, ok := next(t, ch)
		if !ok {
			t.Fatalf("stream ended after %d records", len(got))
		}
		if ev.name != "record" {
			t.Fatalf("event %+v, want record", ev)
		}
		var m Message
		if err := json.Unmarshal([]byte(ev.data), &m); err != nil {
			t.Fatal(err)
		}
		got[m.Value] = m
	}
	if m, ok := got[`{"n":1}`]; !ok || m.Partition != 1 || m.Offset != 0 || m.Key != "k" || m.Pretty == "" {
		t.Errorf("tailed records = %+v, want {\"n\":1} at P1 offset 0 with key k", got)
	}
	if m, ok := got["two"]; !ok || m.Partition != 0 || m.Offset != 1 {
		t.Errorf("tailed records = %+v, want two at P0 offset 1 (not the old record)", got)
	}
	cancel() // the client goes away: the stream ends
	for range ch {
	}
}

func TestTailStopsAfterTailDuration(t *testing.T) {
	b := samsatest.Start(t)
	srv := startConsole(t, b.Addr, func(c *Config) { c.TailDuration = 500 * time.Millisecond })
	mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: "quiet"}, nil)
	mustCall(t, srv, 404, "GET", "/api/topics/nope/tail", nil, nil)

	_, ch := openTail(t, context.Background(), srv.URL+"/api/topics/quiet/tail")
	if ev, _ := next(t, ch); ev.name != "ready" {
		t.Fatalf("first event = %+v, want ready", ev)
	}
	ev, _ := next(t, ch)
	if ev.name != "end" || !strings.Contains(ev.data, "stops after 500ms") {
		t.Fatalf("event = %+v, want end after 500ms", ev)
	}
	if ev, ok := next(t, ch); ok {
		t.Fatalf("event after end: %+v", ev)
	}
}

func TestTailEndsWhenConsoleCloses(t *testing.T) {
	b := samsatest.Start(t)
	cfg := DefaultConfig()
	cfg.Brokers = []string{b.Addr}
	cfg.Logger = samsatest.TestLogger(t)
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	defer srv.Close()
	mustCall(t, srv, 200, "POST", "/api/topics", createTopicRequest{Name: "closing"}, nil)
	_, ch := openTail(t, context.Background(), srv.URL+"/api/topics/closing/tail")
	if ev, _ := next(t, ch); ev.name != "ready" {
		t.Fatalf("first event = %+v, want ready", ev)
	}
	c.Close()
	if ev, _ := next(t, ch); ev.name != "end" || !strings.Contains(ev.data, "closing") {
		t.Fatalf("event after Close = %+v, want end (closing)", ev)
	}
	if _, ok := next(t, ch); ok {
		t.Fatal("stream still open after end")
	}
}
